"""Issue 25: no prompt that nobody can see. Through real kubectl: a devicecode or browser context run without a
terminal (a background tool; interactiveMode Never, or IfAvailable with no terminal) fails within seconds with
the one command to run, and asks the identity provider nothing; a saved sign-in is still redeemed silently; with
a terminal the prompt comes; a prompt that went unanswered holds off the next ones, except 'akslogin login'.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import time
from pathlib import Path

from akslogin.emulator import Emulator
from support.prompts import CONTEXT, _context
from support.run import (
    akslogin_bin,
    clean_env,
    run_akslogin,
    user_args,
)


def test_one_unattended_call_answers_within_two_seconds(tmp_path: Path, user_emu: Emulator) -> None:
    kc = _context(tmp_path, user_emu, "Never")
    args = user_args(user_emu, "devicecode", tmp_path / "cache")
    env = clean_env(tmp_path, KUBECONFIG=str(kc),
                    KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}')
    start = time.monotonic()
    result = run_akslogin(args, env, timeout=60)
    assert time.monotonic() - start < 2.0
    assert result.returncode == 1 and f"akslogin login --context {CONTEXT}" in result.stderr


def test_the_hint_names_the_flags_when_no_kubeconfig_context_runs_them(tmp_path: Path, user_emu: Emulator) -> None:
    args = user_args(user_emu, "devicecode", tmp_path / "cache")
    result = run_akslogin(args, clean_env(tmp_path, KUBECONFIG=str(tmp_path / "none")), timeout=60)
    assert result.returncode == 1
    assert "akslogin login --login devicecode --server-id" in result.stderr
    assert akslogin_bin() not in result.stderr.split("Run '", 1)[1].split("'")[0]
