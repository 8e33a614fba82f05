"""The device authorization grant (RFC 8628) as ESTS serves it, v1 and v2, with test controls.

v2 ``/oauth2/v2.0/devicecode`` answers with integers, ``verification_uri`` and ``message``; v1
``/oauth2/devicecode`` with strings and ``verification_url`` (ADAL's shape). Polls accept both grant type
spellings and ``device_code`` or ``code``. A pending code is approved, declined or expired by a test
(``DeviceCodes.approve/decline/expire`` or ``POST /_emulator/devicecodes/<user code>/<action>``) or by a
person on the emulator's own ``/devicelogin`` page.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from akslogin.emulator.entra import userflows
from akslogin.emulator.entra.aadsts import CODES
from akslogin.emulator.entra.endpoints import TENANT, EntraService, TokenError
from akslogin.emulator.net.httpbase import Request, Response

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

KEY = "devicecode"
GRANT_TYPES = ("urn:ietf:params:oauth:grant-type:device_code", "device_code")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class PendingCode:
    device_code: str
    user_code: str
    tenant_id: str
    client_id: str
    form: dict[str, str]  # the devicecode request: scope or resource, for the token response
    v1: bool
    expires_at: float
    interval: int
    state: str = "pending"  # pending | approved | declined | expired | failed | redeemed
    upn: str = ""
    amr: list[str] = field(default_factory=list)
    auth_time: float = 0.0
    error: TokenError | None = None
    polls: list[float] = field(default_factory=list)  # emulator-clock time of each poll
    slow_down_next: bool = False


class DeviceCodes:
    def __init__(self, entra: EntraService, flows: userflows.UserFlows) -> None:
        self.entra = entra
        self.flows = flows
        self._lock = threading.Condition()
        self._codes: dict[str, PendingCode] = {}  # by user code

    # -- test controls ---------------------------------------------------------------------------
    def pending(self) -> list[PendingCode]:
        with self._lock:
            return [c for c in self._codes.values() if c.state == "pending"]

    def get(self, user_code: str) -> PendingCode:
        with self._lock:
            return self._codes[user_code.strip().upper()]

    def wait_for_code(self, timeout: float = 10.0) -> PendingCode:
        """The next pending code (for tests that don't read the prompt)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._codes.values() if c.state == "pending"]
                if found:
                    return found[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no device code was requested")
                self._lock.wait(remaining)

    def approve(self, user_code: str, upn: str, password: str | None = None) -> str:
        """The user signs in (checked with ``password`` when given) and approves; returns the outcome.

        Account problems (disabled, Conditional Access, ...) are not raised: like ESTS, the next poll
        answers with the error. Returns "approved" or the AADSTS code that the poll will return.
        """
        code = self.get(user_code)
        tenant = self.entra.world.tenant(code.tenant_id)
        assert tenant is not None
        try:
            user = self.flows.user_in(tenant, upn)
            if password is not None:
                self.flows.check_password(user, password)
            app = self.flows.public_app(tenant, code.client_id)
            resource = code.form.get("resource") or code.form.get("scope", "")
            amr = self.flows.check_user(tenant, user, app, "devicecode", resource, interactive=True)
        except TokenError as err:
            with self._lock:
                code.state, code.error, code.upn = "failed", err, upn
            return f"AADSTS{err.code}"
        with self._lock:
            code.state, code.upn, code.amr, code.auth_time = "approved", user.upn, amr, self.entra.clock.now()
        return "approved"

    def decline(self, user_code: str) -> None:
        code = self.get(user_code)
        with self._lock:
            code.state = "declined"

    def expire(self, user_code: str) -> None:
        code = self.get(user_code)
        with self._lock:
            code.state = "expired"

    def slow_down(self, user_code: str) -> None:
        """Answer the next poll of this code with ``slow_down``."""
        code = self.get(user_code)
        with self._lock:
            code.slow_down_next = True

    # -- protocol --------------------------------------------------------------------------------
    def start(self, req: Request, v1: bool) -> Response:
        try:
            tenant = self.entra.tenant_for_token(req.params["tenant"])
            form = req.form()
            app = self.flows.public_app(tenant, form.get("client_id", ""))
            if not app.public_client:
                raise TokenError(7000218)
            self.entra.resource_for(tenant, form, req, v1, client_credentials=False)
        except TokenError as err:
            return _error(self.entra, err)
        settings = self.entra.settings
        user_code = "".join(secrets.choice(_ALPHABET) for _ in range(9))
        code = PendingCode(
            device_code=secrets.token_urlsafe(48), user_code=user_code, tenant_id=tenant.id,
            client_id=app.client_id, form={k: v for k, v in form.items() if k in ("scope", "resource")}, v1=v1,
            expires_at=self.entra.clock.now() + settings.device_code_lifetime, interval=settings.device_code_interval,
        )
        with self._lock:
            self._codes[user_code] = code
            self._lock.notify_all()
        uri = f"{self.entra.base_url}/devicelogin"
        message = (f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                   "to authenticate.")
        if v1:
            return Response.json(200, {
                "user_code": user_code, "device_code": code.device_code, "verification_url": uri,
                "expires_in": str(settings.device_code_lifetime), "interval": str(settings.device_code_interval),
                "message": message,
            })
        return Response.json(200, {
            "user_code": user_code, "device_code": code.device_code, "verification_uri": uri,
            "expires_in": settings.device_code_lifetime, "interval": settings.device_code_interval,
            "message": message,
        })

    def poll(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        device_code = form.get("device_code") or form.get("code") or ""
        if not device_code:
            raise TokenError(900144, parameter="device_code")
        now = self.entra.clock.now()
        with self._lock:
            code = next((c for c in self._codes.values() if c.device_code == device_code), None)
            if code is None or code.client_id.lower() != form.get("client_id", "").lower():
                raise TokenError(70000)
            code.polls.append(now)
            if code.state == "pending" and now >= code.expires_at:
                code.state = "expired"
            if code.state == "expired":
                raise TokenError(70019, error_name="code_expired" if v1 else "expired_token")
            if code.state == "declined":
                raise TokenError(65004, error_name="authorization_declined")
            if code.state == "failed" and code.error is not None:
                raise code.error
            if code.state == "redeemed":
                raise TokenError(70000)
            if code.slow_down_next:
                code.slow_down_next = False
                raise TokenError(70016, error_name="slow_down")
            if code.state == "pending":
                raise TokenError(70016)
            code.state = "redeemed"
        tenant = self.entra.tenant_for_token(code.tenant_id)
        user = self.flows.user_in(tenant, code.upn)
        app = self.flows.public_app(tenant, code.client_id)
        merged = {**form, **code.form}
        return self.flows.issue(req, merged, v1, userflows.SignIn(tenant, user, app, code.auth_time, code.amr))

    # -- the page a person would use -------------------------------------------------------------
    def page(self, req: Request) -> Response:
        message = ""
        if req.method == "POST":
            form = req.form()
            user_code = form.get("otc", "").strip().upper()
            try:
                code = self.get(user_code)
            except KeyError:
                message = "That code wasn't recognised. Check it and try again."
            else:
                if code.state != "pending":
                    message = "That code has already been used or has expired."
                elif form.get("action") == "deny":
                    self.decline(user_code)
                    return Response.text(200, _page("You declined the sign-in. You can close this window.", ""),
                                         "text/html; charset=utf-8")
                else:
                    outcome = self.approve(user_code, form.get("login", ""), form.get("passwd", ""))
                    if outcome in ("AADSTS50126", "AADSTS50034", "AADSTS50056"):
                        with self._lock:  # a typo on the page: let the person try again
                            code.state, code.error = "pending", None
                        message = "Your account or password is incorrect."
                    else:
                        text = ("You have signed in. You can close this window." if outcome == "approved"
                                else f"Sign-in failed ({outcome}). Return to the application for details.")
                        return Response.text(200, _page(text, ""), "text/html; charset=utf-8")
        form_html = (
            '<form method="post">'
            '<label>Code <input name="otc" autocomplete="off"></label>'
            '<label>Email <input name="login" type="email"></label>'
            '<label>Password <input name="passwd" type="password"></label>'
            '<button name="action" value="approve" type="submit">Sign in</button>'
            '<button name="action" value="deny" type="submit">Cancel</button></form>'
        )
        return Response.text(200, _page(message, form_html), "text/html; charset=utf-8")


def _page(message: str, body: str) -> str:
    note = f'<p id="message">{html.escape(message)}</p>' if message else ""
    return ("<!doctype html><html><head><title>Enter code - akslogin emulator</title></head><body>"
            f"<h1>Enter code</h1>{note}{body}</body></html>")


def _error(entra: EntraService, err: TokenError) -> Response:
    from akslogin.emulator.entra.aadsts import error_response

    assert err.code in CODES
    return error_response(err.code, entra.clock.now(), err.error_name, **err.fields)


def of(emu: EmulatorHost) -> DeviceCodes:
    return emu.service(KEY, DeviceCodes)


def install(emu: EmulatorHost) -> None:
    codes = DeviceCodes(emu.entra, userflows.of(emu))
    emu.services[KEY] = codes
    for grant in GRANT_TYPES:
        emu.entra.register_grant(grant, codes.poll)
    emu.entra.add_route("POST", TENANT + r"/oauth2/v2\.0/devicecode", lambda req: codes.start(req, v1=False))
    emu.entra.add_route("POST", TENANT + r"/oauth2/devicecode", lambda req: codes.start(req, v1=True))
    emu.entra.add_route("GET", r"/devicelogin", codes.page)
    emu.entra.add_route("POST", r"/devicelogin", codes.page)

    def control(req: Request) -> Response:
        action, user_code = req.params["action"], req.params["code"]
        body = req.json() if req.body else {}
        try:
            if action == "approve":
                return Response.json(200, {"outcome": codes.approve(user_code, str(body.get("upn", "")),
                                                                     body.get("password"))})
            {"decline": codes.decline, "expire": codes.expire, "slow_down": codes.slow_down}[action](user_code)
        except KeyError:
            return Response.json(404, {"error": "unknown user code"})
        return Response.json(200, {"outcome": action})

    def listing(req: Request) -> Response:
        return Response.json(200, [{"user_code": c.user_code, "client_id": c.client_id, "tenant_id": c.tenant_id}
                                   for c in codes.pending()])

    emu.entra.add_route("GET", r"/_emulator/devicecodes", listing)
    emu.entra.add_route("POST", r"/_emulator/devicecodes/(?P<code>[^/]+)/(?P<action>approve|decline|expire|slow_down)",
                        control)
