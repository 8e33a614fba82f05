"""The few Azure Resource Manager calls akslogin makes: subscriptions, managed clusters, their credentials.

One client per run, sharing one HttpClient (TLS trust, timeouts) and one ARM token. Every call here is
idempotent, including the ``list*Credential`` POST actions, so 429 (honouring Retry-After), 5xx and dropped
connections are retried a bounded number of times with exponential backoff and jitter. ARM answers errors in
two shapes: the front door's envelope ``{"error":{"code","message"}}`` and the AKS resource provider's flat
``{"code","message"}``; both are read, and each becomes one actionable paragraph.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from akslogin import jsonlite
from akslogin.aadsts import clean
from akslogin.errors import NetworkError, ServiceError, TLSError
from akslogin.http import HttpClient
from akslogin.log import Log
from akslogin.retry import RETRY_STATUSES, RetryPolicy

API_SUBSCRIPTIONS = "2022-12-01"
API_AKS = "2025-07-01"
API_AUTHORIZATION = "2022-04-01"
API_RESOURCE_GRAPH = "2022-10-01"
API_MANAGEMENT_GROUPS = "2020-05-01"
API_FLEET = "2025-03-01"
AUTHORIZATION = "providers/Microsoft.Authorization"
PROVIDER = "Microsoft.ContainerService/managedClusters"
MAX_PAGES = 1000
#: 429 answers one request may take (each waited out, within --timeout) before it is reported.
MAX_THROTTLED = 40

#: credential kind → (ARM action, the built-in role that grants it)
CREDENTIAL_KINDS: dict[str, tuple[str, str]] = {
    "user": ("listClusterUserCredential", "Azure Kubernetes Service Cluster User Role"),
    "admin": ("listClusterAdminCredential", "Azure Kubernetes Service Cluster Admin Role"),
    "monitoring": ("listClusterMonitoringUserCredential", "Azure Kubernetes Service Cluster Monitoring User"),
}


@dataclass(frozen=True)
class Subscription:
    id: str
    display_name: str
    tenant_id: str
    state: str


@dataclass(frozen=True)
class ManagedCluster:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    fqdn: str
    private_fqdn: str
    aad: bool
    disable_local_accounts: bool
    provisioning_state: str
    #: Azure RBAC for Kubernetes (aadProfile.enableAzureRBAC): Azure role assignments authorize first.
    azure_rbac: bool = False
    #: The Entra tenant its users sign in to (aadProfile.tenantID), and where ARM reported it from.
    tenant_id: str = ""
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Tenant:
    id: str
    display_name: str
    default_domain: str


@dataclass(frozen=True)
class Answer:
    """An ARM answer's body and the headers a caller paces itself by (quota headers, lower-cased names)."""

    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class Kubeconfig:
    """One entry of a ``list*Credential`` answer: its name and the decoded kubeconfig text."""

    name: str
    text: str


class ArmError(ServiceError):
    """ARM answered with an error (after retries, where retrying made sense)."""

    def __init__(self, message: str, hint: str | None, status: int, code: str) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code

    @property
    def short(self) -> str:
        """One line for a summary table."""
        return f"HTTP {self.status} {self.code}"


def parse_arm_id(resource_id: str) -> dict[str, str]:
    """``/subscriptions/S/resourceGroups/R/providers/P/T/N`` → {"subscriptions": S, "resourcegroups": R, ...}
    (keys lower-cased: ARM ids are case-insensitive and list results vary in casing)."""
    parts = [p for p in resource_id.split("/") if p]
    return {parts[i].lower(): parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def cluster_from_json(item: dict[str, Any]) -> ManagedCluster:
    props = item.get("properties")
    props = props if isinstance(props, dict) else {}
    aad, tags = props.get("aadProfile"), item.get("tags")
    ids = parse_arm_id(str(item.get("id", "")))
    return ManagedCluster(
        id=str(item.get("id", "")),
        name=str(item.get("name", "")),
        subscription_id=ids.get("subscriptions", ""),
        resource_group=ids.get("resourcegroups", ""),
        location=str(item.get("location", "")),
        fqdn=str(props.get("fqdn") or ""),
        private_fqdn=str(props.get("privateFQDN") or ""),
        aad=bool(props.get("aadProfile")),
        disable_local_accounts=bool(props.get("disableLocalAccounts")),
        provisioning_state=str(props.get("provisioningState") or ""),
        azure_rbac=isinstance(aad, dict) and aad.get("enableAzureRBAC") is True,
        tenant_id=str((aad.get("tenantID") if isinstance(aad, dict) else "") or item.get("tenantId") or ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())) if isinstance(tags, dict) else (),
    )


