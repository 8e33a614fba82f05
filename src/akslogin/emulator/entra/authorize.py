"""The authorization endpoint: a sign-in page, then a form_post of code + state to the loopback redirect.

``GET /{tenant}/oauth2/v2.0/authorize`` checks the client and redirect URI and shows a sign-in form;
``POST /{tenant}/login`` checks the password and the account (as every user flow does), then answers with
a page that POSTs ``code`` and ``state`` (or ``error``) to ``redirect_uri`` — what MSAL's and akslogin's
loopback receivers expect. The ``authorization_code`` grant redeems the code once, with PKCE.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from akslogin.emulator.entra import userflows
from akslogin.emulator.entra.aadsts import CODES
from akslogin.emulator.entra.endpoints import TENANT, EntraService, TokenError
from akslogin.emulator.entra.tokens import b64url_json
from akslogin.emulator.net.httpbase import Request, Response
from akslogin.emulator.world import App, Tenant

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

KEY = "authorize"
#: Authorization codes live this long (ESTS: about 10 minutes).
CODE_LIFETIME = 600
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass
class AuthRequest:
    tenant_id: str
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    login_hint: str


@dataclass
class IssuedCode:
    request: AuthRequest
    upn: str
    amr: list[str]
    auth_time: float
    redeemed: bool = False


class Authorize:
    def __init__(self, entra: EntraService, flows: userflows.UserFlows) -> None:
        self.entra = entra
        self.flows = flows
        self._lock = threading.Lock()
        self._requests: dict[str, AuthRequest] = {}
        self._codes: dict[str, IssuedCode] = {}
        #: How many sign-in forms were submitted (tests check that a real browser did it).
        self.submissions = 0

    # -- GET /authorize --------------------------------------------------------------------------
    def authorize(self, req: Request) -> Response:
        q = req.query
        try:
            tenant = self.entra.tenant_for_token(req.params["tenant"])
            app = self.flows.public_app(tenant, q.get("client_id", ""))
            redirect_uri = q.get("redirect_uri", "")
            if not _redirect_allowed(app, redirect_uri):
                raise TokenError(50011, redirect_uri=redirect_uri, client_id=app.client_id)
            if q.get("response_type") != "code":
                raise TokenError(900144, parameter="response_type=code")
        except TokenError as err:
            return _error_page(err)
        method = q.get("code_challenge_method", "plain" if q.get("code_challenge") else "")
        request = AuthRequest(
            tenant_id=tenant.id, client_id=app.client_id, redirect_uri=redirect_uri, state=q.get("state", ""),
            scope=q.get("scope", ""), nonce=q.get("nonce", ""), code_challenge=q.get("code_challenge", ""),
            code_challenge_method=method, login_hint=q.get("login_hint", ""),
        )
        if q.get("response_mode", "query") != "form_post":
            return _error_page(TokenError(900144, parameter="response_mode=form_post"))
        ctx = secrets.token_urlsafe(24)
        with self._lock:
            self._requests[ctx] = request
        hinted = tenant.user_by_upn(request.login_hint) if request.login_hint else None
        if hinted is not None and hinted.auto_approve:
            return self._finish(ctx, tenant, request, hinted.upn, password=None)
        return _html(200, _signin_page(req.params["tenant"], ctx, request.login_hint, ""))

    # -- POST /login -----------------------------------------------------------------------------
    def login(self, req: Request) -> Response:
        form = req.form()
        with self._lock:
            self.submissions += 1
            request = self._requests.get(form.get("ctx", ""))
        if request is None:
            return _html(400, _message_page("This sign-in request has expired. Start again from the application."))
        tenant = self.entra.world.tenant(request.tenant_id)
        assert tenant is not None
        if form.get("action") == "cancel":
            with self._lock:
                self._requests.pop(form.get("ctx", ""), None)
            return _post_back(request, _error_fields(TokenError(65004), "access_denied"))
        return self._finish(form.get("ctx", ""), tenant, request, form.get("login", "").strip(),
                            password=form.get("passwd", ""))

    def _finish(self, ctx: str, tenant: Tenant, request: AuthRequest, upn: str, password: str | None) -> Response:
        user = tenant.user_by_upn(upn)
        if user is None:
            return _html(200, _signin_page(tenant.id, ctx, upn, "We couldn't find an account with that username."))
        if password is not None:
            try:
                self.flows.check_password(user, password)
            except TokenError:
                return _html(200, _signin_page(tenant.id, ctx, upn, "Your account or password is incorrect."))
        app = tenant.app_by_client_id(request.client_id)
        assert app is not None
        with self._lock:
            self._requests.pop(ctx, None)
        try:
            amr = self.flows.check_user(tenant, user, app, "interactive", request.scope, interactive=True)
        except TokenError as err:
            return _post_back(request, _error_fields(err, "access_denied" if err.code == 65004 else None))
        code = secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = IssuedCode(request, user.upn, amr, self.entra.clock.now())
        client_info = b64url_json({"uid": user.object_id, "utid": tenant.id})
        return _post_back(request, {"code": code, "state": request.state, "client_info": client_info,
                                    "session_state": secrets.token_hex(16)})

    # -- the authorization_code grant ------------------------------------------------------------
    def redeem(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        tenant = self.entra.tenant_for_token(req.params["tenant"])
        app = self.flows.public_app(tenant, form.get("client_id", ""))
        code = form.get("code", "")
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.request.tenant_id != tenant.id:
                raise TokenError(9002313)
            if issued.redeemed:
                raise TokenError(54005)
            if self.entra.clock.now() - issued.auth_time > CODE_LIFETIME:
                raise TokenError(70008)
            issued.redeemed = True
        request = issued.request
        if request.client_id.lower() != app.client_id.lower():
            raise TokenError(70000)
        if form.get("redirect_uri", "") != request.redirect_uri:
            raise TokenError(50011, redirect_uri=form.get("redirect_uri", ""), client_id=app.client_id)
        if request.code_challenge:
            verifier = form.get("code_verifier", "")
            if request.code_challenge_method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
                computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            else:
                computed = verifier
            if not verifier or not secrets.compare_digest(computed, request.code_challenge):
                raise TokenError(501481)
        user = self.flows.user_in(tenant, issued.upn)
        merged = dict(form)
        merged.setdefault("scope", request.scope)
        return self.flows.issue(req, merged, v1, userflows.SignIn(tenant, user, app, issued.auth_time, issued.amr),
                                nonce=request.nonce or None)


def _redirect_allowed(app: App, uri: str) -> bool:
    if uri in app.redirect_uris:
        return True
    parts = urllib.parse.urlsplit(uri)
    host = parts.hostname or ""
    if host == "::1":
        host = "[::1]"
    return app.public_client and parts.scheme == "http" and host in LOOPBACK_HOSTS


def _error_fields(err: TokenError, error: str | None = None) -> dict[str, str]:
    spec = CODES[err.code]
    text = spec.text.format_map(_Blank(err.fields))
    return {"error": error or spec.error, "error_description": f"AADSTS{err.code}: {text}",
            "error_uri": f"https://login.microsoftonline.com/error?code={err.code}"}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _post_back(request: AuthRequest, fields: dict[str, str]) -> Response:
    """The page that POSTs the response to the app's redirect URI (response_mode=form_post)."""
    if "code" not in fields:
        fields = {**fields, "state": request.state}
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    page = ("<!doctype html><html><head><title>Working...</title></head><body>"
            f'<form method="POST" name="hiddenform" action="{html.escape(request.redirect_uri)}">{inputs}'
            '<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit">'
            "</noscript></form><script>document.forms[0].submit();</script></body></html>")
    return _html(200, page)


