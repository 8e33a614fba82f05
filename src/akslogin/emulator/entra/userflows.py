"""User sign-in shared by every user flow: account checks, user tokens, and server-side refresh tokens.

Also the ``password`` (ROPC) and ``refresh_token`` grants. The device code, authorization code and SAML
bearer grants live in their own modules and call :meth:`UserFlows.check_user` and :meth:`UserFlows.issue`.
Refresh tokens are opaque random strings tracked here, so rotation, revocation, inactivity expiry and
sign-in frequency behave as in Entra, on the emulator clock.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from akslogin.emulator.entra.endpoints import EntraService, TokenError, pop_binding
from akslogin.emulator.entra.tokens import b64url_json
from akslogin.emulator.net.httpbase import Request, Response
from akslogin.emulator.world import DEVICE_CA_CODES, App, Tenant, User

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

KEY = "userflows"
#: Scopes MSAL adds to every user request; they never name a resource.
OIDC_SCOPES = ("openid", "profile", "offline_access", "email")


@dataclass
class RefreshGrant:
    """What the emulator remembers about one refresh token (the token itself is only the dict key)."""

    tenant_id: str
    user_oid: str
    client_id: str
    issued_at: float
    auth_time: float
    amr: list[str]
    used: bool = False


@dataclass
class SignIn:
    """A user who proved who they are, ready to get tokens."""

    tenant: Tenant
    user: User
    app: App
    auth_time: float
    amr: list[str] = field(default_factory=lambda: ["pwd"])


class UserFlows:
    def __init__(self, entra: EntraService) -> None:
        self.entra = entra
        self._lock = threading.Lock()
        self._refresh: dict[str, RefreshGrant] = {}
        self._valid_from: dict[str, float] = {}  # user oid → sessions revoked at

    # -- test controls ---------------------------------------------------------------------------
    def revoke_sessions(self, upn: str) -> None:
        """As 'Revoke sessions' in the portal (or a password reset): every refresh token so far stops working."""
        tenant, user = self.find_user(upn)
        if user is None or tenant is None:
            raise KeyError(upn)
        with self._lock:
            self._valid_from[user.object_id] = self.entra.clock.now()

    def refresh_tokens_for(self, upn: str) -> int:
        """How many live refresh tokens the user has (for tests)."""
        _, user = self.find_user(upn)
        with self._lock:
            return sum(1 for g in self._refresh.values() if user is not None and g.user_oid == user.object_id)

    # -- lookups and checks ----------------------------------------------------------------------
    def find_user(self, upn: str) -> tuple[Tenant | None, User | None]:
        tenant = self.entra.world.tenant_for_upn(upn)
        return tenant, (tenant.user_by_upn(upn) if tenant is not None else None)

    def user_in(self, tenant: Tenant, upn: str) -> User:
        user = tenant.user_by_upn(upn)
        if user is None:
            raise TokenError(50034, upn=upn, tenant=tenant.domains[0] if tenant.domains else tenant.id)
        return user

    def public_app(self, tenant: Tenant, client_id: str) -> App:
        if not client_id:
            raise TokenError(900144, parameter="client_id")
        app = tenant.app_by_client_id(client_id)
        if app is None:
            raise TokenError(700016, client_id=client_id, tenant=tenant.id)
        return app

    def check_password(self, user: User, password: str) -> None:
        if user.password is None:
            raise TokenError(50056)
        if not secrets.compare_digest(user.password.encode(), password.encode()):
            raise TokenError(50126)

    def check_user(self, tenant: Tenant, user: User, app: App, flow: str, resource: str,
                   interactive: bool = False) -> list[str]:
        """Account state, MFA, Conditional Access, consent and assignment; returns the ``amr`` claim.

        ``interactive`` flows (a browser page: device code, authorization code) can satisfy MFA and MFA
        registration; ROPC and refresh cannot.
        """
        if user.disabled:
            raise TokenError(50057)
        if user.locked:
            raise TokenError(50053)
        if user.password_expired and flow != "refresh":
            raise TokenError(50055)
        action = user.ca_action(flow)
        if action == "block":
            raise TokenError(53003)
        if action in DEVICE_CA_CODES:
            # The device code is entered on another device, which Entra cannot check: a device-based policy
            # blocks the whole flow with its own code.
            raise TokenError(530033 if flow == "devicecode" else DEVICE_CA_CODES[action])
        amr = ["pwd"]
        if user.mfa:
            if interactive:
                amr.append("mfa")
            elif flow != "refresh":
                raise TokenError(50076 if user.mfa == "required" else 50079, resource=resource)
        if not app.consented:
            raise TokenError(65001, client_id=app.client_id, app_name=app.name)
        if app.assignment_required and not ({user.object_id, *user.groups} & set(app.assigned)):
            raise TokenError(50105, client_id=app.client_id, app_name=app.name, upn=user.upn)
        return amr

    # -- tokens ----------------------------------------------------------------------------------
    def issue(self, req: Request, form: dict[str, str], v1: bool, sign_in: SignIn, *,
              nonce: str | None = None) -> Response:
        """Access token (v1 shape, as for AKS) + refresh token + id_token + client_info for ``sign_in``."""
        tenant, user, app = sign_in.tenant, sign_in.user, sign_in.app
        resource, audience = self.entra.resource_for(tenant, form, req, v1, client_credentials=False)
        lifetime = self.entra.settings.access_token_lifetime
        access = self.entra.issuer.access_token(
            tenant_id=tenant.id, audience=audience, lifetime=lifetime, subject_oid=user.object_id,
            app_id=app.client_id, app_only=False, upn=None if user.guest else user.upn, name=user.display_name,
            groups=user.groups, scp="user.read", appidacr="0", amr=sign_in.amr, extra=pop_binding(form),
        )
        refresh = self._new_refresh_token(RefreshGrant(
            tenant.id, user.object_id, app.client_id, self.entra.clock.now(), sign_in.auth_time, sign_in.amr,
        ))
        extra: dict[str, Any] = {
            "refresh_token": refresh,
            "id_token": self._id_token(tenant, user, app, v1, nonce, sign_in.auth_time),
            "client_info": b64url_json({"uid": user.object_id, "utid": tenant.id}),
        }
        if not v1:
            base = resource.rstrip("/")
            extra["scope"] = f"{base}/user.read {base}/.default"
        else:
            extra["scope"] = "user_impersonation"
        if self.entra.settings.refresh_in:
            extra["refresh_in"] = self.entra.settings.refresh_in if not v1 else str(self.entra.settings.refresh_in)
        return self.entra.success(access, lifetime, v1, resource=audience, **extra)

    def _id_token(self, tenant: Tenant, user: User, app: App, v1: bool, nonce: str | None, auth_time: float) -> str:
        now = int(self.entra.clock.now())
        pairwise = hashlib.sha256(f"{user.object_id}:{app.client_id}".encode()).hexdigest()[:43]
        claims: dict[str, Any] = {
            "aud": app.client_id, "iat": now, "nbf": now, "exp": now + 3600, "oid": user.object_id,
            "sub": pairwise, "tid": tenant.id, "name": user.display_name, "auth_time": int(auth_time),
        }
        if v1:
            claims.update({"iss": f"https://sts.windows.net/{tenant.id}/", "ver": "1.0", "unique_name": user.upn,
                           "upn": user.upn})
        else:
            claims.update({"iss": f"{self.entra.base_url}/{tenant.id}/v2.0", "ver": "2.0",
                           "preferred_username": user.upn})
        if nonce:
            claims["nonce"] = nonce
        return self.entra.issuer.sign(claims, v1=False)

    def _new_refresh_token(self, grant: RefreshGrant) -> str:
        token = "1.emu." + secrets.token_urlsafe(64)
        with self._lock:
            self._refresh[token] = grant
        return token

    # -- grants ----------------------------------------------------------------------------------
    def password_grant(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        tenant = self.entra.tenant_for_token(req.params["tenant"])
        app = self.public_app(tenant, form.get("client_id", ""))
        username = form.get("username", "")
        if not username:
            raise TokenError(900144, parameter="username")
        user = self.user_in(tenant, username)
        if tenant.federation_for(user.upn) is not None:
            # Cloud passwords do not exist for federated users; the client must go through the IdP.
            raise TokenError(50126)
        self.check_password(user, form.get("password", ""))
        resource, _ = self.entra.resource_for(tenant, form, req, v1, client_credentials=False)
        amr = self.check_user(tenant, user, app, "ropc", resource)
        return self.issue(req, form, v1, SignIn(tenant, user, app, self.entra.clock.now(), amr))

    def refresh_grant(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        tenant = self.entra.tenant_for_token(req.params["tenant"])
        app = self.public_app(tenant, form.get("client_id", ""))
        token = form.get("refresh_token", "")
        if not token:
            raise TokenError(900144, parameter="refresh_token")
        now = self.entra.clock.now()
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None:
                raise TokenError(9002313)
            if grant.client_id.lower() != app.client_id.lower() or grant.tenant_id != tenant.id:
                raise TokenError(70000)
            valid_from = self._valid_from.get(grant.user_oid)
            if valid_from is not None and grant.issued_at <= valid_from:
                raise TokenError(50173, issued=_stamp(grant.issued_at), valid_from=_stamp(valid_from))
            if now - grant.issued_at > self.entra.settings.refresh_token_max_inactive:
                raise TokenError(700082, issued=_stamp(grant.issued_at))
            if grant.used and self.entra.settings.refresh_token_single_use:
                raise TokenError(70000)
            grant.used = True
        user = next((u for u in tenant.users if u.object_id == grant.user_oid), None)
        if user is None:
            raise TokenError(50034, upn=grant.user_oid, tenant=tenant.id)
        if user.sign_in_frequency is not None and now - grant.auth_time > user.sign_in_frequency:
            raise TokenError(70043, issued=_stamp(grant.auth_time), limit=f"{user.sign_in_frequency} seconds")
        resource, _ = self.entra.resource_for(tenant, form, req, v1, client_credentials=False)
        self.check_user(tenant, user, app, "refresh", resource)
        return self.issue(req, form, v1, SignIn(tenant, user, app, grant.auth_time, grant.amr))


def _stamp(epoch: float) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(epoch))


def of(emu: EmulatorHost) -> UserFlows:
    return emu.service(KEY, UserFlows)


def install(emu: EmulatorHost) -> None:
    flows = UserFlows(emu.entra)
    emu.services[KEY] = flows
    emu.entra.register_grant("password", flows.password_grant)
    emu.entra.register_grant("refresh_token", flows.refresh_grant)

    def revoke(req: Request) -> Response:
        try:
            flows.revoke_sessions(req.params["upn"])
        except KeyError:
            return Response.json(404, {"error": "unknown user"})
        return Response.json(200, {"revoked": req.params["upn"]})

    emu.entra.add_route("POST", r"/_emulator/users/(?P<upn>[^/]+)/revoke", revoke)