def kubeconfigs_from_json(body: dict[str, Any], name: str) -> list[Kubeconfig]:
    """The ``{kubeconfigs: [{name, value(base64)}]}`` answer of the credential actions, decoded and checked."""
    entries = body.get("kubeconfigs")
    results = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            text = base64.b64decode(str(entry.get("value", "")), validate=True).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ArmError(f"ARM returned a credential for {name} that is not base64 text.", None, 200,
                           "InvalidCredential") from None
        results.append(Kubeconfig(str(entry.get("name", "")), text))
    if not results:
        raise ArmError(f"ARM returned no kubeconfig for cluster {name}.", None, 200, "NoCredentials")
    return results


class WritePacer:
    """ARM's write budget per subscription, as its answers report it (``x-ms-ratelimit-remaining-subscription-
    writes``): when a subscription is nearly out, the next credential request there waits a moment for the bucket
    to refill instead of being answered 429. Spreading the requests over subscriptions is the caller's part."""

    RESERVE = 2
    PAUSE = 1.0  # ARM refills writes at about 10 a second: a second gives the bucket room again

    def __init__(self) -> None:
        self._left: dict[str, int] = {}
        self._lock = threading.Lock()
        self.paused = 0

    def saw(self, url: str, headers: Any) -> None:
        value = headers.get("x-ms-ratelimit-remaining-subscription-writes")
        sub = _subscription_of(url)
        if sub and value is not None and str(value).strip().isdigit():
            with self._lock:
                self._left[sub] = int(str(value).strip())

    def before_write(self, subscription: str) -> float:
        """Seconds to wait before writing in ``subscription`` (0 when its budget is unknown or ample)."""
        with self._lock:
            left = self._left.get(subscription.lower())
            if left is None or left > self.RESERVE:
                if left is not None:
                    self._left[subscription.lower()] = left - 1  # this request's share, until ARM says again
                return 0.0
            self._left.pop(subscription.lower(), None)
            self.paused += 1
            return self.PAUSE


def _subscription_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url).path.split("/")
    lowered = [p.lower() for p in parts]
    if "subscriptions" in lowered:
        i = lowered.index("subscriptions")
        if i + 1 < len(parts):
            return urllib.parse.unquote(parts[i + 1]).lower()
    return ""


