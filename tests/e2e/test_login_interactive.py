"""--login interactive: authorization code + PKCE on a 127.0.0.1 loopback redirect. End to end through
real kubectl with a real headless Chromium filling in the emulator's sign-in page; the receiver's rules
(loopback only, form_post only, state checked) and the no-browser message are tested directly.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import io
import json
import urllib.parse
from pathlib import Path

from akslogin.credentials.loopback import LoopbackReceiver
from akslogin.emulator import Emulator
from akslogin.emulator.entra import authorize
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.get_token import run
from support.chromium_signin import sign_in, spki_hash
from support.login_interactive import DEV, _browser_env, needs_chromium
from support.run import (
    KubectlRun,
    user_args,
    write_kubeconfig,
)
from support.worlds import PASSWORD


@needs_chromium
def test_kubectl_signs_in_through_chromium_then_refreshes_silently(tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200
    cache = tmp_path / "cache"
    kc = write_kubeconfig(tmp_path / "config", user_emu, "users", user_args(user_emu, "interactive", cache),
                          interactive_mode="IfAvailable")
    env = _browser_env(tmp_path, user_emu, DEV, PASSWORD)
    env.pop("DISPLAY", None)
    before = authorize.of(user_emu).submissions
    result = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish(timeout=90)
    assert result.returncode == 0, result.stderr + (tmp_path / "browser-result.json").read_text()
    assert "web-1" in result.stdout
    browser = json.loads((tmp_path / "browser-result.json").read_text())
    assert "Authentication complete" in browser["text"]
    redirect = urllib.parse.urlsplit(browser["url"])
    assert redirect.scheme == "http" and redirect.hostname == "localhost"
    assert authorize.of(user_emu).submissions == before + 1  # Chromium really submitted the form
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["authorization_code"]
    assert {r.user for r in user_emu.request_log.entries("aks:users") if r.status == 200} == {DEV}

    user_emu.request_log.reset()
    env["BROWSER"] = "/bin/false"  # no browser may be needed now
    again = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish()
    assert again.returncode == 0, again.stderr
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["refresh_token"]


@needs_chromium
def test_chromium_cancel_reaches_the_cli_as_declined(tmp_path: Path, user_emu: Emulator) -> None:
    env = _browser_env(tmp_path, user_emu, DEV, PASSWORD)
    env["SIGNIN_ACTION"] = "cancel"
    env["AKSLOGIN_PROMPT"] = "always"  # in process: the test, not a terminal, is the person
    out, err = io.StringIO(), io.StringIO()
    rc = run(user_args(user_emu, "interactive", tmp_path / "cache")[1:], env, out, err)
    assert rc == 1
    assert "AADSTS65004" in err.getvalue() and "declined in the browser" in err.getvalue()


@needs_chromium
def test_chromium_drives_the_page_directly(user_emu: Emulator) -> None:
    """The browser driver itself: a wrong password keeps the form with an error; the right one posts back."""
    with LoopbackReceiver() as receiver:
        receiver.expected_state = "s1"
        url = (user_emu.authority_host + f"{user_emu.world.tenants[0].id}/oauth2/v2.0/authorize?" +
               urllib.parse.urlencode({"client_id": "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "response_type": "code",
                                       "redirect_uri": f"http://127.0.0.1:{receiver.port}/", "state": "s1",
                                       "scope": f"{AKS_SERVER_APP_ID}/.default", "response_mode": "form_post"}))
        outcome = sign_in(url, DEV, PASSWORD, spki_hash(user_emu.tls.server_cert_path.read_bytes()))
        assert "Authentication complete" in outcome["text"]
        got = receiver.wait(5)
    assert got is not None and got["state"] == "s1" and got["code"]
