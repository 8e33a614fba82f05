"""Issue 25: no prompt that nobody can see. Through real kubectl: a devicecode or browser context run without a
terminal (a background tool; interactiveMode Never, or IfAvailable with no terminal) fails within seconds with
the one command to run, and asks the identity provider nothing; a saved sign-in is still redeemed silently; with
a terminal the prompt comes; a prompt that went unanswered holds off the next ones, except 'akslogin login'.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.entra import devicecode
from support.prompts import CONTEXT, _context
from support.run import (
    KubectlRun,
    clean_env,
    kubectl,
    run_akslogin,
    user_code_from,
)
from support.worlds import USER_DOMAIN

DEV = f"dev@{USER_DOMAIN}"


def _no_user_requests(emu: Emulator) -> None:
    asked = [e.path for e in emu.request_log.entries("entra") if e.path.endswith(("/devicecode", "/token"))]
    assert asked == [], asked


@pytest.mark.parametrize("mode", ["Never", "IfAvailable"])
def test_without_a_terminal_a_devicecode_context_fails_fast_with_the_login_command(
        tmp_path: Path, user_emu: Emulator, mode: str) -> None:
    kc = _context(tmp_path, user_emu, mode)
    start = time.monotonic()
    result = kubectl(kc, "get", "pods", env=clean_env(tmp_path, KUBECONFIG=str(kc)), timeout=120)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    # kubectl retries the discovery call a few times, each running the plugin: still seconds, not --timeout
    assert elapsed < 20, f"{elapsed:.1f}s"
    assert "nobody can see a prompt here" in result.stderr
    assert f"Run 'akslogin login --context {CONTEXT}' once in a terminal" in result.stderr
    assert "enter the code" not in result.stderr
    _no_user_requests(user_emu)


def test_a_browser_context_without_a_terminal_opens_no_browser(tmp_path: Path, user_emu: Emulator) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$@\" >> {opened}\n")
    browser.chmod(0o755)
    kc = _context(tmp_path, user_emu, "IfAvailable", "interactive")
    result = kubectl(kc, "get", "pods", env=clean_env(tmp_path, BROWSER=str(browser), KUBECONFIG=str(kc)),
                     timeout=120)
    assert result.returncode != 0 and "a browser sign-in" in result.stderr
    assert not opened.exists(), "a browser was opened for nobody"
    _no_user_requests(user_emu)


def _sign_in_with_a_terminal(tmp_path: Path, emu: Emulator, kc: Path) -> None:
    run_ = KubectlRun(kc, "get", "pods", env=clean_env(tmp_path), terminal=True)
    line = run_.wait_for_line("enter the code")
    assert devicecode.of(emu).approve(user_code_from(line), DEV) == "approved"
    done = run_.finish()
    assert done.returncode == 0 and "web-1" in done.stdout, done.stderr


def test_with_a_terminal_the_prompt_comes_and_later_unattended_calls_refresh_silently(
        tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200  # every later call needs the refresh token
    kc = _context(tmp_path, user_emu, "IfAvailable")
    _sign_in_with_a_terminal(tmp_path, user_emu, kc)
    user_emu.request_log.reset()
    background = kubectl(kc, "get", "pods", env=clean_env(tmp_path), timeout=120)  # no terminal now
    assert background.returncode == 0, background.stderr
    assert "web-1" in background.stdout
    grants = {r.grant_type for r in user_emu.request_log.token_requests()}
    assert grants == {"refresh_token"}


def test_an_unanswered_prompt_holds_off_the_next_ones_but_not_akslogin_login(tmp_path: Path,
                                                                              user_emu: Emulator) -> None:
    kc = _context(tmp_path, user_emu, "IfAvailable", "devicecode", "--timeout", "3s")
    env = clean_env(tmp_path, KUBECONFIG=str(kc))  # what the plugin reads to name the context in its advice
    first = KubectlRun(kc, "get", "pods", env=env, terminal=True)
    first.wait_for_line("enter the code")  # nobody answers it
    assert first.finish().returncode != 0
    user_emu.request_log.reset()
    start = time.monotonic()
    again = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish()
    assert again.returncode != 0 and time.monotonic() - start < 20
    assert "was not answered" in again.stderr and f"akslogin login --context {CONTEXT}" in again.stderr
    assert "enter the code" not in again.stderr
    _no_user_requests(user_emu)
    # the person asks for the sign-in: it prompts (the approval comes from the emulator's API here)
    codes = devicecode.of(user_emu)
    unanswered = {c.user_code for c in codes.pending()}

    def approve_when_asked() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pending = [c for c in codes.pending() if c.user_code not in unanswered]
            if pending:
                codes.approve(pending[0].user_code, DEV)
                return
            time.sleep(0.05)

    import threading

    threading.Thread(target=approve_when_asked, daemon=True).start()
    login = run_akslogin(["login", "--kubeconfig", str(kc), "--context", CONTEXT, "--timeout", "30s"],
                         clean_env(tmp_path, AKSLOGIN_PROMPT="always"), timeout=60)
    assert login.returncode == 0, login.stderr
    after = kubectl(kc, "get", "pods", env=clean_env(tmp_path), timeout=120)
    assert after.returncode == 0 and "web-1" in after.stdout, after.stderr