class ArmClient:
    def __init__(
        self,
        http: HttpClient,
        endpoint: str,
        token: str,
        log: Log,
        *,
        max_attempts: int = 5,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.http = http
        self.endpoint = endpoint.rstrip("/") + "/"
        self._origin = _origin(self.endpoint)
        self._token = token
        self.log = log
        self.max_attempts = max(1, max_attempts)
        #: ARM's own retries (HttpClient is given attempts=1): a longer cap, since --all runs for minutes.
        self.retry = RetryPolicy(attempts=self.max_attempts, base=0.5, cap=8.0, max_retry_after=max_retry_after,
                                 sleep=sleep, jitter=jitter)
        self.pacer = WritePacer()

    # -- calls ---------------------------------------------------------------------------------
    def list_subscriptions(self) -> list[Subscription]:
        return [
            Subscription(str(s.get("subscriptionId", "")), str(s.get("displayName", "")),
                         str(s.get("tenantId", "")), str(s.get("state", "")))
            for s in self._paged("subscriptions", API_SUBSCRIPTIONS, "list subscriptions")
        ]

    def list_clusters(self, subscription: str, resource_group: str | None = None) -> list[ManagedCluster]:
        path = f"subscriptions/{_q(subscription)}"
        if resource_group:
            path += f"/resourceGroups/{_q(resource_group)}"
        what = f"list the AKS clusters of subscription {subscription}"
        return [cluster_from_json(c) for c in self._paged(f"{path}/providers/{PROVIDER}", API_AKS, what)]

    def get_cluster(self, subscription: str, resource_group: str, name: str) -> ManagedCluster:
        path = self._cluster_path(subscription, resource_group, name)
        return cluster_from_json(self._call("GET", path, {"api-version": API_AKS}, f"read cluster {name}"))

    def credentials(self, subscription: str, resource_group: str, name: str, kind: str = "user",
                    fmt: str | None = None, public_fqdn: bool = False) -> list[Kubeconfig]:
        """The kubeconfigs of ``list{User,Admin,MonitoringUser}Credential``, decoded."""
        action, _ = CREDENTIAL_KINDS[kind]
        params = {"api-version": API_AKS}
        if fmt:
            params["format"] = fmt
        if public_fqdn:
            params["server-fqdn"] = "public"
        what = f"{action} on cluster {name} (resource group {resource_group}, subscription {subscription})"
        pause = self.pacer.before_write(subscription)
        if pause and self.fits(pause):
            self.log(1, f"ARM: subscription {subscription} is nearly out of write requests; pausing {pause:g}s")
            self.retry.sleep(pause)
        body = self._call("POST", self._cluster_path(subscription, resource_group, name) + f"/{action}", params,
                          what)
        return kubeconfigs_from_json(body, name)

    def list_tenants(self) -> list[Tenant]:
        return [Tenant(str(t.get("tenantId", "")), str(t.get("displayName") or ""), str(t.get("defaultDomain") or ""))
                for t in self._paged("tenants", API_SUBSCRIPTIONS, "list tenants") if t.get("tenantId")]

    def management_group_subscriptions(self, group: str) -> list[Subscription]:
        """The subscriptions anywhere beneath management group ``group``."""
        what = f"list what is beneath management group {group}"
        path = f"providers/Microsoft.Management/managementGroups/{_q(group)}/descendants"
        return [Subscription(str(d.get("name", "")), str((d.get("properties") or {}).get("displayName") or ""), "",
                             "")
                for d in self._paged(path, API_MANAGEMENT_GROUPS, what)
                if str(d.get("type", "")).lower().endswith("/subscriptions")]

    def resource_graph(self, body: dict[str, Any], what: str) -> Answer:
        """One Resource Graph query (POST, read-only: retried like a read)."""
        return self._exchange("POST", "providers/Microsoft.ResourceGraph/resources",
                              {"api-version": API_RESOURCE_GRAPH}, what, body=body)

    def fleet_credentials(self, subscription: str, resource_group: str, name: str) -> list[Kubeconfig]:
        """A Fleet Manager hub's kubeconfig (``fleets/{name}/listCredentials``), decoded."""
        path = (f"subscriptions/{_q(subscription)}/resourceGroups/{_q(resource_group)}/providers/"
                f"Microsoft.ContainerService/fleets/{_q(name)}/listCredentials")
        what = f"listCredentials on fleet {name} (resource group {resource_group}, subscription {subscription})"
        return kubeconfigs_from_json(self._call("POST", path, {"api-version": API_FLEET}, what), name)

    def role_definition_id(self, scope: str, role_name: str) -> str:
        """The id of the role named ``role_name`` (as az resolves ``--role``), or "" when there is none."""
        path = f"{_scope_path(scope)}/{AUTHORIZATION}/roleDefinitions"
        body = self._call("GET", path, {"api-version": API_AUTHORIZATION, "$filter": f"roleName eq '{role_name}'"},
                          f"find role {role_name!r}")
        values = body.get("value")
        found = values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else {}
        return str(found.get("id") or "")

    def create_role_assignment(self, scope: str, name: str, role_definition_id: str, principal_id: str,
                               principal_type: str) -> dict[str, Any]:
        """PUT one role assignment (``name`` is a GUID the caller picks: a retried PUT is the same one)."""
        path = f"{_scope_path(scope)}/{AUTHORIZATION}/roleAssignments/{_q(name)}"
        body = {"properties": {"roleDefinitionId": role_definition_id, "principalId": principal_id,
                               "principalType": principal_type}}
        return self._call("PUT", path, {"api-version": API_AUTHORIZATION}, f"assign a role at {scope}", body=body)

    def role_assignments_for(self, scope: str, principal_id: str) -> list[dict[str, Any]]:
        """The role assignments of ``principal_id`` (and of its groups) at, above and below ``scope``."""
        path = f"{_scope_path(scope)}/{AUTHORIZATION}/roleAssignments"
        return list(self._paged(path, API_AUTHORIZATION, f"list the role assignments at {scope}",
                                {"$filter": f"assignedTo('{principal_id}')"}))

    @staticmethod
    def _cluster_path(subscription: str, resource_group: str, name: str) -> str:
        return (f"subscriptions/{_q(subscription)}/resourceGroups/{_q(resource_group)}/providers/{PROVIDER}/"
                f"{_q(name)}")

    # -- transport -----------------------------------------------------------------------------
    def _paged(self, path: str, api_version: str, what: str, extra: dict[str, str] | None = None
               ) -> Iterator[dict[str, Any]]:
        url: str | None = self.endpoint + path
        params: dict[str, str] | None = {"api-version": api_version, **(extra or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if url is None:
                return
            body = self._call("GET", url, params, what)
            items = body.get("value")
            if not isinstance(items, list):
                raise ArmError(f"ARM's answer to '{what}' has no 'value' list.", None, 200, "InvalidResponse")
            yield from (i for i in items if isinstance(i, dict))
            next_link = body.get("nextLink")
            if not next_link:
                return
            next_link = str(next_link)
            if _origin(next_link) != self._origin:
                # Never send the bearer token anywhere but the ARM endpoint we were given.
                raise ArmError(f"ARM's nextLink for '{what}' points at another host ({_origin(next_link)}).",
                               "Refusing to follow it with your token.", 200, "InvalidNextLink")
            if next_link in seen:
                raise ArmError(f"ARM's paging for '{what}' loops.", None, 200, "InvalidNextLink")
            seen.add(next_link)
            url, params = next_link, None
        raise ArmError(f"ARM's answer to '{what}' has more than {MAX_PAGES} pages.", None, 200, "TooManyPages")

    def _call(self, method: str, path_or_url: str, params: dict[str, str] | None, what: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._exchange(method, path_or_url, params, what, body).body

    def _exchange(self, method: str, path_or_url: str, params: dict[str, str] | None, what: str,
                  body: dict[str, Any] | None = None) -> Answer:
        url = path_or_url if path_or_url.startswith("https://") else self.endpoint + path_or_url
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        failures = throttled = 0
        while True:
            try:
                response = (self.http.request(method, url, params=params, headers=headers) if body is None else
                            self.http.request(method, url, params=params, headers=headers, json=body))
            except TLSError:
                raise
            except NetworkError as exc:
                failures += 1
                if failures >= self.max_attempts or not _transient(exc):
                    raise
                delay = self.retry.backoff(failures + throttled)  # the wait grows with every try so far
                if not self.fits(delay):
                    raise
                self.log(1, f"ARM: {exc.message} ({what}); retry {failures + throttled} in {delay:.1f}s")
                self.retry.sleep(delay)
                continue
            if response.status_code in RETRY_STATUSES:
                # Throttling is expected at scale: a 429 is retried for as long as --timeout allows (bounded);
                # server errors and dropped connections a few times.
                if response.status_code == 429:
                    throttled += 1
                    last = throttled >= MAX_THROTTLED
                else:
                    failures += 1
                    last = failures >= self.max_attempts
                attempt = failures + throttled
                if not last:
                    delay = self.retry.backoff(attempt, response.headers.get("Retry-After"))
                    if self.fits(delay):
                        self.log(1, f"ARM answered HTTP {response.status_code} to {what}; retry {attempt} in "
                                    f"{delay:.1f}s")
                        self.retry.sleep(delay)
                        continue
                    raise describe_error(response, what, self.endpoint, out_of_time=self.http.timeout)
            if response.status_code >= 400:
                raise describe_error(response, what, self.endpoint)
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise ArmError(f"ARM's answer to '{what}' is not a JSON object (HTTP {response.status_code}).",
                               "Check --arm-endpoint: it must be the Resource Manager URL.", response.status_code,
                               "InvalidResponse")
            self.pacer.saw(url, response.headers)
            return Answer(body, {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-ms-")})


    def fits(self, delay: float) -> bool:
        """Whether waiting ``delay`` seconds and trying once more still fits in the run's --timeout."""
        return delay + 0.5 < self.http.remaining()


def _scope_path(scope: str) -> str:
    """An ARM scope (``/subscriptions/.../namespaces/dev``) as a path under the endpoint, each segment quoted."""
    return "/".join(_q(part) for part in scope.strip("/").split("/"))


def _q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _transient(exc: NetworkError) -> bool:
    """Dropped connections and timeouts are worth retrying; refused connections and unknown hosts are not."""
    return "reset" in exc.message or "did not answer" in exc.message


def _error_fields(response: requests.Response) -> tuple[str, str]:
    try:
        body = jsonlite.loads(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        envelope = body.get("error")
        inner: dict[str, Any] = envelope if isinstance(envelope, dict) else body  # or AKS's flat shape
        code, message = inner.get("code"), inner.get("message")
        if isinstance(code, str) and code:
            return clean(code, 80), clean(str(message or ""), 600)
    return f"HTTP{response.status_code}", ""


def describe_error(response: requests.Response, what: str, endpoint: str, *,
                   out_of_time: float | None = None) -> ArmError:
    """One paragraph for an ARM error: what failed, ARM's own words, and what to do. ``out_of_time``: the
    --timeout that left no room to wait and retry (the answer was retryable)."""
    status = response.status_code
    code, message = _error_fields(response)
    said = f": {code}: {message}" if message else f" (HTTP {status} {code})"
    text = f"ARM refused to {what}{said}"
    if not text.endswith("."):
        text += "."
    if out_of_time is not None:
        asked = response.headers.get("Retry-After")
        wait = f" (it asked to wait {asked[:20]}s)" if asked else ""
        return ArmError(f"{text} Waiting to retry{wait} would pass the time limit of {out_of_time:g}s.",
                        "Retry later, or raise --timeout for long runs such as --all.", status, code)
    hint: str | None
    lowered = message.lower()
    if status == 400 and "disable local accounts" in lowered:
        return ArmError(
            f"the cluster has local accounts disabled, so it issues no admin or other static (certificate) "
            f"credentials ({what}).",
            "Drop --admin (or --user clusterMonitoringUser) and use your Entra ID identity: the cluster user "
            "credential plus a Kubernetes role for you (a RoleBinding, or Azure RBAC for Kubernetes).",
            status, code)
    if code == "AuthorizationFailed":
        role = next((r for a, r in CREDENTIAL_KINDS.values() if a.lower() in message.lower()), "Reader")
        hint = (f"Ask for the '{role}' role (or one that includes the action) on the cluster, its resource group "
                "or subscription; new assignments can take a few minutes to apply.")
    elif code in ("ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "NotFound"):
        hint = "Check --subscription, --resource-group and --name (and that you signed in to the right tenant)."
    elif code == "InvalidAuthenticationTokenTenant":
        hint = "Sign in to the subscription's own tenant: pass its --tenant-id."
    elif code in ("ExpiredAuthenticationToken", "InvalidAuthenticationToken", "AuthenticationFailed",
                  "InvalidAuthenticationTokenAudience"):
        hint = ("The Resource Manager token was rejected; check the machine's clock, then run 'akslogin logout' "
                "with the same sign-in flags and retry.")
    elif status == 429:
        hint = "Resource Manager kept throttling; wait a minute, or lower --max-concurrency."
    elif status >= 500:
        hint = "Resource Manager had a server error; this is usually temporary, retry in a moment."
    elif not message:
        hint = f"Check --arm-endpoint ({endpoint}): it must be the Resource Manager URL."
    else:
        hint = None
    return ArmError(text, hint, status, code)
