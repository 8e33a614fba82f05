"""Read one cache entry with the stdlib, refusing files another user could have planted or changed."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass

from akslogin.errors import CacheError

ENTRY_VERSION = 1
#: A cached token is handed out only while it has more than this many seconds left.
MIN_REMAINING = 300


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_on: float

    def fresh(self, now: float, margin: float = MIN_REMAINING) -> bool:
        return self.expires_on - now > margin


def entry_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "tokens", key + ".json")


def check_private(st: os.stat_result, path: str) -> None:
    """Refuse a cache file that is not ours or that others could write (a token could be swapped in)."""
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise CacheError(
            f"the token cache file {path} belongs to another user (uid {st.st_uid}).",
            "Remove it or use your own --cache-dir; akslogin will not trust it.",
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IRGRP | stat.S_IROTH):
        raise CacheError(
            f"the token cache file {path} is readable or writable by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}).",
            f"Run 'chmod 600 {path}' or delete it; akslogin creates cache files as 0600.",
        )


def read_entry(cache_dir: str, key: str) -> CachedToken | None:
    """The cached token for ``key``, or None when absent or unreadable (the slow path then rebuilds it)."""
    path = entry_path(cache_dir, key)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        check_private(os.fstat(fd), path)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(1 << 16)
    finally:
        os.close(fd)
    return parse_entry(raw)


def parse_entry(raw: bytes) -> CachedToken | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("version") != ENTRY_VERSION:
        return None
    token, expires_on = data.get("access_token"), data.get("expires_on")
    if not isinstance(token, str) or not token or not isinstance(expires_on, (int, float)):
        return None
    if isinstance(expires_on, bool):
        return None
    return CachedToken(token, float(expires_on))
