"""The HTTP client every network call goes through (MSAL included): TLS trust, timeouts, error mapping.

Trust is additive: the system store (honouring SSL_CERT_FILE / SSL_CERT_DIR), REQUESTS_CA_BUNDLE /
CURL_CA_BUNDLE, and each ``--certificate-authority`` file. Verification is never turned off here.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from akslogin import __version__
from akslogin.errors import ConfigError, NetworkError, TLSError
from akslogin.retry import RETRY_STATUSES, RetryPolicy, is_safe_to_retry

USER_AGENT = f"akslogin/{__version__}"


def build_ssl_context(extra_cas: Sequence[str], environ: Mapping[str, str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        bundle = environ.get(var)
        if bundle and os.path.isfile(bundle):
            ctx.load_verify_locations(cafile=bundle)
    for path in extra_cas:
        try:
            ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the CA bundle {path} given with --certificate-authority: {exc}.",
                "Pass a PEM file holding one or more CA certificates.",
            ) from None
    return ctx


class _TLSAdapter(HTTPAdapter):
    def __init__(self, ctx: ssl.SSLContext, pool_maxsize: int = 10) -> None:
        self._ctx = ctx
        self._trusted: set[tuple[str, str]] = set()
        self._trust_lock = threading.Lock()
        super().__init__(max_retries=0, pool_maxsize=pool_maxsize)

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
        with self._trust_lock:
            if (kind, location) in self._trusted:
                return
            try:
                if kind == "file":
                    self._ctx.load_verify_locations(cafile=location)
                else:
                    self._ctx.load_verify_locations(capath=location)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the CA bundle {location}: {exc}.",
                                  "Check REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: it must name a PEM file.") from None
            self._trusted.add((kind, location))


class HttpClient(requests.Session):
    """A requests session with our TLS context, a deadline for the whole run, and bounded retries.

    ``timeout`` is the budget of the whole command (kubelogin's ``--timeout``): every request, retry and
    back-off wait must fit in it. It also remembers the last error response so that callers (MSAL raises bare
    ValueErrors on discovery failures) can say what the server answered.
    """

    def __init__(self, timeout: float, extra_cas: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None, clock: Callable[[], float] = time.monotonic,
                 pool_maxsize: int = 10, overall_deadline: bool = True):
        """``timeout`` bounds each request and, with ``overall_deadline``, the whole run (retries and waits
        included). ``pool_maxsize``: connections kept per host; at least the number of threads sharing it.
        Callers that retry themselves (the ARM client) pass ``RetryPolicy(attempts=1)``."""
        super().__init__()
        env = os.environ if environ is None else environ
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._deadline = clock() + timeout if overall_deadline else float("inf")
        self.headers["User-Agent"] = USER_AGENT
        adapter = _TLSAdapter(build_ssl_context(extra_cas, env), pool_maxsize)
        self.mount("https://", adapter)
        self.last_error: requests.Response | None = None
        self.retries = 0

    def remaining(self) -> float:
        return self._deadline - self._clock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        verb = method.decode() if isinstance(method, bytes) else method
        safe = is_safe_to_retry(verb, kwargs.get("data"))
        attempt = 1
        while True:
            try:
                response = self._once(verb, url, *args, **kwargs)
            except NetworkError:
                if not safe or attempt >= self.retry.attempts or isinstance(self._last_exc, TLSError):
                    raise
                wait = self.retry.backoff(attempt, None)
            else:
                if (response.status_code not in RETRY_STATUSES or not safe
                        or attempt >= self.retry.attempts):
                    return response
                wait = self.retry.backoff(attempt, response.headers.get("Retry-After"))
            if wait + 0.5 > self.remaining():
                if self._last_exc is not None:
                    raise self._last_exc
                return response
            self.retry.sleep(wait)
            attempt += 1
            self.retries += 1

    def _once(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self._last_exc: NetworkError | None = None
        remaining = self.remaining()
        target = url.decode() if isinstance(url, bytes) else url
        if remaining <= 0:
            raise NetworkError(f"the time limit of {self.timeout:.0f}s ran out before {_origin(target)} answered.",
                               "Raise --timeout (or AZURE_CLI_TIMEOUT) if the network is slow.")
        kwargs["timeout"] = min(float(kwargs.get("timeout") or self.timeout), remaining)
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.SSLError as exc:
            self._last_exc = TLSError(
                f"the TLS certificate of {_origin(target)} is not trusted ({_ssl_reason(exc)}).",
                "If this host uses a private CA, pass --certificate-authority <ca.pem> or set REQUESTS_CA_BUNDLE; "
                "verification is never turned off.",
            )
            raise self._last_exc from None
        except requests.exceptions.Timeout:
            self._last_exc = NetworkError(
                f"{_origin(target)} did not answer within {kwargs['timeout']:.0f}s.",
                "Check the network or proxy, or raise --timeout (or AZURE_CLI_TIMEOUT).",
            )
            raise self._last_exc from None
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            self._last_exc = NetworkError(
                f"cannot connect to {_origin(target)} ({_conn_reason(exc)}).",
                "Check the host name, --authority-host / --environment, and your network or proxy settings.",
            )
            raise self._last_exc from None
        self.last_error = response if response.status_code >= 400 else None
        self.last_response = response
        return response

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
        """Why the last answer could not be used (HTML page, not JSON), for errors raised by parsers."""
        response = getattr(self, "last_response", None)
        if response is None:
            return NetworkError("the server's answer could not be used.")
        origin = _origin(response.url)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        what = "an HTML page" if "html" in kind else f"a body that is not JSON (Content-Type: {kind})"
        return NetworkError(
            f"{origin} answered HTTP {response.status_code} with {what} instead of JSON.",
            "A proxy, firewall or captive portal may be in the way: check HTTPS_PROXY/NO_PROXY and the "
            "--authority-host; retry if it was a temporary outage.",
        )


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url[:80]


def _ssl_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch", "self-signed"):
        if marker in text:
            start = text.find(marker)
            return text[start:start + 120].split("'")[0].split(")")[0].strip()
    return "TLS handshake failed"


def _conn_reason(exc: Exception) -> str:
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve"
    if "Connection refused" in text:
        return "connection refused"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the response was cut off"
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset"
    return "network error"
