"""The emulated Entra ID endpoints: discovery, JWKS, instance discovery and the token endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from akslogin.emulator.clock import Clock
from akslogin.emulator.entra.aadsts import error_response
from akslogin.emulator.entra.certchain import ChainError, certificate_from_x5c
from akslogin.emulator.entra.tokens import TokenIssuer
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.net.tlsmaterial import thumbprints
from akslogin.emulator.world import App, Tenant, World

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Tolerance ESTS applies to client-assertion time claims, in seconds.
ASSERTION_SKEW = 300

TENANT = r"/(?P<tenant>[^/]+)"


@dataclass
class EntraSettings:
    """Knobs tests may turn at run time."""

    access_token_lifetime: int = 3599
    #: Device flow: seconds clients must wait between polls (ESTS says 5; tests use 1 or 0), and code lifetime.
    device_code_interval: int = 5
    device_code_lifetime: int = 900
    #: Refresh tokens die after this many seconds without use (Entra: 90 days).
    refresh_token_max_inactive: int = 90 * 86400
    #: True: a refresh token works once (catches clients that keep using a rotated-away token).
    refresh_token_single_use: bool = False
    #: When set, user token responses carry ``refresh_in`` (MSAL then refreshes proactively).
    refresh_in: int | None = None


class TokenError(Exception):
    """Raised inside a grant handler to answer with an AADSTS error."""

    def __init__(self, code: int, error_name: str | None = None, **fields: str) -> None:
        super().__init__(code)
        self.code = code
        self.error_name = error_name
        self.fields = fields


#: A token-endpoint grant: (request, form, v1 endpoint?) → response; raise TokenError for AADSTS errors.
GrantHandler = Callable[[Request, dict[str, str], bool], Response]


class EntraService:
    """Routes for one authority host; ``base_url`` is filled in once the server has its port.

    Grants and extra routes are registered by feature modules (``register_grant`` / ``add_route``), so each
    flow lives in its own module and this one keeps discovery and the shared token plumbing.
    """

    def __init__(self, world: World, issuer: TokenIssuer, clock: Clock) -> None:
        self.world = world
        self.issuer = issuer
        self.clock = clock
        self.settings = EntraSettings()
        self.base_url = ""
        self.grants: dict[str, GrantHandler] = {"client_credentials": self._client_credentials}
        self._extra_routes: list[tuple[str, str, Callable[[Request], Response]]] = []
        #: Checks a client assertion issued by someone other than the app itself (a federated token from
        #: Kubernetes, GitHub, Azure Pipelines); raises TokenError. Set by the federation feature.
        self.federated_assertion: Callable[[App, Tenant, str], None] | None = None

    def register_grant(self, grant_type: str, handler: GrantHandler) -> None:
        self.grants[grant_type] = handler

    def add_route(self, method: str, pattern: str, handler: Callable[[Request], Response]) -> None:
        """Add a route before the router is built (pattern as in Router.add; ``TENANT`` is the tenant group)."""
        self._extra_routes.append((method, pattern, handler))

    # -- routing -------------------------------------------------------------------------------
    def router(self) -> Router:
        r = Router()
        for method, pattern, handler in self._extra_routes:
            r.add(method, pattern, handler)
        r.add("GET", "/common/discovery/instance", self.instance_discovery)
        r.add("GET", TENANT + r"/v2\.0/\.well-known/openid-configuration", self.discovery_v2)
        r.add("GET", TENANT + r"/\.well-known/openid-configuration", self.discovery_v1)
        r.add("GET", TENANT + r"/discovery/v2\.0/keys", self.keys)
        r.add("GET", TENANT + r"/discovery/keys", self.keys)
        r.add("POST", TENANT + r"/oauth2/v2\.0/token", self.token_v2)
        r.add("POST", TENANT + r"/oauth2/token", self.token_v1)
        return r

    # -- discovery -----------------------------------------------------------------------------
    def _tenant_or_placeholder(self, ref: str) -> tuple[str, Tenant | None]:
        if ref.lower() in ("common", "organizations", "consumers"):
            return "{tenantid}", None
        tenant = self.world.tenant(ref)
        if tenant is None:
            raise TokenError(90002, tenant=ref)
        return tenant.id, tenant

    def discovery_v2(self, req: Request) -> Response:
        try:
            tid, _ = self._tenant_or_placeholder(req.params["tenant"])
        except TokenError as err:
            return error_response(err.code, self.clock.now(), **err.fields)
        # Endpoints keep the alias the client asked for (common, organizations); only the issuer has a placeholder.
        base = f"{self.base_url}/{req.params['tenant'] if tid == '{tenantid}' else tid}"
        return Response.json(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{self.base_url}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username",
                                 "name", "tid", "ver", "email"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }, {"Cache-Control": "max-age=86400, private"})

    def discovery_v1(self, req: Request) -> Response:
        try:
            tid, _ = self._tenant_or_placeholder(req.params["tenant"])
        except TokenError as err:
            return error_response(err.code, self.clock.now(), **err.fields)
        ref = req.params["tenant"] if tid == "{tenantid}" else tid
        base = f"{self.base_url}/{ref}"
        return Response.json(200, {
            "token_endpoint": f"{base}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{self.base_url}/{ref}/discovery/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": f"https://sts.windows.net/{tid}/",
            "microsoft_multi_refresh_token": True,
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/logout",
            "check_session_iframe": f"{base}/oauth2/checksession",
            "userinfo_endpoint": f"{base}/openid/userinfo",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })

    def keys(self, req: Request) -> Response:
        return Response.json(200, self.issuer.jwks(), {"Cache-Control": "max-age=86400, private"})

    def instance_discovery(self, req: Request) -> Response:
        endpoint = req.query.get("authorization_endpoint", "")
        parts = urllib.parse.urlsplit(endpoint)
        tenant = parts.path.strip("/").split("/")[0] if parts.path else "common"
        host = parts.netloc or urllib.parse.urlsplit(self.base_url).netloc
        return Response.json(200, {
            "tenant_discovery_endpoint": f"https://{host}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": req.query.get("api-version", "1.1"),
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        })

    # -- token endpoint ------------------------------------------------------------------------
    def token_v2(self, req: Request) -> Response:
        return self._token(req, v1=False)

    def token_v1(self, req: Request) -> Response:
        return self._token(req, v1=True)

    def _token(self, req: Request, v1: bool) -> Response:
        try:
            form = req.form()
            grant_type = form.get("grant_type", "")
            if not grant_type:
                raise TokenError(900144, parameter="grant_type")
            handler = self.grants.get(grant_type)
            if handler is None:
                raise TokenError(70003, grant_type=grant_type)
            return handler(req, form, v1)
        except TokenError as err:
            return error_response(err.code, self.clock.now(), err.error_name, **err.fields)

    def tenant_for_token(self, ref: str) -> Tenant:
        if ref.lower() in ("common", "consumers"):
            raise TokenError(9001023)
        tenant = self.world.tenant(ref)
        if tenant is None:
            raise TokenError(90002, tenant=ref)
        return tenant

    def _client_credentials(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = req.header("authorization")
        if basic.lower().startswith("basic "):
            try:
                user, _, pwd = base64.b64decode(basic[6:]).decode().partition(":")
            except (ValueError, binascii.Error):
                user, pwd = "", ""
            client_id = client_id or urllib.parse.unquote_plus(user)
            secret = secret or urllib.parse.unquote_plus(pwd)
        if not client_id:
            raise TokenError(900144, parameter="client_id")
        tenant = self.tenant_for_token(req.params["tenant"])
        app = tenant.app_by_client_id(client_id)
        if app is None:
            raise TokenError(700016, client_id=client_id, tenant=tenant.id)
        assertion = form.get("client_assertion")
        if app.public_client and (secret or assertion):
            raise TokenError(700025)
        if secret:
            self._check_secret(app, secret)
            appidacr = "1"
        elif assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise TokenError(900144, parameter="client_assertion_type")
            self._check_assertion(app, tenant, assertion)
            appidacr = "2"
        else:
            raise TokenError(7000218)
        _, audience = self.resource_for(tenant, form, req, v1, client_credentials=True)
        lifetime = self.settings.access_token_lifetime
        token = self.issuer.access_token(
            tenant_id=tenant.id, audience=audience, lifetime=lifetime, subject_oid=app.object_id,
            app_id=app.client_id, app_only=True, groups=app.groups, appidacr=appidacr, extra=pop_binding(form),
        )
        return self.success(token, lifetime, v1, resource=audience)

    def _check_secret(self, app: App, secret: str) -> None:
        now = self.clock.now()
        matching = [s for s in app.secrets if s.value == secret]
        if not matching:
            raise TokenError(7000215, client_id=app.client_id)
        if all(s.expires is not None and s.expires < now for s in matching):
            raise TokenError(7000222, client_id=app.client_id)

    def _check_assertion(self, app: App, tenant: Tenant, assertion: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise TokenError(50027, detail="The client assertion is not a JWT.") from None
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise TokenError(50027, detail="The client assertion is not a JWT.") from None
        # An assertion issued by an external identity provider (its iss is a URL, not a client id) is a
        # federated credential; one the app signed itself names its own client id.
        if issuer != app.client_id and "://" in str(issuer) and self.federated_assertion is not None:
            self.federated_assertion(app, tenant, assertion)
            return
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            raise TokenError(50027, detail=f"Unsupported signing algorithm {alg!r}.")
        presented = str(header.get("x5t#S256") or header.get("x5t") or "")
        wanted = _b64_any(presented)
        cert = None
        for candidate in app.certificates:
            if wanted and wanted in (_b64_any(t) for t in thumbprints(candidate)):
                cert = candidate
                break
        if cert is None:
            try:
                cert = certificate_from_x5c(app, header, self.clock.now())
            except ChainError as exc:
                raise TokenError(700027, reason=str(exc), thumbprint=str(presented),
                                 client_id=app.client_id) from None
            if cert is not None and wanted not in (_b64_any(t) for t in thumbprints(cert)):
                raise TokenError(700027, reason="The thumbprint does not match the x5c certificate.",
                                 thumbprint=str(presented), client_id=app.client_id)
        if cert is None:
            raise TokenError(700027, reason="The key was not found.", thumbprint=str(presented),
                             client_id=app.client_id)
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion, cert.public_key(), algorithms=[alg],  # type: ignore[arg-type]
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise TokenError(
                700027, reason="The provided signature value did not match the expected signature value.",
                thumbprint=str(presented), client_id=app.client_id,
            ) from None
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise TokenError(700021)
        accepted = set()
        for ref in (tenant.id, *tenant.domains):
            accepted.add(f"{self.base_url}/{ref}/oauth2/v2.0/token")
            accepted.add(f"{self.base_url}/{ref}/oauth2/token")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in accepted for a in auds):
            raise TokenError(50027, detail=f"The audience claim {aud!r} is not this token endpoint.")
        now = self.clock.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if not isinstance(exp, (int, float)) or exp + ASSERTION_SKEW < now or (
            isinstance(nbf, (int, float)) and nbf - ASSERTION_SKEW > now
        ):
            raise TokenError(700024, current=_stamp(now), nbf=_stamp(nbf), exp=_stamp(exp))

    def resource_for(
        self, tenant: Tenant, form: dict[str, str], req: Request, v1: bool, client_credentials: bool
    ) -> tuple[str, str]:
        """(resource, token audience) for the request, checking the resource exists in the tenant."""
        if v1:
            resource = form.get("resource", "")
            if not resource:
                raise TokenError(900144, parameter="resource")
        else:
            scope = form.get("scope", "")
            if not scope:
                raise TokenError(70011)
            resources = [s for s in scope.split() if s not in ("openid", "profile", "offline_access", "email")]
            defaults = [s for s in resources if s.endswith("/.default")]
            if client_credentials and (len(resources) != 1 or not defaults):
                raise TokenError(1002012, scope=scope)
            first = (defaults or resources or [""])[0]
            resource = first.rsplit("/", 1)[0] if "/" in first else first
        found = tenant.resource(resource)
        if found is None:
            raise TokenError(500011, resource=resource, tenant=tenant.id)
        known, audience = found
        if v1 and req.query.get("api-version") == "1.0" and "://" not in known:
            audience = f"spn:{known}"  # the legacy AADv1 audience (kubernetes issue 86410)
        return known, audience

    def success(self, token: str, lifetime: int, v1: bool, resource: str, **extra: Any) -> Response:
        now = int(self.clock.now())
        body: dict[str, Any]
        if v1:
            body = {
                "token_type": "Bearer", "expires_in": str(lifetime), "ext_expires_in": str(lifetime),
                "expires_on": str(now + lifetime), "not_before": str(now), "resource": resource,
                "access_token": token,
            }
        else:
            body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        body.update(extra)
        return Response.json(200, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})


def pop_binding(form: dict[str, str]) -> dict[str, Any] | None:
    """The ``cnf`` claim that binds a token to the client's key (``token_type=pop`` + ``req_cnf``, as Azure
    Arc's clients ask), or None for a bearer request. The answer's token_type stays "Bearer", as in the
    requests kubelogin recorded against Entra ID."""
    if form.get("token_type", "").lower() != "pop":
        return None
    raw = form.get("req_cnf", "")
    try:
        cnf = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        cnf = None
    kid = cnf.get("kid") if isinstance(cnf, dict) else None
    if not isinstance(kid, str) or not kid:
        raise TokenError(9002313)
    return {"cnf": {"kid": kid}}


def _b64_any(text: str) -> bytes:
    """Thumbprints arrive base64url without padding (the spec) or standard base64 (MSAL Python)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, binascii.Error):
        return b""


def _stamp(value: object) -> str:
    import time

    if not isinstance(value, (int, float)):
        return "unknown"
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(value))
