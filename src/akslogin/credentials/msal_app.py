"""Building MSAL applications that talk to any authority host safely, and reading their results."""

from __future__ import annotations

import math
import urllib.parse
from typing import Any, NamedTuple

import msal

from akslogin import jsonlite
from akslogin.aadsts import describe_idp_error
from akslogin.clouds import KNOWN_AUTHORITY_HOSTS, cloud
from akslogin.credentials import discovery_cache
from akslogin.credentials.base import AccessToken
from akslogin.errors import AksloginError, AuthenticationError, ConfigError, NetworkError
from akslogin.http import HttpClient
from akslogin.options import TokenOptions


class Authority(NamedTuple):
    host: str  # https://host[:port]/ (trailing slash)
    tenant: str
    instance_discovery: bool
    #: JSON file where discovery answers persist across processes ("" = this process only).
    discovery_cache: str = ""

    @property
    def url(self) -> str:
        return self.host + self.tenant


def authority_host(opts: TokenOptions) -> str:
    return opts.authority_host or cloud(opts.environment).authority_host


def resolve_authority(opts: TokenOptions, cache_dir: str = "") -> Authority:
    """Where to sign in; with ``cache_dir``, discovery answers are reused across processes."""
    host = authority_host(opts)
    hostname = urllib.parse.urlsplit(host).hostname or ""
    # Instance discovery only makes sense on Microsoft's own hosts; on any other host it would send the
    # request to login.microsoftonline.com, which is neither wanted nor reachable.
    discovery = not opts.disable_instance_discovery and hostname in KNOWN_AUTHORITY_HOSTS
    return Authority(host, opts.tenant_id, discovery, discovery_cache.cache_path(cache_dir) if cache_dir else "")


def confidential_app(authority: Authority, client_id: str, credential: Any, http: HttpClient) -> Any:
    return _build(msal.ConfidentialClientApplication, authority, http, client_id,
                  client_credential=credential, azure_region=False)


def public_app(authority: Authority, client_id: str, http: HttpClient, token_cache: Any = None,
               **options: Any) -> Any:
    """A public client (user sign-in) whose tokens go to ``token_cache`` (persisted by the caller); ``options``
    are MSAL's own (the broker's, see credentials/broker.py)."""
    return _build(msal.PublicClientApplication, authority, http, client_id,
                  transport=UserRealmPortFix(http, authority.host), token_cache=token_cache, **options)


class TokenAnswerCheck:
    """Refuses a successful token answer of the wrong shape before MSAL reads it.

    MSAL converts the lifetime fields with ``int()`` and stores whatever ``access_token`` holds: ``null`` or
    ``1e400`` would fail inside it (TypeError, OverflowError) and ``{"a": 1}`` would be cached and handed to
    kubectl as a token. Only POSTs to a token endpoint answered with HTTP 200 are looked at.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._inner.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        response = self._inner.post(url, **kwargs)
        if response.status_code == 200 and urllib.parse.urlsplit(url).path.rstrip("/").endswith("/token"):
            problem = token_answer_problem(_json_value(response))
            if problem is not None:
                origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
                raise AuthenticationError(f"{origin} answered the token request with {problem}.",
                                          "Entra ID does not answer this way: a proxy or a server that is not the "
                                          "identity provider is in the way; check --authority-host.")
        return response

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


#: Token-answer fields MSAL reads as seconds (Entra sends integers, or integer strings from the v1 endpoint).
_SECONDS_FIELDS = ("expires_in", "ext_expires_in", "refresh_in", "expires_on")


def token_answer_problem(body: Any) -> str | None:
    """What makes a 200 answer of a token endpoint unusable, in words; None when MSAL can read it."""
    if not isinstance(body, dict):
        return "a body that is not a JSON object" if body is not _NOT_JSON else None  # not JSON: MSAL says so
    if "access_token" not in body:
        return None if body.get("error") else "no access token in the answer (and no error either)"
    if not isinstance(body["access_token"], str):
        return f"an access_token that is not a string (a JSON {type(body['access_token']).__name__})"
    for name in _SECONDS_FIELDS:
        value = body.get(name)
        if name in body and not _readable_seconds(value):
            if value is None or isinstance(value, float):
                return f"a token without a usable expiry ({name}: {'null' if value is None else value})"
            return f"a token whose {name} ({str(value)[:20]!r}) is not a whole number of seconds"
    return None


def _readable_seconds(value: Any) -> bool:
    """A value MSAL's ``int()`` turns into seconds: a finite number, or a string of digits."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and value.strip().isdigit()


_NOT_JSON = object()


