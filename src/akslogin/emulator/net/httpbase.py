"""A small threaded HTTPS server with a route table, shared by the emulated Entra ID and API servers."""

from __future__ import annotations

import email.utils
import hmac
import json
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from akslogin.emulator.net.faults import Fault, FaultPlan

MAX_BODY = 1 << 20
#: Requests under this path are the emulator's control API (test knobs), never part of an emulated service.
CONTROL_PREFIX = "/_emulator"
#: Seconds a connection may sit idle (or stall mid-request) before the server closes it and frees its thread.
IDLE_TIMEOUT = 30.0


@dataclass
class Request:
    """A parsed request handed to route handlers."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern
    port: int = 0
    #: Verified TLS client certificate as (common name, organizations), when the server asks for one.
    client_cert: tuple[str, tuple[str, ...]] | None = None
    #: time.monotonic() when the request had been read (before any injected latency).
    received: float = 0.0

    def form(self) -> dict[str, str]:
        """Form fields; a repeated field keeps its first value, as ESTS does."""
        parsed = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        hdrs = {"Content-Type": "application/json; charset=utf-8"}
        hdrs.update(headers or {})
        return cls(status, json.dumps(payload).encode("utf-8"), hdrs)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type})


Handler = Callable[[Request], Response]
#: Called after each request with (request, response); used for the request log.
Observer = Callable[[Request, Response], None]


class Gauge(Protocol):
    """Counts requests being handled per service (see :class:`akslogin.emulator.requestlog.RequestLog`)."""

    def begin(self, service: str) -> None: ...

    def end(self, service: str) -> None: ...


class Router:
    """Ordered (method, regex) → handler table; the first match wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"\Z"), handler))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            if method != request.method:
                allowed = True
                continue
            request.params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items() if v is not None}
            return handler(request)
        if allowed:
            return Response.json(405, {"error": "method_not_allowed"})
        return Response.json(404, {"error": "not_found", "path": request.path})


#: ARM's error codes for the statuses a status fault usually injects (its front door's envelope).
ARM_FAULT_CODES = {429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
                   504: "GatewayTimeout"}


def _fault_response(fault: Fault, service: str = "") -> Response:
    if fault.kind == "redirect":
        status = fault.status if 300 <= fault.status < 400 else 307
        return Response(status, b"", {"Location": fault.location})
    if fault.kind == "raw":
        return Response(fault.status, fault.body.encode("utf-8"), {"Content-Type": "application/json"})
    if fault.kind == "html":
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return Response(fault.status if fault.status >= 400 else 502, page.encode(),
                        {"Content-Type": "text/html"})
    if fault.kind == "not_json":
        return Response(200, b"this is not json", {"Content-Type": "application/json"})
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if service == "arm":  # ARM answers in its own envelope, e.g. throttling: 429 TooManyRequests
        code = ARM_FAULT_CODES.get(fault.status, f"HTTP{fault.status}")
        return Response.json(fault.status, {"error": {"code": code, "message": f"injected fault: HTTP {fault.status}"}},
                             headers)
    return Response.json(fault.status, {"error": "temporarily_unavailable",
                                        "error_description": f"injected fault: HTTP {fault.status}"}, headers)


def _patched(response: Response, patch: dict[str, Any]) -> Response:
    """``response`` with the fields of ``patch`` laid over its JSON body (a value of None removes a field)."""
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        return response
    if isinstance(data, dict):
        for key, value in patch.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
    return Response.json(response.status, data, {k: v for k, v in response.headers.items()
                                                 if k.lower() not in ("content-type", "content-length")})


