"""Issue 23.5: SIGTERM and SIGHUP (what timeout, CI runners, systemd and docker stop send) unwind like Ctrl-C, so
kubectl's <kubeconfig>.lock is released; after a SIGKILL the lock akslogin left is cleared by the next akslogin
command that looks at the file and finds its owner gone, and doctor names a lock that is in the way.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from akslogin.kubeconfig import files
from support.edges_signals import _big_kubelogin_kubeconfig
from support.run import clean_env, run_akslogin


def test_a_live_lock_is_left_alone(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    _big_kubelogin_kubeconfig(kubeconfig, 1)
    with files.locked(str(kubeconfig)):  # held by this (live) process
        lock = Path(str(kubeconfig) + ".lock")
        result = run_akslogin(["audit", "--kubeconfig", str(kubeconfig)], clean_env(tmp_path), timeout=60)
        assert lock.exists(), result.stderr
    assert not lock.exists()


def test_kubectls_own_stale_lock_is_named_by_doctor(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    _big_kubelogin_kubeconfig(kubeconfig, 1)
    lock = Path(str(kubeconfig) + ".lock")
    lock.write_bytes(b"")
    old = time.time() - 600
    os.utime(lock, (old, old))
    result = run_akslogin(["doctor", "--kubeconfig", str(kubeconfig)], clean_env(tmp_path), timeout=60)
    assert str(lock) in result.stdout + result.stderr
    assert lock.exists()  # kubectl's: explained, never removed behind its back
