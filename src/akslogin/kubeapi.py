"""A small Kubernetes API client for diagnostics: JSON over TLS to the server of a kubeconfig cluster entry.

Trust follows the kubeconfig exactly as kubectl does: its CA (``certificate-authority[-data]``) when given,
else the system store; ``tls-server-name`` for SNI and hostname checks; ``insecure-skip-tls-verify`` only
when the kubeconfig itself sets it (callers report it). Failures become akslogin errors that say what the
API server meant: 401 is about the token, 403 about RBAC.
"""

from __future__ import annotations

import email.utils
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3

from akslogin import jsonlite
from akslogin._version import USER_AGENT
from akslogin.deadline import Watchdog, watched_pool_classes
from akslogin.errors import ConfigError, DeadlineError, NetworkError, ServiceError, TLSError
from akslogin.kubeconfig.resolved import ClusterEndpoint
from akslogin.tlstrust import system_context

#: Largest answer read from an API server (RBAC listings of big clusters are a few MiB at most).
MAX_BODY_BYTES = 32 << 20


class KubeApiError(ServiceError):
    """The API server answered with an error Status."""

    def __init__(self, message: str, hint: str | None = None, *, status: int = 0, reason: str = "",
                 server_message: str = "") -> None:
        super().__init__(message, hint)
        self.status = status
        self.reason = reason
        self.server_message = server_message


class ApiUnauthorized(KubeApiError):
    """401: the API server did not accept the credential."""


class ApiForbidden(KubeApiError):
    """403: authenticated, but RBAC (or an admission webhook) said no."""


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def server_time(self) -> float | None:
        """The API server's clock, from its Date header."""
        value = self.headers.get("date") or self.headers.get("Date")
        if not value:
            return None
        try:
            return email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None


def _ssl_context(cluster: ClusterEndpoint, client_cert: tuple[bytes, bytes] | None) -> ssl.SSLContext:
    if cluster.ca_pem:
        try:
            ctx = ssl.create_default_context(cadata=cluster.ca_pem.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError):
            raise ConfigError(f"the CA of cluster {cluster.name!r} ({cluster.ca_origin}) is not a PEM certificate.",
                              "Re-run 'akslogin get-credentials' to refresh it.") from None
    else:
        ctx = system_context()  # the OS store on macOS and Windows (a corporate CA in the Keychain counts)
    if cluster.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert is not None:
        _load_client_cert(ctx, *client_cert)
    return ctx


