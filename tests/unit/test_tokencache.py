"""The token cache: private files, atomic writes, a lock that a dead holder cannot keep.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from akslogin.errors import CacheError
from akslogin.tokencache import store
from akslogin.tokencache.entry import entry_path, read_entry


def test_round_trip_and_permissions(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    store.prepare(cache)
    store.write_entry(cache, "k1", "token-value", 2_000_000_000, "spn")
    entry = read_entry(cache, "k1")
    assert entry is not None and entry.token == "token-value" and entry.expires_on == 2_000_000_000
    assert os.stat(cache).st_mode & 0o777 == 0o700
    assert os.stat(entry_path(cache, "k1")).st_mode & 0o777 == 0o600
    assert [p for p in os.listdir(os.path.join(cache, "tokens")) if p.startswith(".tmp")] == []


def test_freshness_margin(tmp_path: Path) -> None:
    cache = str(tmp_path)
    store.write_entry(cache, "k", "t", 1000 + 301, "spn")
    entry = read_entry(cache, "k")
    assert entry is not None and entry.fresh(1000) and not entry.fresh(1002)


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"version": 1}', b'{"version": 2, "access_token": "x",'
                                     b' "expires_on": 1}', b'{"version": 1, "access_token": "x", "expires_on": true}'])
def test_corrupt_entries_read_as_missing(tmp_path: Path, content: bytes) -> None:
    cache = str(tmp_path)
    store.prepare(cache)
    path = entry_path(cache, "k")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    assert read_entry(cache, "k") is None


def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    cache = str(tmp_path)
    store.write_entry(cache, "k", "t", 2_000_000_000, "spn")
    os.chmod(entry_path(cache, "k"), 0o644)
    with pytest.raises(CacheError, match="readable or writable by other users") as err:
        read_entry(cache, "k")
    assert "chmod 600" in err.value.render()


def test_group_writable_cache_dir_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    with pytest.raises(CacheError, match="writable by other users"):
        store.prepare(str(cache))


def test_corrupt_cache_is_moved_aside_with_a_warning(tmp_path: Path) -> None:
    import io

    from akslogin.log import Log
    from akslogin.options import TokenOptions
    from akslogin.tokens import acquire as acquire_mod

    cache = str(tmp_path / "cache")
    store.prepare(cache)
    path = entry_path(cache, "k")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"version": 1, "access_token": "x", "expir')  # torn by an old crash
    os.close(fd)
    err = io.StringIO()
    opts = TokenOptions()
    opts.login, opts.server_id = "bogus-mode-for-test", "x"
    with pytest.raises(Exception):  # noqa: B017 - the unknown login mode stops it after the quarantine
        acquire_mod.acquire(opts, "k", cache, {}, Log(0, err), time.time, err)
    assert "moved it to" in err.getvalue()
    moved = [p for p in os.listdir(os.path.join(cache, "tokens")) if ".corrupt-" in p]
    assert len(moved) == 1 and not os.path.exists(path)
