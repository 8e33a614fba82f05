"""Issue 23, files: only regular files are written, nothing akslogin opens can hang it, directories it makes for a
kubeconfig are 0755, a file that gets a secret stops being readable by others, and a full or read-only disk
gets a plain sentence (never an internal error, never one more backup per failed try).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.edges_files import _kubeconfig
from support.refresh_window import IN_WINDOW, into_renewal_window
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def test_convert_kubeconfig_refuses_a_fifo(tmp_path: Path) -> None:
    target = tmp_path / "config"
    os.mkfifo(target)
    result = run_akslogin(["convert-kubeconfig", "--kubeconfig", str(target), "--login", "azurecli"],
                          clean_env(tmp_path), timeout=20)
    assert result.returncode == 1, result.stderr
    assert "is not a regular file" in result.stderr and "Traceback" not in result.stderr
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


def test_reading_a_fifo_kubeconfig_with_no_writer_does_not_hang(tmp_path: Path) -> None:
    target = tmp_path / "config"
    os.mkfifo(target)
    result = run_akslogin(["audit", "--kubeconfig", str(target)], clean_env(tmp_path), timeout=20)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


def test_a_kubeconfig_through_process_substitution_is_still_read(tmp_path: Path) -> None:
    source = _kubeconfig(tmp_path / "config")
    done = subprocess.run(["bash", "-c", f'akslogin="$1"; "$akslogin" audit --kubeconfig <(cat {source}) -o json',
                           "_", __import__("support.run", fromlist=["akslogin_bin"]).akslogin_bin()],
                          capture_output=True, text=True, timeout=30, env=clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"]


def test_a_fifo_at_the_token_cache_entry_does_not_hang_get_token(tmp_path: Path, emulator: Emulator,
                                                                 apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    first = run_akslogin(args, env)
    assert first.returncode == 0, first.stderr
    entry = next((cache / "tokens").glob("*.json"))
    entry.unlink()
    os.mkfifo(entry, 0o600)
    again = run_akslogin(args, env, timeout=20)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"]["token"]


@pytest.mark.parametrize("link", [False, True])
def test_a_fifo_at_the_refresh_ahead_marker_does_not_hang_get_token(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], link: bool) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    emulator.entra.settings.access_token_lifetime = IN_WINDOW
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
    into_renewal_window(cache)
    key = next((cache / "tokens").glob("*.json")).stem
    marker = cache / "locks" / f"{key}.refresh"
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()
    if link:
        os.mkfifo(tmp_path / "fifo")
        marker.symlink_to(tmp_path / "fifo")
    else:
        os.mkfifo(marker, 0o600)
    start = time.monotonic()
    again = run_akslogin(args, env, timeout=20)
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - start < 10
    assert json.loads(again.stdout)["status"]["token"] == json.loads(first.stdout)["status"]["token"]