def _load_client_cert(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """ssl only loads key pairs from files: write them 0600 in a private directory, load, delete."""
    with tempfile.TemporaryDirectory(prefix="akslogin-") as directory:
        cert_path, key_path = os.path.join(directory, "c.pem"), os.path.join(directory, "k.pem")
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError:
            raise ConfigError("the kubeconfig's client certificate and key do not form a usable pair.") from None


def _proxy_for(url: str, cluster: ClusterEndpoint, environ: Mapping[str, str]) -> str:
    if cluster.proxy_url:
        return cluster.proxy_url
    host = urllib.parse.urlsplit(url).hostname or ""
    proxies = {k.lower(): v for k, v in environ.items() if k.lower() in ("https_proxy", "no_proxy")}
    proxy = proxies.get("https_proxy", "")
    if not proxy:
        return ""
    no_proxy = proxies.get("no_proxy", "")
    if host in ("127.0.0.1", "localhost", "::1") or any(
        host == entry or host.endswith("." + entry.lstrip(".")) or entry == "*"
        for entry in (e.strip() for e in no_proxy.split(",")) if entry
    ):
        return ""
    return proxy


class KubeClient:
    """JSON requests to one API server with one credential (bearer token and/or client certificate)."""

    def __init__(self, cluster: ClusterEndpoint, *, token: str | None = None,
                 client_cert: tuple[bytes, bytes] | None = None, timeout: float = 30.0,
                 environ: Mapping[str, str] | None = None) -> None:
        self.cluster = cluster
        parts = urllib.parse.urlsplit(cluster.server)
        if parts.scheme != "https" or not parts.hostname:
            raise ConfigError(f"the server of cluster {cluster.name!r} is {cluster.server!r}, not an https URL.",
                              "akslogin does not send credentials over plain HTTP.")
        self.base = cluster.server.rstrip("/")
        self._token = token
        if cluster.insecure_skip_tls_verify:
            # The kubeconfig's explicit choice, honoured as kubectl does, and said every time.
            sys.stderr.write(f"akslogin: warning: cluster {cluster.name!r} sets insecure-skip-tls-verify in the "
                             "kubeconfig: the API server's certificate is NOT verified and the token is sent to "
                             "whoever answers. Set certificate-authority-data instead.\n")
        ctx = _ssl_context(cluster, client_cert)
        sni = cluster.tls_server_name or None
        pool_kw: dict[str, Any] = {"ssl_context": ctx, "server_hostname": sni,
                                   "assert_hostname": False if cluster.insecure_skip_tls_verify else sni}
        if cluster.insecure_skip_tls_verify:
            pool_kw["cert_reqs"] = "CERT_NONE"
        proxy = _proxy_for(self.base, cluster, os.environ if environ is None else environ)
        tout = urllib3.Timeout(connect=timeout, read=timeout)
        self._http: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, timeout=tout, retries=False, **pool_kw) if proxy
            else urllib3.PoolManager(timeout=tout, retries=False, **pool_kw)
        )
        # Every request of this client fits in ``timeout`` from now (the command's --timeout), however slowly
        # the server sends: the watchdog shuts the sockets when it passes.
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._watchdog = Watchdog()
        self._http.pool_classes_by_scheme = watched_pool_classes(self._watchdog)
        self.last_server_time: float | None = None

    # -- transport ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        origin = self.base
        remaining = self._deadline - time.monotonic()
        if remaining <= 0 or self._watchdog.fired:
            raise self._out_of_time()
        timer = threading.Timer(remaining, self._watchdog.fire)
        timer.daemon = True
        timer.start()
        try:
            with warnings.catch_warnings():
                # insecure-skip-tls-verify comes from the kubeconfig and callers report it in their own words.
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                resp = self._http.request(method, self.base + path, body=data, headers=headers, redirect=False,
                                          preload_content=False)
                raw = resp.read(MAX_BODY_BYTES + 1)
                resp.release_conn()
            if self._watchdog.fired:  # what was read before the sockets were shut is not the whole answer
                raise self._out_of_time()
        except urllib3.exceptions.SSLError as exc:
            trust = (f"the CA in the kubeconfig ({self.cluster.ca_origin})" if self.cluster.ca_origin
                     else "the system trust store (the kubeconfig has no certificate-authority)")
            raise TLSError(
                f"the TLS certificate of the API server {origin} is not trusted by {trust} ({_reason(exc)}).",
                "Re-run 'akslogin get-credentials' to refresh certificate-authority-data; never turn on "
                "insecure-skip-tls-verify.",
            ) from None
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError):
            if self._watchdog.fired:
                raise self._out_of_time() from None
            raise NetworkError(f"the API server {origin} did not answer in time.",
                               "Check the network path (VPN, private cluster, authorized IP ranges).") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if self._watchdog.fired:
                raise self._out_of_time() from None
            raise NetworkError(f"cannot connect to the API server {origin} ({_reason(exc)}).",
                               "Check the server URL, DNS, the VPN for private clusters, and the cluster's "
                               "authorized IP ranges.") from None
        finally:
            timer.cancel()
        if len(raw) > MAX_BODY_BYTES:
            raise NetworkError(f"the API server {origin} sent an answer larger than {MAX_BODY_BYTES >> 20} MiB for "
                               f"{path.split('?')[0]}; akslogin stopped reading it.",
                               "Diagnostics read small objects (reviews, RBAC lists); check the server URL and any "
                               "proxy in between.")
        payload: Any = None
        text = raw.decode("utf-8", "replace")
        if text:
            try:
                payload = jsonlite.loads(text)
            except ValueError:
                payload = text
        response = ApiResponse(resp.status, payload, {k.lower(): v for k, v in resp.headers.items()})
        self.last_server_time = response.server_time or self.last_server_time
        return response

    def _out_of_time(self) -> DeadlineError:
        return DeadlineError(f"the time limit of {self.timeout:g}s ran out before the API server {self.base} "
                             "answered.", "Raise --timeout if the network is slow; check the VPN or proxy in between.")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON body of a successful answer; error Statuses become KubeApiError subclasses."""
        response = self.request(method, path, body)
        if response.status < 400:
            return response.body
        raise error_for(response, self.base)

    # -- the requests the diagnostics need ---------------------------------------------------------
    def self_subject_review(self) -> dict[str, Any]:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        result = self.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body)
        info = (result.get("status") or {}).get("userInfo") if isinstance(result, dict) else None
        if not isinstance(info, dict):
            raise KubeApiError("the API server's SelfSubjectReview answer has no userInfo.")
        return info

    def access_review(self, attributes: dict[str, str], non_resource: bool = False) -> dict[str, Any]:
        key = "nonResourceAttributes" if non_resource else "resourceAttributes"
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {key: {k: v for k, v in attributes.items() if v}}}
        result = self.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
        status = result.get("status") if isinstance(result, dict) else None
        return status if isinstance(status, dict) else {"allowed": False}

    def list_items(self, path: str) -> list[dict[str, Any]]:
        result = self.call("GET", path)
        items = result.get("items") if isinstance(result, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def status_message(body: Any) -> tuple[str, str]:
    """(reason, message) of a metav1.Status body, or ("", text)."""
    if isinstance(body, dict) and body.get("kind") == "Status":
        return str(body.get("reason") or ""), str(body.get("message") or "")
    return "", (body if isinstance(body, str) else json.dumps(body))[:300] if body else ""


def error_for(response: ApiResponse, origin: str) -> KubeApiError:
    reason, message = status_message(response.body)
    if response.status == 401:
        return ApiUnauthorized(
            f"the API server {origin} did not accept the token (401 Unauthorized).",
            "Check the token's audience (--server-id), tenant and expiry: run 'akslogin doctor'.",
            status=401, reason=reason or "Unauthorized", server_message=message)
    if response.status == 403:
        return ApiForbidden(f"the API server said Forbidden: {message}",
                            "Run 'akslogin explain-forbidden --message \"...\"' to see which binding is missing.",
                            status=403, reason=reason or "Forbidden", server_message=message)
    return KubeApiError(f"the API server {origin} answered HTTP {response.status}"
                        + (f" ({reason}): {message}" if reason or message else "."),
                        status=response.status, reason=reason, server_message=message)


def _reason(exc: Exception) -> str:
    from akslogin.netreason import conn_reason, tls_reason

    text = str(exc)
    if isinstance(exc, urllib3.exceptions.SSLError) or "certificate" in text.lower():
        return tls_reason(text)
    reason = conn_reason(text)
    return type(exc).__name__ if reason == "network error" else reason
