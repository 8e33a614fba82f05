"""Files shared with kubectl and other users: symlinked locks, planted plaintext refresh tokens, owners and modes
kept on rewrite, read-only files refused, bounded atomic backups, temp files of killed writers swept, caches
owned by someone else explained.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from akslogin import fileops
from akslogin.errors import CacheError
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from akslogin.tokencache import keystores, secure, store
from support.file_safety import _kubeconfig


def test_lock_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    store.prepare(str(tmp_path / "cache"))
    lock = tmp_path / "cache" / "locks" / "k.lock"
    lock.symlink_to(victim)
    with pytest.raises(CacheError) as info, store.identity_lock(str(tmp_path / "cache"), "k", 1):
        pass
    assert "is a symbolic link" in info.value.message and f"rm {lock}" in (info.value.hint or "")
    assert victim.read_text() == "precious"


@pytest.mark.skipif(keystores.open_keystore("kernel") is None, reason="no kernel keyring in this sandbox")
def test_plaintext_file_in_place_of_an_encrypted_one_is_refused(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    store.prepare(cache)
    err = io.StringIO()
    secret_files = secure.SecretFiles(cache, "kernel", err)
    path = os.path.join(cache, "msal-planted.json")
    secret_files.write(path, b'{"RefreshToken": {}}')
    assert secret_files.read(path) == b'{"RefreshToken": {}}'
    store.atomic_write(path, b'{"RefreshToken": {"planted": {"secret": "attacker"}}}')  # plaintext, 0600, ours
    assert secret_files.read(path) is None
    assert "is not encrypted" in err.getvalue() and "did not write it" in err.getvalue()


def test_rewrite_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file to another user (the sudo -E case)")
    kc = _kubeconfig(tmp_path / "config", 0o644)
    os.chown(kc, 65534, 65534)
    files.update(str(kc), lambda c: c.put("contexts", "x", {"cluster": "c", "user": "u"}), keep_backup=True)
    st = kc.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o644)
    assert "x" in kc.read_text()


def test_read_only_kubeconfig_is_refused_not_replaced(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "config", 0o444)
    before = kc.read_text()
    with pytest.raises(KubeconfigError) as info:
        files.update(str(kc), lambda c: c.put("contexts", "x", {"cluster": "c", "user": "u"}))
    assert "read-only (mode 0444)" in info.value.message
    assert kc.read_text() == before and stat.S_IMODE(kc.stat().st_mode) == 0o444


def test_backups_are_bounded_and_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kc = _kubeconfig(tmp_path / "config")
    for i in range(12):
        files.update(str(kc), lambda c, i=i: c.put("contexts", f"c{i}", {"cluster": "c", "user": "u"}),
                     keep_backup=True)
    backups = files.existing_backups(str(kc))
    assert len(backups) == files.DEFAULT_BACKUPS
    assert all(stat.S_IMODE(os.stat(b).st_mode) == 0o600 for b in backups)
    assert "c10" in Path(backups[-1]).read_text()  # the newest backup is the version before the last write
    monkeypatch.setenv("AKSLOGIN_KUBECONFIG_BACKUPS", "2")
    files.update(str(kc), lambda c: c.put("contexts", "last", {"cluster": "c", "user": "u"}), keep_backup=True)
    assert len(files.existing_backups(str(kc))) == 2


def test_backups_made_in_one_clock_tick_are_ordered_by_their_number(tmp_path: Path) -> None:
    """A file's mtime moves in clock ticks (a few ms on Linux), so backups written in one tick share it; their
    names' counters then decide which is older, as numbers: -10 is newer than -9 (found by the crash-safety test:
    seven backups were left where five are kept, and a newer one had been deleted instead of an older one)."""
    kc = _kubeconfig(tmp_path / "config")
    stamp = f"{kc}.akslogin-backup-20261206-102021"
    names = [stamp, *(f"{stamp}-{n}" for n in range(2, 12))]  # made in this order
    for name in names:
        Path(name).write_text(name)
        os.utime(name, ns=(1_796_550_000_000_000_000, 1_796_550_000_000_000_000))
    assert files.existing_backups(str(kc)) == names
    files.prune_backups(str(kc), names[-1], keep=5)
    assert files.existing_backups(str(kc)) == names[-5:]


def test_backup_on_a_full_disk_leaves_no_truncated_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kc = _kubeconfig(tmp_path / "config")
    real_write = fileops.write_atomic

    def full_disk(path: str, data: bytes, *args: object, **kwargs: object) -> None:
        if ".akslogin-backup-" in path:
            raise OSError(28, "No space left on device")
        real_write(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fileops, "write_atomic", full_disk)
    with pytest.raises(KubeconfigError, match="no space left on"):
        files.update(str(kc), lambda c: c.put("contexts", "x", {"cluster": "c", "user": "u"}), keep_backup=True)
    assert files.existing_backups(str(kc)) == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert "name: x" not in kc.read_text()  # nothing half-done: no backup, no write


def test_temp_files_of_killed_writers_are_swept(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    store.prepare(cache)
    tokens = Path(cache) / "tokens"
    leftover = tokens / ".k.json.abc123.tmp"
    leftover.write_text('{"access_token": "secret"}')
    other = tokens / ".other.json.zzz.tmp"
    other.write_text("x")
    store.write_entry(cache, "k", "token", 2_000_000_000, "spn")  # under the identity lock: k's leftovers go
    assert not leftover.exists() and other.exists()
    old = os.path.getmtime(other) - 3600
    os.utime(other, (old, old))
    fileops.write_atomic(str(tokens / "other.json"), b"{}")  # no lock held: only stale leftovers go
    assert not other.exists()


def test_cache_owned_by_someone_else_says_who_and_the_chown(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    with pytest.raises(CacheError) as info:
        store.ensure_dir(str(cache), euid=os.geteuid() + 4242)
    message = info.value.render()
    assert f"belongs to {__import__('pwd').getpwuid(os.geteuid()).pw_name}" in message
    assert "sudo kubectl" in message and "chown -R" in message and str(cache) in message
