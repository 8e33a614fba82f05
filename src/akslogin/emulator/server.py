"""Starts the emulated Entra ID authority and one AKS API server per cluster, and exposes test knobs."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from akslogin.emulator.aks import azurerbac
from akslogin.emulator.aks.apiserver import build_aks_router
from akslogin.emulator.aks.arcguard import PopAuthenticator
from akslogin.emulator.aks.authn import Authenticator, AuthFailure, TokenAuthenticator, UserInfo
from akslogin.emulator.aks.clusterca import ClusterCA
from akslogin.emulator.aks.rbac import Attributes, Decision
from akslogin.emulator.azure import managed_identity
from akslogin.emulator.clock import Clock
from akslogin.emulator.entra import adfs, authorize, devicecode, federation, graph, userflows
from akslogin.emulator.entra.directory import Directory
from akslogin.emulator.entra.endpoints import EntraService
from akslogin.emulator.entra.tokens import TokenIssuer
from akslogin.emulator.net.faults import Fault, FaultPlan
from akslogin.emulator.net.httpbase import CONTROL_PREFIX, IDLE_TIMEOUT, HTTPSServer, Request, Response, Router
from akslogin.emulator.net.requestlog import DEFAULT_SIZE as DEFAULT_LOG_SIZE
from akslogin.emulator.net.requestlog import LoggedRequest, RequestLog
from akslogin.emulator.net.tlsmaterial import TLSMaterial
from akslogin.emulator.world import Cluster, World

if TYPE_CHECKING:
    from akslogin.emulator.azure.arm import ArmService


#: Feature modules that add grants, routes or servers. Each is called with the Emulator before any
#: router is built, so a new flow is one module plus one line here.
Feature = Callable[["Emulator"], None]
_S = TypeVar("_S")


def _arm_feature(emulator: Emulator) -> None:
    from akslogin.emulator.azure.arm import install

    install(emulator)


FEATURES: list[Feature] = [
    userflows.install,  # password + refresh_token grants, user tokens (the others build on it)
    devicecode.install,  # device authorization grant, v1 and v2
    authorize.install,  # sign-in page + authorization code with PKCE
    adfs.install,  # user realm, emulated ADFS (MEX, WS-Trust), SAML bearer grants
    federation.install,  # OIDC issuers for workload identity, GitHub Actions, Azure Pipelines
    managed_identity.install,  # IMDS, App Service, Arc
    _arm_feature,  # Resource Manager
    graph.install,  # a small Microsoft Graph (app id → object id, memberships)
]


class _LazyCAs(dict[str, ClusterCA]):
    """The clusters' client CAs: a served cluster's is made at start (its API server trusts it); one that only ARM
    knows (a generated estate) gets its own the first time a static credential of it is asked for."""

    def __missing__(self, name: str) -> ClusterCA:
        return self.setdefault(name, ClusterCA(name))  # atomic: two threads asking at once get one CA


class Emulator:
    """The whole emulated cloud. Use as a context manager, or ``start()``/``stop()``.

    Everything listens on 127.0.0.1 over TLS with a CA generated at start and written to
    ``<state_dir>/ca.pem``; ``<state_dir>/emulator.json`` tells other processes where things are.
    """

    #: Emulated ARM (subscriptions, managed clusters, credentials); set by the ARM feature.
    arm: ArmService

    def __init__(self, world: World, state_dir: str | Path, port: int = 0, *,
                 request_log_size: int = DEFAULT_LOG_SIZE, idle_timeout: float = IDLE_TIMEOUT) -> None:
        """``request_log_size``: entries the request log keeps (a ring); ``idle_timeout``: seconds before an
        idle connection is closed."""
        self.world = world
        self.state_dir = Path(state_dir)
        self.clock = Clock()
        self.request_log = RequestLog(request_log_size)
        self._idle_timeout = idle_timeout
        #: What a request to the control API (``/_emulator/...``) must present as ``Authorization: Bearer``:
        #: any local process can reach the port, so only whoever can read the state directory may drive it.
        self.control_token = secrets.token_urlsafe(24)
        self.faults = FaultPlan()
        self.tls = TLSMaterial.create(self.state_dir)
        self.issuer = TokenIssuer(self.clock)
        self.entra = EntraService(world, self.issuer, self.clock)
        #: Per-cluster client CA (admin and other static client certificates).
        self.cluster_cas: dict[str, ClusterCA] = _LazyCAs({c.name: ClusterCA(c.name) for c in world.clusters
                                                            if c.served})
        #: What Microsoft Graph knows (memberships, app id → object id); used by Graph and by the API servers.
        self.directory = Directory(world)
        self._extra_servers: dict[str, HTTPSServer] = {}
        self._pending_servers: list[tuple[str, Router, int, bool]] = []
        #: Feature state by name (e.g. "federation", "managed_identity"), for tests and control routes.
        self.services: dict[str, Any] = {}
        for feature in FEATURES:
            feature(self)
        router = self.entra.router()
        self._add_control_routes(router)
        self._entra_server = self._server(router, port, self._entra_observer, "entra")
        self.entra.base_url = self._entra_server.url
        self._cluster_servers: dict[str, HTTPSServer] = {}
        self._auth_outcome = threading.local()  # handler thread → who the API server saw, for the log
        jwks = self.issuer.jwks()
        for cluster in (c for c in world.clusters if c.served):
            authenticator: Authenticator = TokenAuthenticator(jwks, cluster, self.clock,
                                                    group_resolver=self.directory.member_groups)
            if cluster.arc:
                authenticator = PopAuthenticator(authenticator, cluster, self.clock)
            router = build_aks_router(cluster, authenticator, clock=self.clock, on_auth=self._record_auth,
                                      azure=self._azure_authorizer(cluster))
            self._cluster_servers[cluster.name] = self._server(
                router, cluster.port, self._aks_observer(cluster.name), f"aks:{cluster.name}",
                client_ca_pem=self.cluster_cas[cluster.name].ca_pem,
            )
        for service, extra_router, extra_port, tls in self._pending_servers:
            self._extra_servers[service] = self._server(
                extra_router, extra_port, self._service_observer(service), service, tls=tls
            )

    def add_server(self, service: str, router: Router, port: int = 0, tls: bool = True) -> None:
        """Serve ``router`` as ``service`` (e.g. "arm", "imds") on its own port; call from a Feature."""
        self._pending_servers.append((service, router, port, tls))

    def service(self, key: str, kind: type[_S]) -> _S:
        """A feature module's state (see ``services``), checked to be of the expected type."""
        state = self.services[key]
        if not isinstance(state, kind):
            raise TypeError(f"emulator service {key!r} is a {type(state).__name__}, not {kind.__name__}")
        return state

    def server_url(self, service: str) -> str:
        return self._extra_servers[service].url

    def services_urls(self) -> dict[str, str]:
        """Every service beside the authority by its one name (``arm``, ``graph``, ``imds:<host>``, ...), as
        both emulator.json and ``akslogin emulator -o json`` list them."""
        return {name: server.url for name, server in self._extra_servers.items()}

    def _server(self, router: Router, port: int, observer: Any, service: str, tls: bool = True,
                client_ca_pem: str | None = None) -> HTTPSServer:
        return HTTPSServer(
            router, str(self.tls.server_cert_path), str(self.tls.server_key_path), port=port, observer=observer,
            service=service, faults=self.faults, tls=tls, client_ca_pem=client_ca_pem, clock=self.clock.now,
            gauge=self.request_log, control_token=self.control_token if service == "entra" else None,
            idle_timeout=self._idle_timeout,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Emulator:
        for server in (self._entra_server, *self._cluster_servers.values(), *self._extra_servers.values()):
            server.start()
        self._write_state()
        return self

    def stop(self) -> None:
        # Each server's loop notices a shutdown within its 0.5 s poll; stop them all at once, not one by one.
        servers = (self._entra_server, *self._cluster_servers.values(), *self._extra_servers.values())
        stoppers = [threading.Thread(target=server.stop, daemon=True) for server in servers]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- where things are ------------------------------------------------------------------------
    @property
    def authority_host(self) -> str:
        """The value for ``--authority-host`` / ``AZURE_AUTHORITY_HOST`` (with the trailing slash)."""
        return self._entra_server.url + "/"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    def _azure_authorizer(self, cluster: Cluster) -> Callable[[UserInfo, Attributes], Decision]:
        """Azure's decision on ``cluster`` for the caller's object id and group ids, on the emulator's clock."""
        def decide(user: UserInfo, attrs: Attributes) -> Decision:
            ids = frozenset({user.uid, *user.groups} - {""})
            return azurerbac.authorize(self.world, cluster, ids, attrs, self.clock.now())
        return decide

    def cluster_url(self, name: str) -> str:
        server = self._cluster_servers.get(name)
        if server is not None:
            return server.url
        cluster = self.world.cluster(name)  # known to ARM only: named by the FQDN AKS would give it
        return f"https://{self.arm.fqdns(cluster)[0]}:443"

    def kubeconfig_cluster(self, name: str) -> dict[str, Any]:
        """A kubeconfig ``clusters[]`` entry for cluster ``name``, CA embedded as AKS does."""
        ca_data = base64.b64encode(self.tls.ca_path.read_bytes()).decode("ascii")
        return {"name": name, "cluster": {"server": self.cluster_url(name), "certificate-authority-data": ca_data}}

    def _write_state(self) -> None:
        state = {
            "authority_host": self.authority_host,
            "ca": str(self.ca_path),
            "control": self._entra_server.url + CONTROL_PREFIX,
            "clusters": {
                c.name: {"server": self.cluster_url(c.name), "tenant_id": c.tenant_id, "server_id": c.server_id}
                for c in self.world.clusters if c.served
            },
            "services": self.services_urls(),
            "control_token": self.control_token,
            "pid": os.getpid(),
        }
        _write_private(self.state_dir / "control-token", self.control_token + "\n")
        _write_private(self.state_dir / "emulator.json", json.dumps(state, indent=2) + "\n")

    # -- request log -----------------------------------------------------------------------------
    def _entra_observer(self, req: Request, resp: Response) -> None:
        if req.path.startswith(CONTROL_PREFIX):
            return
        grant_type = client_id = None
        extra: dict[str, str] = {}
        if req.method == "POST" and req.path.endswith(("/token", "/devicecode")):
            form = req.form()
            grant_type = form.get("grant_type")
            client_id = form.get("client_id")
            # The PoP binding is public (a key's thumbprint), so tests may read it.
            extra = {k: form[k] for k in ("token_type", "req_cnf") if form.get(k)}
        self.request_log.add(LoggedRequest(
            service="entra", method=req.method, path=req.path, status=resp.status,
            grant_type=grant_type, client_id=client_id, error_code=_error_code(resp), extra=extra,
            received=req.received, answered=time.monotonic(),
        ))

    def _service_observer(self, service: str) -> Any:
        def observe(req: Request, resp: Response) -> None:
            self.request_log.add(LoggedRequest(service=service, method=req.method, path=req.path,
                                               status=resp.status, received=req.received,
                                               answered=time.monotonic()))
        return observe

    def _record_auth(self, req: Request, outcome: UserInfo | AuthFailure) -> None:
        self._auth_outcome.value = outcome

    def _aks_observer(self, cluster: str) -> Any:
        def observe(req: Request, resp: Response) -> None:
            outcome = getattr(self._auth_outcome, "value", None)
            self._auth_outcome.value = None
            user = outcome.username if isinstance(outcome, UserInfo) else None
            extra = {"auth_failure": outcome.reason} if isinstance(outcome, AuthFailure) else {}
            self.request_log.add(LoggedRequest(
                service=f"aks:{cluster}", method=req.method, path=req.path, status=resp.status, user=user,
                extra=extra, received=req.received, answered=time.monotonic(),
            ))
        return observe

    # -- control API (for other processes: the demo, manual testing) ------------------------------
    def _add_control_routes(self, router: Router) -> None:
        def requests(req: Request) -> Response:
            return Response.json(200, [e.to_json() for e in self.request_log.entries()])

        def reset(req: Request) -> Response:
            self.request_log.reset()
            return Response.json(200, {"ok": True})

        def concurrency(req: Request) -> Response:
            return Response.json(200, self.request_log.concurrency())

        def clock(req: Request) -> Response:
            if req.method == "POST":
                body = req.json() if req.body else {}
                if "advance" in body:
                    self.clock.advance(float(body["advance"]))
                elif "set" in body:
                    self.clock.set(float(body["set"]))
                else:
                    self.clock.reset()
            return Response.json(200, {"now": self.clock.now(), "offset": self.clock.offset})

        def settings(req: Request) -> Response:
            known = {f.name for f in dataclasses.fields(self.entra.settings)}
            if req.method == "POST":
                body = req.json() if req.body else {}
                unknown = sorted(set(body) - known)
                if unknown:
                    return Response.json(400, {"error": f"unknown settings: {', '.join(unknown)}"})
                for name, value in body.items():
                    setattr(self.entra.settings, name, value)
            return Response.json(200, dataclasses.asdict(self.entra.settings))

        def faults(req: Request) -> Response:
            if req.method == "DELETE":
                self.faults.clear()
            elif req.method == "POST":
                body = req.json() if req.body else {}
                for service, seconds in (body.get("latency") or {}).items():
                    self.faults.set_latency(str(service), float(seconds))
                for spec in body.get("faults") or []:
                    try:
                        self.faults.add(Fault(**spec))
                    except (TypeError, ValueError) as exc:
                        return Response.json(400, {"error": str(exc)})
            return Response.json(200, {
                "latency": self.faults.latency,
                "faults": [{"service": f.service, "path": f.path, "kind": f.kind, "times": f.times}
                           for f in self.faults.faults],
            })

        router.add("GET", CONTROL_PREFIX + "/faults", faults)
        router.add("POST", CONTROL_PREFIX + "/faults", faults)
        router.add("DELETE", CONTROL_PREFIX + "/faults", faults)
        router.add("GET", CONTROL_PREFIX + "/requests", requests)
        router.add("POST", CONTROL_PREFIX + "/requests/reset", reset)
        router.add("GET", CONTROL_PREFIX + "/requests/concurrency", concurrency)
        router.add("GET", CONTROL_PREFIX + "/clock", clock)
        router.add("POST", CONTROL_PREFIX + "/clock", clock)
        router.add("GET", CONTROL_PREFIX + "/settings", settings)
        router.add("POST", CONTROL_PREFIX + "/settings", settings)


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only (it holds the control token)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _error_code(resp: Response) -> int | None:
    if resp.status < 400 or not resp.body.startswith(b"{"):
        return None
    try:
        codes = json.loads(resp.body).get("error_codes")
    except ValueError:
        return None
    return int(codes[0]) if isinstance(codes, list) and codes else None
