"""The emulated Azure Resource Manager: the calls AKS tooling makes, with ARM's wire shapes and errors.

Served over HTTPS on its own port (service name "arm" for the request log, faults and latency):

- ``GET /subscriptions`` and ``/subscriptions/{id}``: what the caller holds a role in, paged with ``nextLink``;
- managed clusters: list per subscription / resource group (paged), get;
- ``POST .../listClusterUserCredential`` (``format=exec|azure``, ``server-fqdn=public``),
  ``listClusterAdminCredential`` and ``listClusterMonitoringUserCredential``, answering
  ``{"kubeconfigs":[{"name","value":<base64 kubeconfig>}]}`` in AKS's shapes.

Bearer tokens are checked like ARM does (signature, ``aud`` = the ARM resource, issuer of a known tenant,
expiry); authorization comes from the world's Azure role assignments, default deny. Front-door errors use
ARM's ``{"error":{"code","message"}}`` envelope; errors raised by the AKS resource provider are flat
``{"code","message"}``, as the real service answers.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from akslogin.emulator.aks.authn import AuthFailure, SignedTokenVerifier
from akslogin.emulator.azure.armwire import READ, ArmError, Principal, _json
from akslogin.emulator.azure.authorization import AuthorizationProvider
from akslogin.emulator.azure.quota import TokenBuckets
from akslogin.emulator.azure.resourcegraph import ResourceGraph
from akslogin.emulator.azure.tenancy import Tenancy
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import AKS_CLIENT_APP_ID, FLEET_PROVIDER, Cluster, Subscription

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

ARM_AUDIENCES = (
    "https://management.core.windows.net/", "https://management.core.windows.net",
    "https://management.azure.com/", "https://management.azure.com",
)
PROVIDER = "Microsoft.ContainerService/managedClusters"
CREDENTIAL_ACTIONS = {
    "listclusterusercredential": ("clusterUser", f"{PROVIDER}/listClusterUserCredential/action"),
    "listclusteradmincredential": ("clusterAdmin", f"{PROVIDER}/listClusterAdminCredential/action"),
    "listclustermonitoringusercredential": (
        "clusterMonitoringUser", f"{PROVIDER}/listClusterMonitoringUserCredential/action"),
}
KUBELOGIN_INSTALL_HINT = (
    "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
    "To learn more, please go to https://aka.ms/aks/kubelogin\n"
)
LOCAL_ACCOUNTS_DISABLED = (
    "Getting static credential is not allowed because this cluster is set to disable local accounts. "
    "For more details, see https://learn.microsoft.com/en-us/azure/aks/manage-local-accounts-managed-azure-ad"
)
SUB = r"(?i)/subscriptions/(?P<sub>[^/]+)"
_SUB_PATH = re.compile(r"(?i)/subscriptions/([^/]+)/")
CLUSTERS = r"/providers/Microsoft\.ContainerService/managedClusters"
RG = r"/resourceGroups/(?P<rg>[^/]+)"
#: libyaml's safe dumper when PyYAML has it: a fleet of credentials is 10x cheaper to serve.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _arm_time(epoch: float) -> str:
    """ARM's error-message timestamp style, e.g. 2/2/2025 10:00:00 AM."""
    t = time.gmtime(epoch)
    hour = t.tm_hour % 12 or 12
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"


