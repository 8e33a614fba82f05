"""Issue 23, files: only regular files are written, nothing akslogin opens can hang it, directories it makes for a
kubeconfig are 0755, a file that gets a secret stops being readable by others, and a full or read-only disk
gets a plain sentence (never an internal error, never one more backup per failed try).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from support.edges_files import _kubeconfig, _within
from support.mounts import ROOT, _mounted_read_only, _mounted_tmpfs, fill
from support.refresh_window import IN_WINDOW, into_renewal_window
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def test_a_fifo_at_the_predictable_lock_temp_name_does_not_hang_the_kubeconfig_lock(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config")
    for pid in (os.getpid(), os.getpid() + 1):
        os.mkfifo(tmp_path / f".config.lock-{pid}.tmp")

    def take() -> None:
        with files.locked(str(kc), timeout=5):
            assert Path(str(kc) + ".lock").read_bytes().startswith(files.KUBECTL_LOCK_MARK)

    _within(10, take)
    assert not Path(str(kc) + ".lock").exists()


@pytest.mark.skipif(not ROOT, reason="mounting a full file system needs root")
@pytest.mark.parametrize("keep_backup", [False, True])
def test_a_full_disk_says_so_and_leaves_the_kubeconfig_and_no_backup(tmp_path: Path, keep_backup: bool) -> None:
    with _mounted_tmpfs(tmp_path / "disk") as disk:
        kc = _kubeconfig(disk / "config")
        big = {"cluster": {"server": "https://127.0.0.1", "certificate-authority-data": "A" * 8000}}
        for i in range(2):
            files.update(str(kc), lambda c, i=i: c.put("clusters", f"c{i}", big))
        before = kc.read_bytes()
        fill(disk)
        for _ in range(3):
            with pytest.raises(KubeconfigError) as info:
                files.update(str(kc), lambda c: c.put("clusters", "more", big), keep_backup=keep_backup)
            assert info.value.message == f"no space left on {disk}; nothing was changed.", info.value.message
        assert kc.read_bytes() == before
        assert files.existing_backups(str(kc)) == []
        assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_cache_with_a_valid_token_still_serves_it(tmp_path: Path, emulator: Emulator,
                                                                apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    emulator.entra.settings.access_token_lifetime = IN_WINDOW  # renewal window
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
    into_renewal_window(cache)
    with _mounted_read_only(cache):
        again = run_akslogin(args, env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"]["token"] == json.loads(first.stdout)["status"]["token"]
    assert "internal error" not in again.stderr


def test_a_read_only_cache_with_an_expired_token_serves_a_new_one_with_a_warning(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    emulator.entra.settings.access_token_lifetime = 200  # under the 5-minute margin: never served from cache
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
    with _mounted_read_only(cache):
        again = run_akslogin(args, {**env, "AKSLOGIN_DEBUG": "1"})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"]["token"]
    assert "warning" in again.stderr and "read-only" in again.stderr, again.stderr
    assert "internal error" not in again.stderr