def _signin_page(tenant: str, ctx: str, login: str, message: str) -> str:
    note = f'<p id="error" role="alert">{html.escape(message)}</p>' if message else ""
    return (
        "<!doctype html><html><head><title>Sign in to your account</title></head><body>"
        f"<h1>Sign in</h1>{note}"
        f'<form id="signin" method="post" action="/{html.escape(tenant)}/login">'
        f'<input type="hidden" name="ctx" value="{html.escape(ctx)}">'
        f'<label>Email <input id="login" name="login" type="email" value="{html.escape(login)}"></label>'
        '<label>Password <input id="passwd" name="passwd" type="password"></label>'
        '<button id="submit" name="action" value="signin" type="submit">Sign in</button>'
        '<button id="cancel" name="action" value="cancel" type="submit">Cancel</button>'
        "</form></body></html>"
    )


def _message_page(text: str) -> str:
    return f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"


def _error_page(err: TokenError) -> Response:
    fields = _error_fields(err)
    return _html(400, _message_page(f"Sorry, but we're having trouble signing you in. {fields['error_description']}"))


def _html(status: int, page: str) -> Response:
    return Response(status, page.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8",
                                                    "Cache-Control": "no-store"})


def of(emu: EmulatorHost) -> Authorize:
    return emu.service(KEY, Authorize)


def install(emu: EmulatorHost) -> None:
    auth = Authorize(emu.entra, userflows.of(emu))
    emu.services[KEY] = auth
    emu.entra.register_grant("authorization_code", auth.redeem)
    emu.entra.add_route("GET", TENANT + r"/oauth2/v2\.0/authorize", auth.authorize)
    emu.entra.add_route("POST", TENANT + r"/login", auth.login)
