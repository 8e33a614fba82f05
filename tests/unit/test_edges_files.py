"""Issue 23, files: only regular files are written, nothing akslogin opens can hang it, directories it makes for a
kubeconfig are 0755, a file that gets a secret stops being readable by others, and a full or read-only disk
gets a plain sentence (never an internal error, never one more backup per failed try).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin import fileops
from akslogin.errors import AksloginError
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from support.edges_files import _kubeconfig, _within
from support.mounts import ROOT


def _add_context(config: files.KubeConfig) -> None:
    config.put("contexts", "x", {"cluster": "c", "user": "u"})


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


def test_enospc_from_the_writer_is_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no file system can be mounted: the same rule through the shared writer's error path."""
    kc = _kubeconfig(tmp_path / "config")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileops, "write_atomic", full)
    with pytest.raises(KubeconfigError) as info:
        files.update(str(kc), _add_context, keep_backup=True)
    assert info.value.message == f"no space left on {tmp_path}; nothing was changed."
