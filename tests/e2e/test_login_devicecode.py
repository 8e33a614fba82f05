"""--login devicecode end to end through real kubectl: the prompt reaches kubectl's stderr, the user
approves on the emulator, kubectl lists pods; later runs refresh silently; revoked or expired refresh
tokens lead to a clear notice and a new prompt; --legacy gets the spn: audience from the v1 endpoint.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.entra import devicecode, userflows
from support.login_devicecode import DEV
from support.run import (
    KubectlRun,
    clean_env,
    user_args,
    user_code_from,
    write_kubeconfig,
)
from support.worlds import USER_DOMAIN


def _login(emu: Emulator, kc: Path, env: dict[str, str], upn: str = DEV, *args: str) -> KubectlRun:
    """Start kubectl, read the device code from its stderr, approve it as ``upn``."""
    run_ = KubectlRun(kc, *(args or ("get", "pods")), env=env, terminal=True)
    line = run_.wait_for_line("enter the code")
    assert devicecode.of(emu).approve(user_code_from(line), upn) == "approved"
    return run_


def _setup(tmp_path: Path, emu: Emulator, cluster: str = "users", *extra: str) -> tuple[Path, dict[str, str], Path]:
    cache = tmp_path / "cache"
    kc = write_kubeconfig(tmp_path / "config", emu, cluster, user_args(emu, "devicecode", cache, *extra),
                          interactive_mode="IfAvailable")
    return kc, clean_env(tmp_path), cache


def test_first_run_prompts_then_later_runs_refresh_without_prompt(tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200  # below akslogin's 5-minute margin: every run refreshes
    kc, env, cache = _setup(tmp_path, user_emu)
    first = _login(user_emu, kc, env).finish()
    assert first.returncode == 0, first.stderr
    assert "web-1" in first.stdout
    assert "/devicelogin" in first.stderr  # the prompt reached kubectl's stderr
    grants = [r.grant_type for r in user_emu.request_log.token_requests() if r.status == 200]
    assert grants == ["urn:ietf:params:oauth:grant-type:device_code"]
    msal_file = next((cache / "msal").iterdir())
    assert oct(msal_file.stat().st_mode & 0o777) == "0o600"
    assert oct((cache / "msal").stat().st_mode & 0o777) == "0o700"

    user_emu.request_log.reset()
    second = KubectlRun(kc, "get", "pods", "-n", "dev", env=env, terminal=True).finish()
    assert second.returncode == 0, second.stderr
    assert "api-1" in second.stdout
    assert "enter the code" not in second.stderr
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["refresh_token"]
    users = {r.user for r in user_emu.request_log.entries("aks:users") if r.status == 200}
    assert users == {DEV}


def test_fresh_token_means_no_request_at_all(tmp_path: Path, user_emu: Emulator) -> None:
    kc, env, _ = _setup(tmp_path, user_emu)
    assert _login(user_emu, kc, env).finish().returncode == 0
    user_emu.request_log.reset()
    again = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish()
    assert again.returncode == 0 and "enter the code" not in again.stderr
    assert user_emu.request_log.entries("entra") == []


@pytest.mark.parametrize("cause", ["revoked", "idle-90-days"])
def test_dead_refresh_token_tells_the_user_and_prompts_again(tmp_path: Path, user_emu: Emulator, cause: str) -> None:
    user_emu.entra.settings.access_token_lifetime = 200
    kc, env, _ = _setup(tmp_path, user_emu)
    assert _login(user_emu, kc, env, f"dev2@{USER_DOMAIN}").finish().returncode == 0
    if cause == "revoked":
        userflows.of(user_emu).revoke_sessions(f"dev2@{USER_DOMAIN}")
        code = "AADSTS50173"
    else:
        user_emu.clock.advance(91 * 86400)
        code = "AADSTS700082"
    again = KubectlRun(kc, "get", "pods", env=env, terminal=True)
    notice = again.wait_for_line("can no longer be used")
    assert f"dev2@{USER_DOMAIN}" in notice and code in notice
    line = again.wait_for_line("enter the code")
    devicecode.of(user_emu).approve(user_code_from(line), f"dev2@{USER_DOMAIN}")
    result = again.finish()
    assert result.returncode == 0, result.stderr
    assert "web-1" in result.stdout


def test_legacy_uses_v1_endpoint_and_spn_audience(tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200
    kc, env, cache = _setup(tmp_path, user_emu, "users-legacy", "--legacy")
    first = _login(user_emu, kc, env, DEV, "get", "pods", "-n", "default").finish()
    assert first.returncode == 0, first.stderr
    paths = [r.path for r in user_emu.request_log.entries("entra") if r.method == "POST"]
    assert all("/v2.0/" not in p for p in paths) and any(p.endswith("/oauth2/devicecode") for p in paths)
    assert next(iter((cache / "msal").glob("*.legacy.json"))).stat().st_mode & 0o077 == 0
    user_emu.request_log.reset()
    second = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish()  # legacy sign-ins are kept too
    assert second.returncode == 0 and "enter the code" not in second.stderr
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["refresh_token"]


@pytest.mark.parametrize(("action", "code", "text"), [
    ("decline", "AADSTS65004", "declined in the browser"),
    ("expire", "AADSTS70019", "device code expired"),
])
def test_declined_or_expired_code_is_one_clear_paragraph(tmp_path: Path, user_emu: Emulator, action: str,
                                                         code: str, text: str) -> None:
    kc, env, _ = _setup(tmp_path, user_emu)
    run_ = KubectlRun(kc, "get", "pods", env=env, terminal=True)
    acted = 0
    while True:  # kubectl calls a failing plugin more than once; each call prompts anew
        try:
            line = run_.wait_for_line("enter the code", timeout=20)
        except AssertionError:
            break
        getattr(devicecode.of(user_emu), action)(user_code_from(line))
        acted += 1
    result = run_.finish()
    assert acted >= 1
    assert result.returncode == 1
    assert code in result.stderr and text in result.stderr
    assert "Traceback" not in result.stderr
