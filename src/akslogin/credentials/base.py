"""The credential protocol every login mode implements, the token it returns, and what it is given.

The token is :class:`akslogin.tokencache.entry.AccessToken`, the one token value of every layer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TextIO, TypeGuard

from akslogin.leanimport import import_module
from akslogin.tokencache.entry import AccessToken as AccessToken  # re-exported: what credentials return

if TYPE_CHECKING:
    from akslogin.credentials.msal_app import Authority
    from akslogin.http import HttpClient
    from akslogin.log import Log
    from akslogin.options import TokenOptions


#: The longest an access token is cached. Entra ID issues 60–90 minute tokens (24 h at most, for managed
#: identities); a longer promise is a broken or hostile answer, not a reason to cache until the year 33715.
MAX_LIFETIME = 24 * 3600.0


def checked(token: AccessToken, now: float, source: str = "the identity provider", pop: bool = False
            ) -> AccessToken:
    """``token`` if it is usable, cached no longer than its own claimed lifetime (``exp - iat``) nor
    ``MAX_LIFETIME``.

    Every login mode's answer passes through here before it is cached, so an empty token, a PoP token
    nobody asked for, or a lifetime of 10^12 seconds is one clear error (or one clamp) for all of them.
    ``pop``: a proof-of-possession token was asked for (Entra answers ``pop``; recorded answers also say
    ``Bearer`` for a key-bound token, so both are accepted then).
    """
    import math

    from akslogin.errors import AuthenticationError

    if not token.token.strip():
        raise AuthenticationError(f"{source} returned an empty access token.",
                                  "This is a fault of the service (or of a proxy in the way); retry in a moment.")
    kind = (token.token_type or "Bearer").strip().lower()
    if kind not in ("bearer", "") and not (pop and kind == "pop"):
        raise AuthenticationError(
            f"{source} returned a {'proof-of-possession' if kind == 'pop' else repr(kind)} token "
            f"(token_type {token.token_type!r}) although a bearer token was asked for.",
            "kubectl can only present bearer tokens here; check --authority-host and any proxy in the way.")
    expires_on = token.expires_on
    if not math.isfinite(expires_on) or expires_on <= now:
        raise AuthenticationError(f"{source} returned a token without a usable expiry (expires_in).")
    claimed = _claimed_lifetime(token.token)
    # The token's own lifetime (exp - iat, both in the IdP's clock) bounds the cache, so a clock that is off
    # on either side neither rejects a good token nor stretches a bad promise.
    limit = now + min(MAX_LIFETIME, claimed if claimed is not None else MAX_LIFETIME)
    if expires_on > limit:
        expires_on = limit
    return AccessToken(token.token, expires_on, token.token_type)


def _claimed_lifetime(token: str) -> float | None:
    """``exp - iat`` of a JWT access token, or None for an opaque one (then the response's lifetime stands)."""
    import base64

    from akslogin import jsonlite

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = jsonlite.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(claims, dict):
        return None
    exp, iat = claims.get("exp"), claims.get("iat", claims.get("nbf"))
    if not (_number(exp) and _number(iat)):
        return None
    lifetime = float(exp) - float(iat)
    return lifetime if lifetime > 0 else None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Problem(NamedTuple):
    """Something a login mode lacks before it can even try, and how to supply it."""

    message: str
    fix: str


# Each login mode's module declares what it needs, checked without any network call:
# ``requirements(opts, environ)`` stops get-token at the first problem (the credential's constructor calls
# require()); doctor lists them all, with the mode's ``preflight(opts, environ)`` too: what the mode would
# otherwise find out only when it runs (an unreadable file, a CLI that is missing or signed out).


def require(problems: list[Problem]) -> None:
    """Stop at the first problem of a login mode's requirements, as a usage error (exit 2)."""
    if problems:
        from akslogin.errors import UsageError

        raise UsageError(problems[0].message, problems[0].fix)


def needed(value: object, flag: str, login: str, fix: str) -> list[Problem]:
    """The problem of a required value that is not set: one phrasing for every mode."""
    return [] if value else [Problem(f"{flag} is required for --login {login}.", fix)]


def problems_raised_by(check: Callable[[], object]) -> list[Problem]:
    """Run one of the mode's own readers (a certificate, a token file, a tool lookup) as a preflight: the
    error it raises becomes the Problem, so doctor says exactly what get-token would."""
    from akslogin.errors import AksloginError

    try:
        check()
    except AksloginError as error:
        return [Problem(error.message, error.hint or "")]
    return []


def login_problems(opts: TokenOptions, environ: Mapping[str, str], *, preflight: bool = False) -> list[Problem]:
    """What ``opts.login`` declares it lacks (its module's ``requirements``, and ``preflight`` when asked)."""
    module: Any = import_module(LOGIN_MODES[opts.login].partition(":")[0])
    problems: list[Problem] = module.requirements(opts, environ)
    if preflight and hasattr(module, "preflight"):
        problems += module.preflight(opts, environ)
    return problems


class Credential(Protocol):
    def get_token(self, resource: str) -> AccessToken:
        """A token whose audience is ``resource`` (a server app id or an ARM endpoint)."""
        ...


class CredentialContext(NamedTuple):
    """Everything a login mode may use; injected so tests can swap clock, HTTP and streams. A NamedTuple, like
    every record a sign-in builds: the engine never imports dataclasses, so a sign-in need not either."""

    opts: TokenOptions
    authority: Authority
    http: HttpClient
    environ: Mapping[str, str]
    cache_dir: str
    identity_key: str
    log: Log
    stderr: TextIO
    clock: Callable[[], float]
    #: akslogin.pop.PopKey when a proof-of-possession token is asked for (Azure Arc): the token is bound to it.
    pop_key: Any = None
    #: The token must have at least this long left (a background renewal asks for more than MSAL's 5 minutes,
    #: so a user mode must not hand back MSAL's cached access token that is about to end).
    min_remaining: float = 300.0
    #: A person can answer a sign-in prompt (see credentials/attendance.py); False: user modes never prompt.
    attended: bool = True
    #: The person asked for this sign-in (akslogin login): an earlier unanswered prompt does not hold it off.
    explicit_sign_in: bool = False

    def request_data(self) -> dict[str, str]:
        """Extra token-request parameters for MSAL's ``data=`` (the PoP binding, or none)."""
        return self.pop_key.request_data() if self.pop_key is not None else {}

    def tell(self, message: str) -> None:
        """Show the person signing in what to do (a device code); flushed, since kubectl may be waiting."""
        self.stderr.write(message.rstrip() + "\n")
        self.stderr.flush()


#: login mode → "module:factory"; the factory takes a CredentialContext and returns a Credential.
LOGIN_MODES: dict[str, str] = {
    "spn": "akslogin.credentials.spn:ServicePrincipalCredential",
    "msi": "akslogin.credentials.managed_identity:ManagedIdentityCredential",
    "workloadidentity": "akslogin.credentials.workload_identity:WorkloadIdentityCredential",
    "azurepipelines": "akslogin.credentials.azure_pipelines:AzurePipelinesCredential",
    "azurecli": "akslogin.credentials.azure_cli:AzureCliCredential",
    "azd": "akslogin.credentials.azd:AzdCredential",
    "devicecode": "akslogin.credentials.devicecode:create",
    "interactive": "akslogin.credentials.interactive:InteractiveBrowserCredential",
    "ropc": "akslogin.credentials.ropc:UsernamePasswordCredential",
}
#: Modes whose token comes straight from the Entra ID authority (so doctor can check its reachability).
AUTHORITY_MODES = frozenset({"spn", "ropc", "devicecode", "interactive", "workloadidentity", "azurepipelines"})


def endpoint_token(response: Any, endpoint: str, clock: Callable[[], float], *, no_json_hint: str | None,
                   refused_hint: str, detail: Callable[[dict[str, Any]], Any] | None = None
                   ) -> tuple[AccessToken, dict[str, Any]]:
    """The token in a managed-identity-style JSON answer (``access_token``, ``expires_in`` seconds), with
    the paragraph that names ``endpoint`` when there is none. ``detail`` picks the error text from a refusal
    (default: ``error_description``, else ``error``). Returns the body too, for endpoint-specific checks."""
    from akslogin.errors import AuthenticationError

    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AuthenticationError(f"the {endpoint} answered HTTP {response.status_code} without a JSON body.",
                                  no_json_hint)
    token, expires_in = body.get("access_token"), body.get("expires_in")
    if response.status_code != 200 or not isinstance(token, str) or not token:
        said = (detail(body) if detail else None) or body.get("error_description") or body.get("error") \
            or f"HTTP {response.status_code}"
        raise AuthenticationError(f"the {endpoint} refused the token request: {said}.", refused_hint)
    try:
        lifetime = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        lifetime = 0.0
    if not lifetime > 0:
        raise AuthenticationError(f"the {endpoint} returned a token without expires_in.")
    return AccessToken(token, clock() + lifetime), body


def create_credential(ctx: CredentialContext) -> Credential:
    from akslogin.errors import UsageError

    target = LOGIN_MODES.get(ctx.opts.login)
    if target is None:
        raise UsageError(
            f"--login {ctx.opts.login} is not available in this version of akslogin.",
            "Available: " + ", ".join(sorted(LOGIN_MODES)) + ".",
        )
    module_name, _, attr = target.partition(":")
    factory: Callable[[CredentialContext], Credential] = getattr(import_module(module_name), attr)
    return factory(ctx)


def scope_for(resource: str) -> str:
    """kubelogin's rule: trim a trailing '/' and add '/.default' unless already present."""
    resource = resource.rstrip("/")
    return resource if resource.endswith("/.default") else resource + "/.default"
