"""The HTTP client every network call goes through (MSAL included): TLS trust, timeouts, error mapping.

Trust is additive: the system store (honouring SSL_CERT_FILE / SSL_CERT_DIR), REQUESTS_CA_BUNDLE /
CURL_CA_BUNDLE, each ``--certificate-authority`` file and requests' own bundle, parsed as late as possible
(:mod:`akslogin.tlstrust`). Verification is never turned off here.

What a hostile or broken server cannot do through it: keep a run past its deadline (one deadline for connect,
reads, retries and waits, enforced on the sockets), make it buffer an endless body (4 MiB cap), or redirect a
secret elsewhere (no redirect of a POST, none to another origin or to http).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from akslogin._version import USER_AGENT
from akslogin.deadline import Watchdog, watched_pool_classes
from akslogin.errors import DeadlineError, NetworkError, TLSError, UnsafeResponseError
from akslogin.netreason import HEADER_TOO_LARGE, conn_reason, tls_reason
from akslogin.retry import RETRY_STATUSES, RetryPolicy, is_safe_to_retry
from akslogin.tlstrust import Trust, file_id, verify_failed


class _PlainAdapter(HTTPAdapter):
    """Plain http (IMDS, local token endpoints) with sockets the deadline watchdog can shut."""

    def __init__(self, pool_classes: dict[str, type[Any]], pool_maxsize: int = 10) -> None:
        self._pool_classes = pool_classes
        super().__init__(max_retries=0, pool_maxsize=pool_maxsize)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self._pool_classes
        return manager


class _TLSAdapter(_PlainAdapter):
    def __init__(self, trust: Trust, pool_maxsize: int = 10,
                 pool_classes: dict[str, type[Any]] | None = None) -> None:
        self.trust = trust
        self._ctx = trust.ctx
        super().__init__(pool_classes or {}, pool_maxsize=pool_maxsize)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Trust the bundle requests picks (certifi, or a ``verify`` path) once, not once per connection.

        requests sets ``ca_certs`` on every connection it hands out, and urllib3 then loads that file into our
        shared SSL context for each new connection: ~30 ms of PEM parsing under the GIL per connection, which a
        parallel fleet import pays 16 times over. The trust is the same (the bundle is added to the context
        exactly as before), only loaded once per client.
        """
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        for attr, kind in (("ca_certs", "file"), ("ca_cert_dir", "dir")):
            location = getattr(conn, attr, None)
            if location:
                self._trust_once(kind, location)
                setattr(conn, attr, None)

    def _trust_once(self, kind: str, location: str) -> None:
        if kind == "dir":
            self.trust.add_dir(location)
        else:  # requests' own default (certifi) can wait for a handshake that needs it; a path given cannot
            self.trust.add_file(location, what="REQUESTS_CA_BUNDLE",
                                defer=file_id(location) == file_id(requests.adapters.DEFAULT_CA_BUNDLE_PATH))