def _json_value(response: Any) -> Any:
    try:
        return jsonlite.loads(response.content)
    except ValueError:
        return _NOT_JSON


class UserRealmPortFix:
    """MSAL builds the user-realm URL from the authority's host without its port; put the port back.

    Only ``https://<authority host>/common/userrealm/`` is rewritten, and only when the configured authority
    has an explicit port, so nothing else MSAL requests is touched.
    """

    def __init__(self, http: HttpClient, authority_host: str) -> None:
        self._http = http
        parts = urllib.parse.urlsplit(authority_host)
        self._broken = f"https://{parts.hostname}/common/userrealm/"
        self._fixed = f"https://{parts.netloc}/common/userrealm/"

    def fix(self, url: str) -> str:
        if self._broken != self._fixed and url.lower().startswith(self._broken.lower()):
            return self._fixed + url[len(self._broken):]
        return url

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._http.get(self.fix(url), **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._http.post(self.fix(url), **kwargs)

    def close(self) -> None:
        self._http.close()


def _build(cls: Any, authority: Authority, http: HttpClient, client_id: str, transport: Any = None,
           token_cache: Any = None, **kwargs: Any) -> Any:
    try:
        return cls(
            client_id,
            authority=authority.url,
            http_client=discovery_cache.wrap(TokenAnswerCheck(transport or http), authority.discovery_cache),
            instance_discovery=None if authority.instance_discovery else False,
            token_cache=token_cache if token_cache is not None else msal.TokenCache(),
            **kwargs,
        )
    except AksloginError:
        raise
    except msal.exceptions.MsalServiceError as exc:
        raise http.describe_server_error(str(exc)) from None
    except ValueError as exc:
        raise _discovery_error(authority, http, exc) from None
    except (TypeError, KeyError):
        raise http.describe_unusable() from None


def _discovery_error(authority: Authority, http: HttpClient, exc: Exception) -> AksloginError:
    last = getattr(http, "last_response", None)
    body = _json_body(last)
    if body and "error" in body:
        return describe_idp_error(body)
    if last is not None and body is None:
        return http.describe_unusable()
    if http.last_error is not None:
        return AuthenticationError(
            f"the authority {authority.url} answered HTTP {http.last_error.status_code} to OpenID discovery.",
            "Check --tenant-id and --authority-host / --environment.",
        )
    return ConfigError(f"the authority {authority.url} cannot be used: {str(exc)[:200]}",
                       "Check --tenant-id and --authority-host / --environment.")


def _json_body(response: Any) -> dict[str, Any] | None:
    if response is None:
        return None
    try:
        data = jsonlite.loads(response.text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def token_from_result(result: Any, *, now: float) -> AccessToken:
    """An AccessToken from an MSAL result dict, or the user-facing error it describes. ``now``: the
    credential context's clock, so the expiry agrees with every other time akslogin compares it with."""
    if not isinstance(result, dict):
        raise AuthenticationError("the identity provider returned no token.")
    if "access_token" not in result:
        raise describe_idp_error(result)
    expires_in = result.get("expires_in")
    try:
        lifetime = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        lifetime = 0.0
    if lifetime <= 0:
        raise AuthenticationError("the identity provider returned a token without a usable expiry (expires_in).")
    return AccessToken(str(result["access_token"]), now + lifetime, str(result.get("token_type") or "Bearer"))


def call(action: Any, *args: Any, http: HttpClient | None = None, **kwargs: Any) -> Any:
    """Run an MSAL call, turning its exceptions into akslogin errors."""
    try:
        return action(*args, **kwargs)
    except AksloginError:
        raise
    except msal.exceptions.MsalServiceError as exc:
        if http is not None:
            raise http.describe_server_error(str(exc)) from None
        raise NetworkError(f"the identity provider failed ({exc}).",
                           "This is usually temporary; retry in a moment.") from None
    except (ValueError, TypeError, OverflowError) as exc:  # MSAL reading an answer of a shape it did not expect
        if http is not None:
            raise http.describe_unusable() from None
        raise AuthenticationError(f"the identity provider's answer could not be used: {str(exc)[:200]}.") from None
    except RecursionError:
        raise AuthenticationError(
            "the identity provider's answer could not be used: its JSON is nested too deeply to read.",
            "A proxy or a server that is not the identity provider is in the way; check --authority-host.",
        ) from None
    except RuntimeError as exc:
        # MSAL's WS-Trust (federated username/password) path reports the on-premises IdP's answers this way.
        raise AuthenticationError(f"the federated sign-in failed: {str(exc)[:300]}") from None
