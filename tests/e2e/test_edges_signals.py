"""Issue 23.5: SIGTERM and SIGHUP (what timeout, CI runners, systemd and docker stop send) unwind like Ctrl-C, so
kubectl's <kubeconfig>.lock is released; after a SIGKILL the lock akslogin left is cleared by the next akslogin
command that looks at the file and finds its owner gone, and doctor names a lock that is in the way.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from akslogin.kubeconfig import files
from support.edges_signals import _big_kubelogin_kubeconfig
from support.run import KUBECTL, akslogin_bin, clean_env, run_akslogin


def _signal_while_locked(tmp_path: Path, sig: int) -> tuple[subprocess.Popen[str], Path, bytes]:
    kubeconfig = tmp_path / "config"
    _big_kubelogin_kubeconfig(kubeconfig, 6000)
    before = kubeconfig.read_bytes()
    lock = Path(str(kubeconfig) + ".lock")
    # As from a terminal: SIGINT's default action. A test run started in the background of a shell inherits
    # SIGINT ignored, and Python keeps an inherited SIG_IGN (Ctrl-C must not reach such a process).
    proc = subprocess.Popen([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kubeconfig), "--login",
                             "azurecli"], env=clean_env(tmp_path), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert proc.poll() is None, f"ended before it took the lock: {proc.communicate()}"
        assert time.monotonic() < deadline, "never took the lock"
        time.sleep(0.001)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return proc, kubeconfig, before


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_while_the_kubeconfig_is_locked_releases_the_lock(tmp_path: Path, sig: int, code: int) -> None:
    proc, kubeconfig, before = _signal_while_locked(tmp_path, sig)
    _, stderr = proc.communicate()
    assert proc.returncode == code, stderr
    assert not Path(str(kubeconfig) + ".lock").exists()
    assert "Traceback" not in stderr and ("akslogin: stopped by" in stderr or "interrupted" in stderr), stderr
    assert kubeconfig.read_bytes() == before  # stopped before the write: nothing changed
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # kubectl can write the file right away
    done = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "config", "set-context", "c0",
                           "--namespace=after"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _dead_akslogin_lock(kubeconfig: Path) -> Path:
    """What a SIGKILLed akslogin leaves: kubectl's lock file with akslogin's mark and a pid that is gone."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    lock = Path(str(kubeconfig) + ".lock")
    lock.write_bytes(files.KUBECTL_LOCK_MARK + f" {ended.pid}\n".encode())
    return lock


@pytest.mark.parametrize("command", [["whoami"], ["audit"], ["doctor"]])
def test_a_dead_akslogins_lock_is_cleared_by_the_next_command_of_any_kind(tmp_path: Path,
                                                                          command: list[str]) -> None:
    kubeconfig = tmp_path / "config"
    _big_kubelogin_kubeconfig(kubeconfig, 1)
    lock = _dead_akslogin_lock(kubeconfig)
    result = run_akslogin([*command, "--kubeconfig", str(kubeconfig)], clean_env(tmp_path), timeout=60)
    assert "Traceback" not in result.stderr
    assert not lock.exists(), result.stderr
    if command == ["doctor"]:
        assert f"removed {lock}" in result.stdout, result.stdout
