"""--login interactive: authorization code + PKCE on a 127.0.0.1 loopback redirect. End to end through
real kubectl with a real headless Chromium filling in the emulator's sign-in page; the receiver's rules
(loopback only, form_post only, state checked) and the no-browser message are tested directly.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
import threading
import urllib.parse
from pathlib import Path

import pytest
import requests

from akslogin.credentials.base import CredentialContext
from akslogin.credentials.interactive import InteractiveBrowserCredential
from akslogin.credentials.loopback import LoopbackReceiver
from akslogin.emulator import Emulator
from akslogin.emulator.entra import authorize
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.get_token import run
from support.login_interactive import DEV
from support.run import (
    clean_env,
    credential_context,
    decode_jwt_payload,
    user_args,
)
from support.user_fidelity import scripted_browser
from support.worlds import PASSWORD, USER_DOMAIN


def _ctx(tmp_path: Path, emu: Emulator, *extra: str) -> CredentialContext:
    ctx, _ = credential_context(emu, "interactive", tmp_path, *extra)
    return ctx  # type: ignore[no-any-return]


def test_injected_browser_with_login_hint_and_fixed_redirect_port(tmp_path: Path, user_emu: Emulator) -> None:
    seen: list[str] = []
    launch = scripted_browser(user_emu, DEV, PASSWORD)

    def browser(url: str) -> bool:
        seen.append(url)
        return bool(launch(url))

    with LoopbackReceiver() as probe:  # find a free port, then release it
        port = probe.port
    ctx = _ctx(tmp_path, user_emu, "--login-hint", DEV, "--redirect-url", f"http://127.0.0.1:{port}/cb")
    token = InteractiveBrowserCredential(ctx, browser=browser).get_token(AKS_SERVER_APP_ID)
    assert decode_jwt_payload(token.token)["upn"] == DEV
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(seen[0]).query))
    assert query["redirect_uri"] == f"http://127.0.0.1:{port}/cb" and query["login_hint"] == DEV
    assert query["code_challenge_method"] == "S256" and query["response_mode"] == "form_post"


def test_no_browser_says_so_and_suggests_devicecode(tmp_path: Path, user_emu: Emulator) -> None:
    env = clean_env(tmp_path, BROWSER="/bin/false", AKSLOGIN_PROMPT="always")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    out, err = io.StringIO(), io.StringIO()
    assert run(user_args(user_emu, "interactive", tmp_path / "c1")[1:], env, out, err) == 1
    assert "could not open a web browser" in err.getvalue() and "--login devicecode" in err.getvalue()
    env.pop("BROWSER")
    out, err = io.StringIO(), io.StringIO()
    assert run(user_args(user_emu, "interactive", tmp_path / "c2")[1:], env, out, err) == 1
    assert "none is available here" in err.getvalue() and "--login devicecode" in err.getvalue()


def test_receiver_listens_on_loopback_only_and_checks_state() -> None:
    with LoopbackReceiver() as receiver:
        receiver.expected_state = "right"
        assert receiver._server.server_address[0] == "127.0.0.1"
        base = f"http://127.0.0.1:{receiver.port}/"
        assert requests.get(base + "?code=x&state=right", timeout=5).status_code == 400  # query mode refused
        forged = requests.post(base, data={"code": "evil", "state": "wrong"}, timeout=5)
        assert forged.status_code == 400 and "State mismatch" in forged.text
        assert requests.post(base + "other", data={"code": "x", "state": "right"}, timeout=5).status_code == 404
        assert receiver.wait(0.2) is None
        good = requests.post(base, data={"code": "c", "state": "right"}, timeout=5)
        assert good.status_code == 200 and "Authentication complete" in good.text
        assert receiver.wait(1) == {"code": "c", "state": "right"}


def test_interactive_times_out_with_advice(tmp_path: Path, user_emu: Emulator) -> None:
    ctx = _ctx(tmp_path, user_emu, "--timeout", "1s")
    credential = InteractiveBrowserCredential(ctx, browser=lambda url: True)  # opened, but nobody signs in
    with pytest.raises(Exception, match="did not finish within 1s"):
        credential.get_token(AKS_SERVER_APP_ID)


def test_account_problem_after_sign_in_is_posted_back_and_explained(tmp_path: Path, user_emu: Emulator) -> None:
    ctx = _ctx(tmp_path, user_emu)
    credential = InteractiveBrowserCredential(ctx, browser=scripted_browser(user_emu, f"blocked@{USER_DOMAIN}",
                                                                            PASSWORD))
    with pytest.raises(Exception, match="AADSTS53003") as info:
        credential.get_token(AKS_SERVER_APP_ID)
    assert "Conditional Access" in str(info.value.hint)  # type: ignore[attr-defined]


def test_auto_approve_user_needs_no_form(tmp_path: Path, user_emu: Emulator) -> None:
    """The demo convenience: a login_hint naming an auto_approve user skips the form."""
    before = authorize.of(user_emu).submissions
    done = threading.Event()

    def browser(url: str) -> bool:
        def go() -> None:
            page = requests.get(url, verify=str(user_emu.ca_path), timeout=10).text
            from support.user_fidelity import _Form

            form = _Form()
            form.feed(page)
            requests.post(form.action, data=form.fields, timeout=10)
            done.set()

        threading.Thread(target=go, daemon=True).start()
        return True

    ctx = _ctx(tmp_path, user_emu, "--login-hint", f"auto@{USER_DOMAIN}")
    token = InteractiveBrowserCredential(ctx, browser=browser).get_token(AKS_SERVER_APP_ID)
    assert decode_jwt_payload(token.token)["upn"] == f"auto@{USER_DOMAIN}"
    assert authorize.of(user_emu).submissions == before and done.wait(5)


def test_receiver_survives_junk(capfd: pytest.CaptureFixture[str]) -> None:
    import socket

    with LoopbackReceiver() as receiver:
        receiver.expected_state = "s"
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: nonsense\r\n\r\n")
            assert b" 404 " in sock.recv(200)
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
            sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
            sock.recv(200)
        ok = requests.post(f"http://127.0.0.1:{receiver.port}/", data={"code": "c", "state": "s"}, timeout=5)
        assert ok.status_code == 200 and receiver.wait(1) == {"code": "c", "state": "s"}
    assert "Traceback" not in capfd.readouterr().err
