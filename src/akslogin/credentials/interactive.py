"""``--login interactive``: browser sign-in with authorization code + PKCE on a loopback redirect.

MSAL builds the request (state, nonce, PKCE) and redeems the code; akslogin owns the two parts where a
CLI must be careful: the receiver (127.0.0.1 only, form_post only, state checked; see :mod:`loopback`)
and the browser launch (injectable; on a machine without a browser it says so and points to devicecode).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from akslogin.aadsts import describe_idp_error
from akslogin.credentials import broker
from akslogin.credentials.base import CredentialContext
from akslogin.credentials.browser import Launcher, system_browser
from akslogin.credentials.loopback import LoopbackReceiver
from akslogin.credentials.msal_app import call
from akslogin.credentials.user import UserCredential
from akslogin.credentials.user import requirements as requirements  # a client app and a tenant, nothing more
from akslogin.errors import AuthenticationError, UsageError

LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


class InteractiveBrowserCredential(UserCredential):
    mode = "interactive"
    prompt_for = "a browser sign-in"

    def __init__(self, ctx: CredentialContext, browser: Launcher | None = None) -> None:
        super().__init__(ctx)
        #: MSAL's broker options when AKSLOGIN_BROKER asks for the OS broker (refused here when it cannot work).
        self._broker = broker.app_options(ctx.environ)
        self._host, self._port, self._path = parse_redirect_url(ctx.opts.redirect_url)
        self._browser = browser if browser is not None else system_browser(ctx.environ)

    def account_hint(self) -> str:
        return self.ctx.opts.login_hint

    def app_options(self) -> dict[str, Any]:
        return dict(self._broker)

    def sign_in(self, app: Any, scopes: list[str]) -> dict[str, Any]:
        if self._broker:
            return self._sign_in_with_broker(app, scopes)
        if self._browser is None:
            raise AuthenticationError(
                "--login interactive needs a web browser, and none is available here (no DISPLAY or "
                "WAYLAND_DISPLAY, and BROWSER is not set).",
                "Use --login devicecode to sign in from another device (or set BROWSER to a browser command).",
            )
        hint = self.ctx.opts.login_hint or None
        with LoopbackReceiver(self._port, self._path) as receiver:
            redirect_uri = f"http://{self._host}:{receiver.port}{self._path}"
            flow = call(app.initiate_auth_code_flow, scopes, redirect_uri=redirect_uri, login_hint=hint,
                        prompt=None if hint else "select_account", response_mode="form_post")
            receiver.expected_state = str(flow["state"])
            self.ctx.log(1, f"waiting for the browser sign-in on {redirect_uri}")
            if not self._browser(str(flow["auth_uri"])):
                raise AuthenticationError(
                    "could not open a web browser for --login interactive.",
                    "Use --login devicecode to sign in from another device, or set BROWSER to a working browser "
                    "command.",
                )
            self.ctx.stderr.write("akslogin: a browser window was opened for you to sign in; waiting up to "
                                  f"{max(self.deadline - self.ctx.clock(), 0):.0f}s.\n")
            self.ctx.stderr.flush()
            response = receiver.wait(self.deadline - self.ctx.clock())
        if response is None:
            unanswered = AuthenticationError(
                f"the browser sign-in did not finish within {self.ctx.opts.timeout_seconds:.0f}s.",
                "Finish signing in sooner or raise --timeout; on a machine without a usable browser use "
                "--login devicecode.",
            )
            unanswered.unanswered = True  # type: ignore[attr-defined]  # see credentials.attendance.prompting
            raise unanswered
        result: dict[str, Any] = call(app.acquire_token_by_auth_code_flow, flow, response,
                                      data=self.ctx.request_data())
        if "error" in result and "access_token" not in result:
            raise describe_idp_error(result)
        return result


    def _sign_in_with_broker(self, app: Any, scopes: list[str]) -> dict[str, Any]:
        """The OS broker's own window (MSAL falls back to its browser flow where the broker is unavailable)."""
        self.ctx.log(1, "signing in through the OS sign-in broker")
        result: dict[str, Any] = call(app.acquire_token_interactive, scopes,
                                      parent_window_handle=app.CONSOLE_WINDOW_HANDLE,
                                      login_hint=self.ctx.opts.login_hint or None, data=self.ctx.request_data())
        if "error" in result and "access_token" not in result:
            raise describe_idp_error(result)
        return result


def parse_redirect_url(url: str) -> tuple[str, int, str]:
    """(host, port, path) of --redirect-url; only http on a loopback host is allowed (RFC 8252)."""
    if not url:
        return "localhost", 0, "/"
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 0
    except ValueError:
        port = -1
    if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS or port < 0:
        raise UsageError(
            f"--redirect-url must be an http URL on localhost or 127.0.0.1, not {url[:80]!r}.",
            "For example http://localhost:8400; akslogin listens on 127.0.0.1 only.",
        )
    return str(parts.hostname), port, parts.path or "/"