#: Largest answer body read from any server. Token, device-code, discovery and IMDS answers are a few KB and an
#: ARM page of managed clusters some hundred KB; an endless or huge body is cut off here, never buffered whole.
MAX_BODY_BYTES = 4 << 20
#: Redirects followed for a GET, and only to the same https origin. A POST (token, device code) is never
#: redirected by Entra ID, IMDS or ARM, so a redirect there is refused: it would carry the secret elsewhere.
MAX_GET_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HttpClient(requests.Session):
    """A requests session with our TLS context, a deadline for the whole run, and bounded retries.

    ``timeout`` is the budget of the whole command (kubelogin's ``--timeout``): connecting, every read, every
    retry and back-off wait fit in it, and a server that sends slowly is cut off when it passes. Bodies are
    read up to ``max_body`` bytes; redirects are followed only for a GET to the same https origin. It also
    remembers the last error response so that callers (MSAL raises bare ValueErrors on discovery failures)
    can say what the server answered.
    """

    def __init__(self, timeout: float, extra_cas: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None, clock: Callable[[], float] = time.monotonic,
                 pool_maxsize: int = 10, overall_deadline: bool = True, max_body: int = MAX_BODY_BYTES,
                 deadline: float | None = None):
        """``timeout`` bounds each request and, with ``overall_deadline``, the whole run (retries and waits
        included); ``deadline`` (on ``clock``) sets the end of the run where it began earlier than this client
        (a command that signed in first). ``pool_maxsize``: connections kept per host; at least the number of
        threads sharing it. Callers that retry themselves (the ARM client) pass ``RetryPolicy(attempts=1)``."""
        super().__init__()
        env = os.environ if environ is None else environ
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_body = max_body
        self._clock = clock
        self._overall = overall_deadline
        self._deadline = (deadline if deadline is not None else clock() + timeout) if overall_deadline \
            else float("inf")
        self._watchdog = Watchdog()
        self.headers["User-Agent"] = USER_AGENT
        self.trust = Trust.build(extra_cas, env)
        adapter = _TLSAdapter(self.trust, pool_maxsize, watched_pool_classes(self._watchdog))
        self.mount("https://", adapter)
        self.mount("http://", _PlainAdapter(watched_pool_classes(self._watchdog)))
        self.last_error: requests.Response | None = None
        self.retries = 0

    def remaining(self) -> float:
        return self._deadline - self._clock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        verb = (method.decode() if isinstance(method, bytes) else method).upper()
        target = url.decode() if isinstance(url, bytes) else url
        safe = is_safe_to_retry(verb, kwargs.get("data"))
        attempt = 1
        while True:
            failure: NetworkError | None = None
            response: requests.Response | None = None
            try:
                response = self._follow(verb, target, *args, **kwargs)
            except NetworkError as exc:
                if (not safe or attempt >= self.retry.attempts
                        or isinstance(exc, (TLSError, DeadlineError, UnsafeResponseError))):
                    raise
                failure = exc
                wait = self.retry.backoff(attempt, None)
            else:
                if (response.status_code not in RETRY_STATUSES or not safe
                        or attempt >= self.retry.attempts):
                    return response
                wait = self.retry.backoff(attempt, response.headers.get("Retry-After"))
            if wait + 0.5 > self.remaining():
                if failure is not None:
                    raise failure
                assert response is not None
                return response
            self.retry.sleep(wait)
            attempt += 1
            self.retries += 1

    def _follow(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """One try, following a GET's same-origin https redirects; any other redirect is refused."""
        kwargs.pop("allow_redirects", None)
        for _ in range(MAX_GET_REDIRECTS + 1):
            response = self._once(method, url, *args, **kwargs)
            if response.status_code not in _REDIRECTS or "Location" not in response.headers:
                return response
            target = urllib.parse.urljoin(response.url or url, response.headers["Location"])
            same = _origin(target) == _origin(url) and target.lower().startswith("https://")
            if method not in ("GET", "HEAD") or not same:
                raise UnsafeResponseError(
                    f"{_origin(url)} answered the {method} request for {_path(url)} with HTTP "
                    f"{response.status_code}, redirecting it to {_origin(target)}{_path(target)}; akslogin does not "
                    "follow redirects of sign-in requests or to another host, so nothing was sent there.",
                    "Entra ID, managed identity endpoints and Resource Manager never redirect these requests: check "
                    "--authority-host / --environment and any proxy between you and the service.",
                )
            url = target
        raise UnsafeResponseError(f"{_origin(url)} redirected {_path(url)} more than {MAX_GET_REDIRECTS} times.",
                                  "Check --authority-host and any proxy in the way.")

    def _once(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        remaining = self.remaining()
        if remaining <= 0:
            raise self._deadline_error(url)
        asked = kwargs.get("timeout") or self.timeout
        kwargs["timeout"] = (tuple(min(float(t), remaining) for t in asked) if isinstance(asked, tuple)
                             else min(float(asked), remaining))
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        timer = threading.Timer(remaining, self._watchdog.fire) if self._overall else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.exceptions.SSLError as exc:
                # Deferred CA bundles (see akslogin.tlstrust) are parsed when a handshake needs them; the
                # request is tried once more, to the same URL, nothing having been sent on the failed one.
                if not (verify_failed(exc) and self.trust.widen()):
                    raise
                response = super().request(method, url, *args, **kwargs)
            _read_body(response, self.max_body, url)
        except UnsafeResponseError:
            raise
        except requests.exceptions.RequestException as exc:
            if self._watchdog.fired or self.remaining() <= 0:
                raise self._deadline_error(url) from None
            raise self.transport_error(exc, url) from None
        finally:
            if timer is not None:
                timer.cancel()
        self.last_error = response if response.status_code >= 400 else None
        self.last_response = response
        return response

    def transport_error(self, exc: Exception, url: str) -> NetworkError:
        """The paragraph for a failed connection or read (subclasses name their kind of endpoint)."""
        return _transport_error(exc, url, self.timeout)

    def _deadline_error(self, url: str) -> DeadlineError:
        return DeadlineError(f"the time limit of {self.timeout:g}s ran out before {_origin(url)} answered.",
                             "Raise --timeout (or AZURE_CLI_TIMEOUT) if the network is slow.")

    def describe_server_error(self, detail: str = "") -> NetworkError:
        """A 5xx (after retries) or an unusable body, said plainly with the host and the status."""
        response = getattr(self, "last_response", None)
        if response is None:
            return NetworkError(f"the identity provider failed{f' ({detail})' if detail else ''}.",
                                "This is usually temporary; retry in a moment.")
        if "html" in response.headers.get("Content-Type", "") or response.status_code < 400:
            return self.describe_unusable()
        tries = f" after {self.retries + 1} tries" if self.retries else ""
        return NetworkError(
            f"{_origin(response.url)} answered HTTP {response.status_code} ({response.reason or 'server error'})"
            f"{tries}.",
            "The service is failing or overloaded; this is usually temporary, retry in a moment.",
        )

    def describe_unusable(self) -> NetworkError:
        """Why the last answer could not be used (HTML page, not JSON, JSON of the wrong shape), for errors
        raised by parsers."""
        response = getattr(self, "last_response", None)
        if response is None:
            return NetworkError("the server's answer could not be used.")
        origin = _origin(response.url)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        body = _json_object(response.content)
        if body is not None:
            odd = [name for name in _WHOLE_SECONDS if name in body and not _whole_seconds(body[name])]
            what = (f"a token answer whose {odd[0]} ({str(body[odd[0]])[:20]!r}) is not a whole number of seconds"
                    if odd else "JSON that is not an answer to this request")
            return NetworkError(
                f"{origin} answered HTTP {response.status_code} for {_path(response.url)} with {what}.",
                "Entra ID does not answer this way: check --authority-host / --environment and any proxy or "
                "token service in between.",
            )
        what = "an HTML page" if "html" in kind else f"a body that is not JSON (Content-Type: {kind})"
        return NetworkError(
            f"{origin} answered HTTP {response.status_code} with {what} instead of JSON.",
            "A proxy, firewall or captive portal may be in the way: check HTTPS_PROXY/NO_PROXY and the "
            "--authority-host; retry if it was a temporary outage.",
        )


#: Token-answer fields that MSAL reads as whole seconds (Entra sends integers, or integer strings in v1).
class MakeHttp(Protocol):
    """What builds an HttpClient. Use cases take one (default: HttpClient itself) instead of naming the class,
    so the one place that decides timeouts, trust and retries is the caller's choice and a test can hand in its
    own (one that records, or fails on purpose)."""

    def __call__(self, timeout: float, extra_cas: Sequence[str] = (), environ: Mapping[str, str] | None = None, *,
                 retry: RetryPolicy | None = None, pool_maxsize: int = 10,
                 deadline: float | None = None) -> HttpClient: ...


_WHOLE_SECONDS = ("expires_in", "ext_expires_in", "refresh_in", "expires_on")


def _whole_seconds(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def _json_object(raw: bytes) -> dict[str, Any] | None:
    from akslogin import jsonlite

    try:
        data = jsonlite.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _read_body(response: requests.Response, limit: int, url: str) -> None:
    """Read a streamed body into ``response`` (so ``.text``/``.json()`` work), refusing more than ``limit``."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise _too_large(url, limit)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            response.close()
            raise _too_large(url, limit)
        chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]
    _check_json_bounds(response._content, url)


def _check_json_bounds(body: bytes, url: str) -> None:
    """Refuse a JSON body over the reading bounds here, once for every caller: MSAL and the other readers
    would otherwise exhaust the stack on deep nesting or spend minutes converting a 100,000-digit number."""
    from akslogin import jsonlite

    if body.lstrip()[:1] not in (b"{", b"["):
        return
    try:
        jsonlite.loads(body)
    except jsonlite.TooLarge as exc:
        raise UnsafeResponseError(
            f"{_origin(url)} sent a JSON answer for {_path(url)} that akslogin will not read: {exc}.",
            "Entra ID, managed identity endpoints and Resource Manager never answer this way: a proxy or a server "
            "that is not the service is in the way; check --authority-host / --arm-endpoint and your proxy.",
        ) from None
    except ValueError:
        return  # not JSON at all: the caller says what it expected


def _too_large(url: str, limit: int) -> UnsafeResponseError:
    return UnsafeResponseError(
        f"{_origin(url)} sent an answer larger than {limit // (1 << 20)} MiB for {_path(url)}; akslogin stopped "
        "reading it.",
        "Such answers are a few kilobytes: a proxy or a server that is not the identity provider is in the way; "
        "check --authority-host and your proxy settings.",
    )


def _transport_error(exc: Exception, url: str, timeout: float) -> NetworkError:
    if isinstance(exc, requests.exceptions.SSLError):
        return TLSError(
            f"the TLS certificate of {_origin(url)} is not trusted ({_ssl_reason(exc)}).",
            "If this host uses a private CA, pass --certificate-authority <ca.pem> or set REQUESTS_CA_BUNDLE; "
            "verification is never turned off.",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return NetworkError(f"{_origin(url)} did not answer within {timeout:.0f}s.",
                            "Check the network or proxy, or raise --timeout (or AZURE_CLI_TIMEOUT).")
    reason = _conn_reason(exc)
    if reason == HEADER_TOO_LARGE:
        return UnsafeResponseError(
            f"{_origin(url)} sent an answer too large to read for {_path(url)}: {reason}; akslogin stopped reading it.",
            "Such answers are a few kilobytes: a proxy or a server that is not the service is in the way; check "
            "--authority-host and your proxy settings.")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or reason == "the response was cut off":
        return NetworkError(f"the answer from {_origin(url)} was cut off before it was complete.",
                            "The connection dropped mid-answer (a proxy or an unstable network); retry in a moment.")
    return NetworkError(
        f"cannot connect to {_origin(url)} ({reason}).",
        "Check the host name, --authority-host / --environment, and your network or proxy settings.",
    )


def _path(url: str) -> str:
    """The path of ``url`` without its query (which could carry a code or a secret)."""
    return urllib.parse.urlsplit(url).path or "/"


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url[:80]


def _ssl_reason(exc: Exception) -> str:
    return tls_reason(str(exc))


def _conn_reason(exc: Exception) -> str:
    return conn_reason(str(exc))