class ArmService:
    """ARM for the emulator's world. ``page_size`` sets how many items a list page holds."""

    def __init__(self, emulator: EmulatorHost) -> None:
        self.emulator = emulator
        self.world = emulator.world
        self.page_size = 20
        self._verifier = SignedTokenVerifier(emulator.issuer.jwks(), emulator.clock)
        #: ARM's request limits per subscription and principal (see quota.py).
        self.writes = TokenBuckets(200, 10)
        self.reads = TokenBuckets(250, 25)
        self.resource_graph = ResourceGraph(self)
        self.tenancy = Tenancy(self)

    # -- routing -------------------------------------------------------------------------------
    def router(self) -> Router:
        r = Router()
        # Served without sign-in, as real ARM does: az and Azure Stack tooling discover a cloud from it
        # (a trailing slash on the ARM URL makes the path //metadata/endpoints).
        r.add("GET", r"(?i)/+metadata/endpoints/?$", self.metadata_endpoints)
        r.add("GET", r"(?i)/subscriptions", self.guard(self.list_subscriptions))
        r.add("GET", SUB, self.guard(self.get_subscription))
        r.add("GET", SUB + CLUSTERS, self.guard(self.list_clusters))
        r.add("GET", SUB + RG + CLUSTERS, self.guard(self.list_clusters))
        r.add("GET", SUB + RG + CLUSTERS + r"/(?P<name>[^/]+)", self.guard(self.get_cluster))
        r.add("POST", SUB + RG + CLUSTERS + r"/(?P<name>[^/]+)/(?P<action>listCluster(?:User|Admin|MonitoringUser)"
              r"Credential)", self.guard(self.list_credential))
        r.add("POST", SUB + RG + r"/providers/Microsoft\.ContainerService/fleets/(?P<name>[^/]+)/listCredentials",
              self.guard(self.fleet_credentials))
        self.resource_graph.add_routes(r)
        self.tenancy.add_routes(r)  # GET /tenants, management groups
        AuthorizationProvider(self).add_routes(r)  # role definitions and assignments, at any scope
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            r.add(method, r"/.*", self.guard(self.not_found))
        return r

    def guard(self, handler: Callable[[Request, Principal], Response]) -> Callable[[Request], Response]:
        def run(req: Request) -> Response:
            try:
                if not req.query.get("api-version"):
                    raise ArmError(400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests.")
                principal = self._authenticate(req)
                limit = self._limit(req, principal)
                response = handler(req, principal)
            except ArmError as err:
                return err.response()
            if limit:
                response.headers.update(limit)
            return response
        return run

    def _limit(self, req: Request, principal: Principal) -> dict[str, str]:
        """ARM's per-subscription request limits: the header saying what is left, or 429 past it."""
        match = _SUB_PATH.match(req.path)
        if match is None:
            return {}
        kind, buckets = ("writes", self.writes) if req.method != "GET" else ("reads", self.reads)
        allowed, left, wait = buckets.take((match.group(1).lower(), principal.object_id, kind))
        header = {f"x-ms-ratelimit-remaining-subscription-{kind}": str(left)}
        if not allowed:
            operation = "Write" if kind == "writes" else "Read"
            raise ArmError(429, "TooManyRequests",
                           f"The request is being throttled as the limit has been reached for operation type - "
                           f"{operation}. For more information, see - https://aka.ms/armthrottling",
                           headers={**header, "Retry-After": str(max(1, int(wait + 0.999)))})
        return header

    def metadata_endpoints(self, req: Request) -> Response:
        """The cloud description ARM publishes (api-version 2022-09-01: one object), with the emulator's own
        hosts: ``az cloud register -n Emu --endpoint-resource-manager <ARM>/`` needs nothing else."""
        if not req.query.get("api-version"):
            return ArmError(400, "MissingApiVersionParameter",
                            "The api-version query parameter (?api-version=) is required for all requests.").response()
        emu = self.emulator
        arm, graph = emu.server_url("arm") + "/", emu.server_url("graph") + "/"
        return Response.json(200, {
            "name": "AksloginEmulator",
            "portal": arm,
            "resourceManager": arm,
            "authentication": {"loginEndpoint": emu.authority_host.rstrip("/") + "/",
                               "audiences": [ARM_AUDIENCES[0], ARM_AUDIENCES[2]],
                               "tenant": "common", "identityProvider": "AAD"},
            "graph": graph,
            "graphAudience": graph,
            "microsoftGraphResourceId": graph,
            "suffixes": {"keyVaultDns": "vault.emulator.invalid", "storage": "core.emulator.invalid",
                         "acrLoginServer": "azurecr.emulator.invalid"},
        })

    # -- authentication and authorization ------------------------------------------------------
    def _authenticate(self, req: Request) -> Principal:
        header = req.header("authorization")
        if not header:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.")
        claims = self._verifier.verify(token.strip())
        if isinstance(claims, AuthFailure):
            if claims.reason == "token expired":
                now = self.emulator.clock.now()
                exp = claims_exp(token)
                raise ArmError(401, "ExpiredAuthenticationToken",
                               f"The access token expiry UTC time '{_arm_time(exp)}' is earlier than current UTC "
                               f"time '{_arm_time(now)}'.", headers=_challenge("The access token expired."))
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.",
                           headers=_challenge("The access token is invalid."))
        aud = claims.get("aud")
        if aud not in ARM_AUDIENCES:
            allowed = ",".join(f"'{a}'" for a in ARM_AUDIENCES)
            raise ArmError(401, "InvalidAuthenticationTokenAudience",
                           f"The access token has been obtained for wrong audience or resource '{aud}'. It should "
                           f"exactly match with one of the allowed audiences {allowed}.")
        tid = str(claims.get("tid") or "")
        tenant = self.world.tenant(tid) if tid else None
        if tenant is None or claims.get("iss") != f"https://sts.windows.net/{tenant.id}/":
            raise ArmError(401, "InvalidAuthenticationTokenTenant",
                           f"The access token is from the wrong issuer '{claims.get('iss')}'.")
        oid = str(claims.get("oid") or "")
        groups = [str(g) for g in claims.get("groups") or []] + self.world.principal_groups(oid)
        upn = str(claims.get("upn") or "")
        return Principal(oid, tenant.id, upn or oid, frozenset({oid, *groups}),
                         client_id="" if upn else str(claims.get("appid") or claims.get("azp") or ""), upn=upn)

    def allowed(self, principal: Principal, action: str, scope: str) -> bool:
        """An assignment of the caller (or a group of it) at or above ``scope`` whose role's actions match
        ``action`` (``*`` is a wildcard, as in Azure) and whose not-actions do not."""
        for assignment in self.world.assignments_of(principal.ids):
            if not self.world.assignment_applies(assignment, scope):
                continue
            role = self.world.role(assignment.role)
            if role is None:
                continue
            if any(_action_matches(p, action) for p in role.actions) and not any(
                    _action_matches(p, action) for p in role.not_actions):
                return True
        return False

    def _has_any_role_in(self, principal: Principal, subscription_id: str) -> bool:
        """A role at the subscription, in it, or on a management group above it: what makes ARM list it."""
        prefix = f"/subscriptions/{subscription_id}".lower()
        held = self.world.assignments_of(principal.ids)
        if any((a.scope.lower() + "/").startswith(prefix + "/") for a in held):
            return True
        sub = self.world.subscription(subscription_id)
        above = {g.lower() for g in self.world.group_chain(sub)} if sub is not None else set()
        return any(a.scope.rstrip("/").lower() in above for a in held)

    def denied(self, principal: Principal, action: str, scope: str) -> ArmError:
        return ArmError(403, "AuthorizationFailed",
                        f"The client '{principal.display}' with object id '{principal.object_id}' does not have "
                        f"authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. "
                        "If access was recently granted, please refresh your credentials.")

    def _subscription(self, principal: Principal, sub_id: str) -> Subscription:
        sub = self.world.subscription(sub_id)
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found.")
        if sub.tenant_id != principal.tenant_id:
            raise ArmError(
                401, "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer 'https://sts.windows.net/{principal.tenant_id}/'. It must "
                f"match the tenant 'https://sts.windows.net/{sub.tenant_id}/' associated with this subscription. "
                f"Please use the authority (URL) 'https://login.windows.net/{sub.tenant_id}' to get the token.")
        return sub

    # -- paging --------------------------------------------------------------------------------
    def page(self, req: Request, items: Sequence[dict[str, Any]]) -> Response:
        token = req.query.get("$skiptoken", "")
        try:
            start = int(base64.urlsafe_b64decode(token.encode() + b"==").decode()) if token else 0
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ArmError(400, "InvalidSkipToken", "The skip token is invalid.") from None
        size = max(1, self.page_size)
        body: dict[str, Any] = {"value": list(items[start:start + size])}
        if start + size < len(items):
            skip = base64.urlsafe_b64encode(str(start + size).encode()).decode().rstrip("=")
            body["nextLink"] = (f"https://127.0.0.1:{req.port}{req.path}?api-version={req.query['api-version']}"
                                f"&$skiptoken={skip}")
        return _json(200, body)

    # -- handlers ------------------------------------------------------------------------------
    def list_subscriptions(self, req: Request, principal: Principal) -> Response:
        subs = [s for s in self.world.subscriptions
                if s.tenant_id == principal.tenant_id and self._has_any_role_in(principal, s.id)]
        return self.page(req, [_subscription_json(s) for s in subs])

    def get_subscription(self, req: Request, principal: Principal) -> Response:
        sub = self._subscription(principal, req.params["sub"])
        if not self._has_any_role_in(principal, sub.id):
            raise self.denied(principal, "Microsoft.Resources/subscriptions/read", f"/subscriptions/{sub.id}")
        return _json(200, _subscription_json(sub))

    def list_clusters(self, req: Request, principal: Principal) -> Response:
        sub = self._subscription(principal, req.params["sub"])
        rg = req.params.get("rg")
        clusters = [c for c in self.world.clusters_in(sub.id) if not c.arc and not c.fleet]
        scope = f"/subscriptions/{sub.id}"
        if rg is not None:
            clusters = [c for c in clusters if c.resource_group.lower() == rg.lower()]
            if not clusters:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            scope += f"/resourceGroups/{rg}"
        if not self._has_any_role_in(principal, sub.id):
            raise self.denied(principal, READ, scope)
        visible = [c for c in clusters if self.allowed(principal, READ, c.arm_id)]
        visible.sort(key=lambda c: (c.resource_group.lower(), c.arm_name.lower()))
        return self.page(req, [self.cluster_json(c) for c in visible])

    def _find_cluster(self, principal: Principal, req: Request) -> Cluster:
        sub = self._subscription(principal, req.params["sub"])
        rg, name = req.params["rg"], req.params["name"]
        in_rg = [c for c in self.world.clusters_in(sub.id)
                 if c.resource_group.lower() == rg.lower() and not c.arc and not c.fleet]
        if not in_rg:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        cluster = next((c for c in in_rg if c.arm_name.lower() == name.lower()), None)
        if cluster is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource '{PROVIDER}/{name}' under resource group '{rg}' was not found. For more "
                           "details please go to https://aka.ms/ARMResourceNotFoundFix")
        return cluster

    def get_cluster(self, req: Request, principal: Principal) -> Response:
        cluster = self._find_cluster(principal, req)
        if not self.allowed(principal, READ, cluster.arm_id):
            raise self.denied(principal, READ, cluster.arm_id)
        return _json(200, self.cluster_json(cluster))

    def list_credential(self, req: Request, principal: Principal) -> Response:
        cluster = self._find_cluster(principal, req)
        kind, action = CREDENTIAL_ACTIONS[req.params["action"].lower()]
        if not self.allowed(principal, action, cluster.arm_id):
            raise self.denied(principal, action, cluster.arm_id)
        fmt = req.query.get("format", "").lower()
        if fmt not in ("", "exec", "azure"):
            raise ArmError(400, "InvalidParameter", f"The value '{req.query['format']}' of parameter 'format' is "
                           "not valid. Allowed values are 'azure' and 'exec'.", flat=True)
        static = kind != "clusterUser" or not cluster.aad
        if static and cluster.disable_local_accounts:
            raise ArmError(400, "BadRequest", LOCAL_ACCOUNTS_DISABLED, flat=True)
        public = req.query.get("server-fqdn", "").lower() == "public"
        return _kubeconfigs(kind, self.kubeconfig(cluster, kind, fmt or "exec", public))

    def fleet_credentials(self, req: Request, principal: Principal) -> Response:
        """A Fleet Manager hub's kubeconfig (``fleets/{name}/listCredentials``), as ``az fleet get-credentials``
        receives it: a clusterUser kubeconfig of the hub, for Entra ID sign-in."""
        sub = self._subscription(principal, req.params["sub"])
        rg, name = req.params["rg"], req.params["name"]
        hub = next((c for c in self.world.clusters_in(sub.id) if c.fleet.lower() == name.lower()
                    and c.resource_group.lower() == rg.lower()), None)
        fleet_id = f"/subscriptions/{sub.id}/resourceGroups/{rg}/providers/{FLEET_PROVIDER}/{name}"
        if hub is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource '{FLEET_PROVIDER}/{name}' under resource group '{rg}' was not found. "
                           "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
        action = f"{FLEET_PROVIDER}/listCredentials/action"
        if not self.allowed(principal, action, hub.arm_id):
            raise self.denied(principal, action, fleet_id)
        return _kubeconfigs("user", self.kubeconfig(hub, "clusterUser", "exec", False))

    def not_found(self, req: Request, principal: Principal) -> Response:
        raise ArmError(404, "NotFound", f"The path '{req.path}' is not served by this (emulated) Resource Manager.")

    # -- documents -----------------------------------------------------------------------------
    def fqdns(self, cluster: Cluster) -> tuple[str, str]:
        digest = hashlib.sha256(cluster.arm_id.lower().encode()).hexdigest()[:8]
        prefix = f"{cluster.arm_name}-dns"
        return (f"{prefix}-{digest}.hcp.{cluster.location}.azmk8s.io",
                f"{cluster.arm_name}-{digest}.privatelink.{cluster.location}.azmk8s.io")

    def cluster_json(self, cluster: Cluster) -> dict[str, Any]:
        fqdn, private_fqdn = self.fqdns(cluster)
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "kubernetesVersion": cluster.kubernetes_version,
            "currentKubernetesVersion": cluster.kubernetes_version,
            "dnsPrefix": f"{cluster.arm_name}-dns",
            "fqdn": fqdn,
            "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp."),
            "enableRBAC": True,
            "disableLocalAccounts": cluster.disable_local_accounts,
            "nodeResourceGroup": f"MC_{cluster.resource_group}_{cluster.arm_name}_{cluster.location}",
        }
        if cluster.private:
            props["privateFQDN"] = private_fqdn
            props["apiServerAccessProfile"] = {"enablePrivateCluster": True}
        if cluster.aad:
            props["aadProfile"] = {"managed": True, "enableAzureRBAC": cluster.azure_rbac,
                                   "tenantID": cluster.tenant_id, "adminGroupObjectIDs": []}
        return {
            "id": cluster.arm_id, "location": cluster.location, "name": cluster.arm_name,
            "type": "Microsoft.ContainerService/ManagedClusters", "tags": dict(cluster.tags),
            "sku": {"name": "Base", "tier": "Free"}, "properties": props,
        }

    def server_url(self, cluster: Cluster, public: bool) -> str:
        """The emulated API server, named as AKS would: a private cluster's private FQDN is served as
        ``localhost`` and its public one (``server-fqdn=public``) as ``127.0.0.1`` (both are in the server
        certificate), so tests can tell them apart and both work."""
        url = self.emulator.cluster_url(cluster.name)
        return url.replace("127.0.0.1", "localhost") if cluster.private and not public else url

    def kubeconfig(self, cluster: Cluster, kind: str, fmt: str, public: bool) -> dict[str, Any]:
        """The kubeconfig AKS returns for ``kind`` (clusterUser, clusterAdmin, clusterMonitoringUser)."""
        name, rg = cluster.arm_name, cluster.resource_group
        user_name = f"{kind}_{rg}_{name}"
        user: dict[str, Any]
        ca = self.emulator.cluster_cas[cluster.name]
        if kind == "clusterUser" and cluster.aad and fmt == "azure":
            user = {"auth-provider": {"name": "azure", "config": {
                "apiserver-id": cluster.server_id, "client-id": AKS_CLIENT_APP_ID,
                "config-mode": "0" if cluster.audience == "spn" else "1",
                "environment": "AzurePublicCloud", "tenant-id": cluster.tenant_id,
            }}}
        elif kind == "clusterUser" and cluster.aad:
            user = {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", cluster.server_id,
                         "--client-id", AKS_CLIENT_APP_ID, "--tenant-id", cluster.tenant_id, "--login", "devicecode"],
                "command": "kubelogin",
                "env": None,
                "installHint": KUBELOGIN_INSTALL_HINT,
                "provideClusterInfo": False,
            }}
        elif kind == "clusterMonitoringUser":
            cred = ca.issue("clusterMonitoringUser")
            user = {"client-certificate-data": _b64(cred.cert_pem), "client-key-data": _b64(cred.key_pem)}
        else:  # admin, or the user of a cluster without Entra integration: cluster-admin by certificate
            cred = ca.issue("masterclient", ("system:masters",))
            user = {"client-certificate-data": _b64(cred.cert_pem), "client-key-data": _b64(cred.key_pem),
                    "token": cluster.admin_token}
        return {
            "apiVersion": "v1",
            "clusters": [{"cluster": {
                "certificate-authority-data": _b64(self.emulator.ca_path.read_bytes()),
                "server": self.server_url(cluster, public),
            }, "name": name}],
            "contexts": [{"context": {"cluster": name, "user": user_name}, "name": name}],
            "current-context": name,
            "kind": "Config",
            "preferences": {},
            "users": [{"name": user_name, "user": user}],
        }

    # -- control -------------------------------------------------------------------------------
    def control(self, req: Request) -> Response:
        if req.method == "POST":
            body = req.json() if req.body else {}
            if "page_size" in body:
                self.page_size = int(body["page_size"])
            if "write_quota" in body:  # [capacity, refill per second]
                self.writes.configure(*map(float, body["write_quota"]))
            if "read_quota" in body:
                self.reads.configure(*map(float, body["read_quota"]))
            if "graph_quota" in body:  # [queries, window seconds]
                queries, window = body["graph_quota"]
                self.resource_graph.quota.configure(int(queries), float(window))
            if "resource_graph" in body:
                self.resource_graph.enabled = bool(body["resource_graph"])
        return Response.json(200, {"page_size": self.page_size, "url": self.emulator.server_url("arm"),
                                   "resource_graph": self.resource_graph.enabled,
                                   "resource_graph_queries": self.resource_graph.queries})


