"""Issue 23.5: SIGTERM and SIGHUP (what timeout, CI runners, systemd and docker stop send) unwind like Ctrl-C, so
kubectl's <kubeconfig>.lock is released; after a SIGKILL the lock akslogin left is cleared by the next akslogin
command that looks at the file and finds its owner gone, and doctor names a lock that is in the way."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from akslogin.kubeconfig import files
from support.run import KUBECTL, akslogin_bin, clean_env, run_akslogin


def _big_kubelogin_kubeconfig(path: Path, users: int) -> None:
    """Many kubelogin users: convert-kubeconfig then holds the kubeconfig's lock for a while."""
    exec_block = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                  "args": ["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                           "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id",
                           "72f988bf-86f1-41af-91ab-2d7cd011db47", "--environment", "AzurePublicCloud"]}
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c0",
              "clusters": [{"name": f"c{i}", "cluster": {"server": f"https://c{i}.example:443"}} for i in range(users)],
              "contexts": [{"name": f"c{i}", "context": {"cluster": f"c{i}", "user": f"u{i}"}} for i in range(users)],
              "users": [{"name": f"u{i}", "user": {"exec": exec_block}} for i in range(users)]}
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


def _signal_while_locked(tmp_path: Path, sig: int) -> tuple[subprocess.Popen[str], Path, bytes]:
    kubeconfig = tmp_path / "config"
    _big_kubelogin_kubeconfig(kubeconfig, 6000)
    before = kubeconfig.read_bytes()
    lock = Path(str(kubeconfig) + ".lock")
    proc = subprocess.Popen([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kubeconfig), "--login",
                             "azurecli"], env=clean_env(tmp_path), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
