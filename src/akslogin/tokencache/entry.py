"""Read one cache entry with the stdlib, refusing files another user could have planted or changed.

This is the hot path of every kubectl command: no json/re/dataclasses imports, one open + fstat + read.
"""

import os
import stat

from akslogin import jsonlite

ENTRY_VERSION = 1
#: A cached token is handed out only while it has more than this many seconds left.
MIN_REMAINING = 300
#: Refresh ahead (akslogin.tokens.refresh_ahead) runs a renewal this many seconds before MIN_REMAINING; it is
#: also the renewal window of an entry that does not say when its token came (written before issued_on).
REFRESH_LEAD = 120.0
#: The widest renewal window: a 24-hour managed-identity token is not renewed by a process that waits 12 hours
#: (an hour covers any pause between calls that the token would outlive anyway).
REFRESH_MAX_WINDOW = 3600.0
#: Cache entries are a few kilobytes; the limit is generous (an answer body is capped at 4 MiB, see
#: akslogin.http), and a file that reaches it is treated as unreadable, never parsed cut short.
MAX_ENTRY_BYTES = 5 << 20
#: Expiries past this (year 5138) are not real: treated as unreadable instead of overflowing a date.
MAX_EXPIRES_ON = 1e11
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class AccessToken:
    """An access token and its absolute expiry (epoch seconds): the one token value every layer passes
    (credentials return it, the cache stores and reads it, the Python API hands it out). Its repr never shows
    the token. A plain slotted class, not a dataclass: the hot path reads it."""

    __slots__ = ("expires_on", "issued_on", "token", "token_type")

    def __init__(self, token: str, expires_on: float, token_type: str = "Bearer",  # noqa: S107
                 issued_on: float = 0.0) -> None:
        self.token = token
        #: Absolute expiry, from the token response (credentials) or the cache entry, not from the JWT.
        self.expires_on = expires_on
        #: What the identity provider called it; akslogin presents bearer (or, for Arc, PoP-bound) tokens.
        self.token_type = token_type
        #: When akslogin received it (same clock as expires_on), 0 when unknown: its lifetime sizes refresh ahead.
        self.issued_on = issued_on

    def fresh(self, now: float, margin: float = MIN_REMAINING) -> bool:
        return self.expires_on - now > margin

    def renew_window(self) -> float:
        """Seconds before MIN_REMAINING in which a call schedules the background renewal: the second half of
        the token's usable life (30-43 minutes of Entra's 60-90-minute tokens), wider than a person's pauses."""
        life = self.expires_on - self.issued_on
        if self.issued_on <= 0 or life <= MIN_REMAINING:
            return REFRESH_LEAD
        return min(max((life - MIN_REMAINING) / 2, REFRESH_LEAD), REFRESH_MAX_WINDOW)

    def renew_soon(self, now: float) -> bool:
        """Still served, but close enough to the margin that a background renewal should start."""
        return self.expires_on - now <= MIN_REMAINING + self.renew_window()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccessToken):
            return NotImplemented
        return (self.token, self.expires_on, self.token_type) == (other.token, other.expires_on, other.token_type)

    def __hash__(self) -> int:
        return hash((self.token, self.expires_on))

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_on={self.expires_on!r}, token_type={self.token_type!r})"


def entry_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "tokens", key + ".json")


def check_private(st: os.stat_result, path: str) -> None:
    """Refuse a cache file that is not ours or that others could write (a token could be swapped in).

    POSIX only: Windows reports no owner in ``st_uid`` and mode bits that mean nothing (files under the
    user profile are private by its ACL, which akslogin does not change)."""
    if os.name == "nt":
        return
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        from akslogin.errors import CacheError  # imported only when a file is refused, never on a cache hit

        raise CacheError(
            f"the token cache file {path} belongs to another user (uid {st.st_uid}).",
            "Remove it or use your own --cache-dir; akslogin will not trust it.",
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IRGRP | stat.S_IROTH):
        from akslogin.errors import CacheError

        raise CacheError(
            f"the token cache file {path} is readable or writable by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}).",
            f"Run 'chmod 600 {path}' or delete it; akslogin creates cache files as 0600.",
        )


def read_private(path: str, limit: int = MAX_ENTRY_BYTES) -> bytes | None:
    """The first ``limit`` bytes of ``path`` if it exists and is private to us; None when absent.

    Symlinks are not followed; a file that is not ours or is open to others raises CacheError. Opened
    non-blocking: a FIFO or device planted at the name cannot stall the open, and reads as unreadable (b"").
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return b""  # a FIFO, device or directory: unreadable (the slow path moves it aside)
        check_private(st, path)
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(fd, limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size >= limit and os.read(fd, 1):
            return b""  # larger than any entry we write: unreadable (the slow path moves it aside)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_entry(cache_dir: str, key: str) -> "AccessToken | None":
    """The cached token for ``key``, or None when absent or unreadable (the slow path then rebuilds it)."""
    raw = read_private(entry_path(cache_dir, key))
    return None if raw is None else parse_entry(raw)


def parse_entry(raw: bytes) -> "AccessToken | None":
    try:
        data = jsonlite.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("version") != ENTRY_VERSION:
        return None
    token, expires_on = data.get("access_token"), data.get("expires_on")
    if not isinstance(token, str) or not token or not isinstance(expires_on, (int, float)):
        return None
    if isinstance(expires_on, bool) or not 0 < expires_on < MAX_EXPIRES_ON:  # NaN fails this too
        return None
    issued_on = data.get("issued_on")
    if isinstance(issued_on, bool) or not isinstance(issued_on, (int, float)) or not 0 < issued_on < expires_on:
        issued_on = 0.0  # absent (an older entry) or nonsense: refresh ahead falls back to its short window
    return AccessToken(token, float(expires_on), issued_on=float(issued_on))
