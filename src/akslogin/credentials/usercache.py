"""Where a signed-in user's MSAL token cache (refresh token, account, id token) lives between runs.

One file per identity, ``<cache dir>/msal/<identity key>.json``: MSAL's own JSON schema, 0600 in a 0700
directory, replaced atomically and only when MSAL changed it. It is read and written only on the slow path,
which holds the per-identity lock, so parallel kubectl runs neither race nor lose a rotated refresh token.
Refresh tokens are secrets: nothing here logs contents.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import msal

from akslogin.log import Log
from akslogin.tokencache.entry import check_private
from akslogin.tokencache.store import atomic_write

MAX_BYTES = 4 << 20


def cache_path(cache_dir: str, key: str, suffix: str = ".json") -> str:
    return os.path.join(cache_dir, "msal", key + suffix)


def read_private(path: str) -> bytes | None:
    """The file's bytes if it exists and only we can read it; None if absent. Refuses planted files."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    try:
        check_private(os.fstat(fd), path)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_BYTES)
    finally:
        os.close(fd)


def load(cache_dir: str, key: str, log: Log) -> Any:
    """A SerializableTokenCache filled from disk (empty when absent or unreadable)."""
    cache = msal.SerializableTokenCache()
    raw = read_private(cache_path(cache_dir, key))
    if raw:
        try:
            cache.deserialize(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            log(1, "the saved sign-in could not be read and will be replaced after the next sign-in")
            cache = msal.SerializableTokenCache()
    return cache


def save(cache_dir: str, key: str, cache: Any) -> None:
    if not cache.has_state_changed:
        return
    atomic_write(cache_path(cache_dir, key), cache.serialize().encode("utf-8"))
    cache.has_state_changed = False


def load_json(cache_dir: str, key: str, suffix: str) -> dict[str, Any]:
    """A small private JSON document next to the MSAL cache (the legacy v1 refresh token)."""
    raw = read_private(cache_path(cache_dir, key, suffix))
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def save_json(cache_dir: str, key: str, suffix: str, data: dict[str, Any]) -> None:
    atomic_write(cache_path(cache_dir, key, suffix), json.dumps(data).encode("utf-8"))


def forget(cache_dir: str, key: str, suffix: str = ".json") -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(cache_path(cache_dir, key, suffix))
