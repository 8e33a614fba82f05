"""Issue 23, files: only regular files are written, nothing akslogin opens can hang it, directories it makes for a
kubeconfig are 0755, a file that gets a secret stops being readable by others, and a full or read-only disk
gets a plain sentence (never an internal error, never one more backup per failed try)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from akslogin import fileops
from akslogin.emulator import Emulator
from akslogin.errors import AksloginError
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from akslogin.tokencache.entry import MIN_REMAINING, REFRESH_LEAD
from support.mounts import ROOT, _mounted_read_only, _mounted_tmpfs, fill
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def _kubeconfig(path: Path, mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                    "contexts": []}))
    path.chmod(mode)
    return path


def _add_context(config: files.KubeConfig) -> None:
    config.put("contexts", "x", {"cluster": "c", "user": "u"})


def _within(seconds: float, action: Callable[[], object]) -> object:
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it does not end in time."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds}s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


@contextlib.contextmanager
def _unix_socket(path: Path) -> Iterator[None]:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    try:
        yield
    finally:
        sock.close()


def _special(kind: str, path: Path) -> contextlib.AbstractContextManager[None]:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        if not ROOT:
            pytest.skip("making a device node needs root")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    elif kind == "socket":
        return _unix_socket(path)
    return contextlib.nullcontext()


KINDS = ["fifo", "directory", "device", "socket"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_target_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "config"
    with _special(kind, target):
        before = os.lstat(target)
        with pytest.raises(KubeconfigError) as info:
            _within(10, lambda: files.update(str(target), _add_context))
        assert f"{target} is not a regular file" in info.value.message
        assert "nothing was changed" in info.value.render()
        after = os.lstat(target)
        assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".config.") and p.name.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_the_python_api_refuses_such_a_target_too(tmp_path: Path, kind: str) -> None:
    from akslogin import api

    target = tmp_path / "config"
    with _special(kind, target):
        config = api.load_kubeconfig(_kubeconfig(tmp_path / "source"))
        with pytest.raises(AksloginError) as info:
            _within(10, lambda: api.save_kubeconfig(config, target))
        assert "is not a regular file" in str(info.value)
        assert stat.S_ISFIFO(os.lstat(target).st_mode) or stat.S_ISCHR(os.lstat(target).st_mode)


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
    emulator.entra.settings.access_token_lifetime = int(MIN_REMAINING + REFRESH_LEAD) - 20
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
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


def test_a_fifo_at_the_predictable_lock_temp_name_does_not_hang_the_kubeconfig_lock(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config")
    for pid in (os.getpid(), os.getpid() + 1):
        os.mkfifo(tmp_path / f".config.lock-{pid}.tmp")

    def take() -> None:
        with files.locked(str(kc), timeout=5):
            assert Path(str(kc) + ".lock").read_bytes().startswith(files.KUBECTL_LOCK_MARK)

    _within(10, take)
    assert not Path(str(kc) + ".lock").exists()


@pytest.mark.parametrize("umask", [0o000, 0o002, 0o022])
def test_directories_made_for_a_kubeconfig_are_0755(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "a" / "b" / "config"
    old = os.umask(umask)
    try:
        files.update(str(target), _add_context)
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o755, oct(directory.stat().st_mode)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _with_secret(config: files.KubeConfig) -> None:
    config.put("users", "admin", {"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"})


def test_a_secret_written_into_a_world_readable_kubeconfig_tightens_it(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config", 0o644)
    notes: list[str] = []
    files.update(str(kc), _with_secret, notify=notes.append)
    assert stat.S_IMODE(kc.stat().st_mode) == 0o600
    assert len(notes) == 1 and "0644" in notes[0] and "0600" in notes[0] and str(kc) in notes[0]


def test_a_kubeconfig_without_secrets_keeps_its_mode(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config", 0o644)
    notes: list[str] = []
    files.update(str(kc), _add_context, notify=notes.append)
    assert stat.S_IMODE(kc.stat().st_mode) == 0o644 and notes == []


def test_a_dangling_symlink_named_like_a_backup_is_ignored(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config")
    (tmp_path / "config.akslogin-backup-20200101-000000").symlink_to(tmp_path / "gone")
    (tmp_path / "config.akslogin-backup-20200101-000001").mkdir()
    for _ in range(3):
        files.update(str(kc), _add_context, keep_backup=True)
    assert all(os.path.isfile(p) and not os.path.islink(p) for p in files.existing_backups(str(kc)))
    assert (tmp_path / "config.akslogin-backup-20200101-000000").is_symlink()  # not ours: left alone


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
    emulator.entra.settings.access_token_lifetime = int(MIN_REMAINING + REFRESH_LEAD) - 20  # renewal window
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
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


def test_enospc_from_the_writer_is_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no file system can be mounted: the same rule through the shared writer's error path."""
    kc = _kubeconfig(tmp_path / "config")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileops, "write_atomic", full)
    with pytest.raises(KubeconfigError) as info:
        files.update(str(kc), _add_context, keep_backup=True)
    assert info.value.message == f"no space left on {tmp_path}; nothing was changed."
