"""The HTTP client every network call goes through (MSAL included): TLS trust, timeouts, error mapping.

Trust is additive: the system store (honouring SSL_CERT_FILE / SSL_CERT_DIR), REQUESTS_CA_BUNDLE /
CURL_CA_BUNDLE, and each ``--certificate-authority`` file. Verification is never turned off here.
"""

from __future__ import annotations

import os
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from akslogin import __version__
from akslogin.errors import ConfigError, NetworkError, TLSError

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
        super().__init__(max_retries=0, pool_maxsize=pool_maxsize)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)


class HttpClient(requests.Session):
    """A requests session with our TLS context and timeout on every request.

    It also remembers the last error response so that callers (MSAL raises bare ValueErrors on
    discovery failures) can say what the server answered.
    """

    def __init__(self, timeout: float, extra_cas: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                 pool_maxsize: int = 10):
        """``pool_maxsize``: connections kept per host; at least the number of threads sharing the client."""
        super().__init__()
        env = os.environ if environ is None else environ
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT
        adapter = _TLSAdapter(build_ssl_context(extra_cas, env), pool_maxsize)
        self.mount("https://", adapter)
        self.last_error: requests.Response | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        target = url.decode() if isinstance(url, bytes) else url
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise TLSError(
                f"the TLS certificate of {_origin(target)} is not trusted ({_ssl_reason(exc)}).",
                "If this host uses a private CA, pass --certificate-authority <ca.pem> or set REQUESTS_CA_BUNDLE; "
                "verification is never turned off.",
            ) from None
        except requests.exceptions.Timeout:
            raise NetworkError(
                f"{_origin(target)} did not answer within {self.timeout:.0f}s.",
                "Check the network or proxy, or raise --timeout.",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(
                f"cannot connect to {_origin(target)} ({_conn_reason(exc)}).",
                "Check the host name, --authority-host / --environment, and your network or proxy settings.",
            ) from None
        self.last_error = response if response.status_code >= 400 else None
        return response


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
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset"
    return "network error"