def _peer_identity(sock: Any) -> tuple[str, tuple[str, ...]] | None:
    """(CN, Os) of a verified client certificate, or None when the client sent none."""
    getpeercert = getattr(sock, "getpeercert", None)
    cert = getpeercert() if getpeercert is not None else None
    if not cert:
        return None
    cn, orgs = "", []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return cn, tuple(orgs)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up or reject our certificate are normal in tests; don't print tracebacks."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class HTTPSServer:
    """Serves a Router over TLS on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        router: Router,
        cert_file: str,
        key_file: str,
        port: int = 0,
        host: str = "127.0.0.1",
        observer: Observer | None = None,
        tls: bool = True,
        service: str = "",
        faults: FaultPlan | None = None,
        client_ca_pem: str | None = None,
        clock: Callable[[], float] | None = None,
        gauge: Gauge | None = None,
        control_token: str | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.router = router
        #: Requests under CONTROL_PREFIX must carry it (None: this server has no control routes to guard).
        self.control_token = control_token
        self.observer = observer
        self.service = service
        self.faults = faults
        #: Told when a request starts and stops being handled (the request log's in-flight counters).
        self.gauge = gauge
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms ACK stalls
            server_version = "akslogin-emulator"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                return  # the request log is the emulator's record; keep stderr quiet

            def date_time_string(self, timestamp: float | None = None) -> str:
                # The Date header follows the emulated clock, as a server whose clock is off would send it.
                if timestamp is None and clock is not None:
                    timestamp = clock()
                return email.utils.formatdate(timestamp, usegmt=True)

            timeout = idle_timeout  # an idle (or stalled) connection is closed after this, freeing its thread

            def _handle(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                declared = (self.headers.get("Content-Length") or "0").strip()
                if not declared.isdigit():  # negative, signed or not a number: never read "until the end"
                    self.close_connection = True
                    self.send_error(400, "bad Content-Length")
                    return
                length = int(declared)
                if length > MAX_BODY:
                    self.close_connection = True
                    self.send_error(413)
                    return
                if split.path.startswith(CONTROL_PREFIX) and not outer.control_allowed(self.headers):
                    self.close_connection = True
                    self._send(Response.json(401, {
                        "error": "the control API needs this run's control token: send 'Authorization: Bearer "
                                 "<token>' (the token is in <state dir>/control-token and emulator.json)"}))
                    return
                body = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
                request = Request(
                    method=self.command,
                    path=split.path,
                    query=query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    port=outer.port,
                    client_cert=_peer_identity(self.connection) if client_ca_pem else None,
                    received=time.monotonic(),
                )
                gauge = outer.gauge if not split.path.startswith("/_emulator") else None
                if gauge is not None:
                    gauge.begin(outer.service)
                try:
                    fault, response = self._answer(request, split.path)
                finally:
                    if gauge is not None:
                        gauge.end(outer.service)  # before the answer is sent: see RequestLog.end
                if response is None:
                    self._reset()
                    return
                if fault is not None and fault.kind in ("trickle", "endless"):
                    self._hostile_body(fault, response)
                    return
                if fault is not None and fault.kind in ("trickle_headers", "huge_header"):
                    self._hostile_head(fault, response)
                    return
                self._send(response, fault)

            def _send(self, response: Response, fault: Fault | None = None) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    body_out = response.body
                    if fault is not None and fault.kind == "truncate":
                        body_out = body_out[: len(body_out) // 2]
                        self.close_connection = True
                    self.wfile.write(body_out)
                    if fault is not None and fault.kind == "truncate":
                        self.wfile.flush()
                        self._reset()

            def _hostile_body(self, fault: Fault, response: Response) -> None:
                """The real answer one byte at a time, or a body that never ends; both stop when the client
                hangs up and within fixed bounds (120 s, 256 MiB), so a test cannot leave a thread behind."""
                self.close_connection = True
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if fault.kind == "trickle":
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                stop = time.monotonic() + 120
                try:
                    if fault.kind == "trickle":
                        for i in range(len(response.body)):
                            if time.monotonic() > stop:
                                break
                            self.wfile.write(response.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(fault.delay or 1.0)
                    else:
                        chunk = b'{"padding":"' + b"x" * (64 * 1024)
                        for _ in range(4096):
                            if time.monotonic() > stop:
                                break
                            self.wfile.write(chunk)
                except OSError:
                    return

            def _hostile_head(self, fault: Fault, response: Response) -> None:
                """The real answer with its head sent one byte at a time, or with a 1 MiB header line first;
                both stop when the client hangs up, within 120 s."""
                self.close_connection = True
                head = f"HTTP/1.1 {response.status} OK\r\n".encode()
                if fault.kind == "huge_header":
                    head += b"X-Padding: " + b"x" * (1 << 20) + b"\r\n"
                for name, value in response.headers.items():
                    head += f"{name}: {value}\r\n".encode()
                head += f"Content-Length: {len(response.body)}\r\n\r\n".encode()
                stop = time.monotonic() + 120
                try:
                    if fault.kind == "huge_header":
                        self.wfile.write(head + response.body)
                        return
                    for i in range(len(head)):
                        if time.monotonic() > stop:
                            return
                        self.wfile.write(head[i:i + 1])
                        self.wfile.flush()
                        time.sleep(fault.delay or 1.0)
                    self.wfile.write(response.body)
                except OSError:
                    return

            def _answer(self, request: Request, path: str) -> tuple[Fault | None, Response | None]:
                """Latency, faults and the route; (fault, None) when the connection is to be reset."""
                fault = None
                if outer.faults is not None and not path.startswith("/_emulator"):
                    delay = outer.faults.delay_for(outer.service)
                    if delay > 0:
                        time.sleep(delay)
                    fault = outer.faults.take(outer.service, path)
                if fault is not None and fault.kind == "reset":
                    return fault, None
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay)
                    fault = None
                try:
                    if fault is not None and fault.kind not in ("truncate", "trickle", "endless", "patch",
                                                                "trickle_headers", "huge_header"):
                        response = _fault_response(fault, outer.service)
                    else:
                        response = outer.router.dispatch(request)
                    if fault is not None and fault.kind == "patch":
                        response = _patched(response, fault.patch or {})
                except Exception as exc:  # an emulator bug must show up as a 500, not a hung client
                    response = Response.json(500, {"error": "emulator_error", "detail": type(exc).__name__})
                    import traceback

                    traceback.print_exc()
                if outer.observer is not None:
                    outer.observer(request, response)
                return fault, response

            def _reset(self) -> None:
                """Drop the connection with a TCP RST, as a crashed proxy would."""
                self.close_connection = True
                try:
                    raw = self.connection
                    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    raw.close()
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._server = _QuietServer((host, port), _Handler)
        self._server.daemon_threads = True
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert_file, key_file)
            if client_ca_pem:
                # Ask for (but do not require) a client certificate signed by this CA, as kube-apiserver does.
                ctx.load_verify_locations(cadata=client_ca_pem)
                ctx.verify_mode = ssl.CERT_OPTIONAL
            # Handshake in the handler thread, so one stalled client cannot block the accept loop.
            self._server.socket = ctx.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.host = host
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"emulator:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def control_allowed(self, headers: Any) -> bool:
        """A control request is taken only with this run's token (any local process can reach the port)."""
        if self.control_token is None:
            return True
        given = str(headers.get("Authorization") or "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.control_token}".encode())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