def _kubeconfigs(name: str, config: dict[str, Any]) -> Response:
    """The credential actions' answer: ``{"kubeconfigs": [{"name", "value": <base64 YAML>}]}``."""
    value = base64.b64encode(yaml.dump(config, Dumper=_DUMPER, sort_keys=False).encode()).decode("ascii")
    return _json(200, {"kubeconfigs": [{"name": name, "value": value}]})


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _challenge(description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
                                f'error_description="{description}"'}


def claims_exp(token: str) -> float:
    """The exp claim of a token whose signature was already checked."""
    import jwt

    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return 0.0
    return float(exp) if isinstance(exp, (int, float)) else 0.0


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub.id}", "authorizationSource": "RoleBased", "managedByTenants": [],
        "subscriptionId": sub.id, "tenantId": sub.tenant_id, "displayName": sub.display_name, "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                 "spendingLimit": "Off"},
    }


def install(emulator: EmulatorHost) -> None:
    """Feature hook: serve ARM as the "arm" service and expose the knobs under ``/_emulator/arm``."""
    service = ArmService(emulator)
    emulator.arm = service
    emulator.add_server("arm", service.router())
    emulator.entra.add_route("GET", r"/_emulator/arm", service.control)
    emulator.entra.add_route("POST", r"/_emulator/arm", service.control)
