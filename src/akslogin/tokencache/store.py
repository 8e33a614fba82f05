"""Writing the cache: per-identity lock, atomic replace, private permissions from the first byte."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Callable, Iterator

from akslogin import fileops
from akslogin.errors import CacheError
from akslogin.tokencache.entry import ENTRY_VERSION, entry_path


def _owner_name(uid: int) -> str:
    if sys.platform == "win32":
        return f"uid {uid}"
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _not_yours(path: str, uid: int, euid: int) -> CacheError:
    me = _owner_name(euid)
    return CacheError(
        f"the cache directory {path} belongs to {_owner_name(uid)} (uid {uid}), not to you ({me}); it was "
        "probably created by 'sudo kubectl' or 'sudo akslogin'.",
        f"Run 'sudo chown -R {me} {path}' (or delete it), or pass another --cache-dir.")


def ensure_dir(path: str, euid: int | None = None) -> None:
    """Create ``path`` as 0700 (no window where it is wider); refuse an existing one others can write, and
    explain one that belongs to someone else (``euid``: whose it should be; default the caller's)."""
    if euid is None and hasattr(os, "geteuid"):
        euid = os.geteuid()
    if os.path.exists(path) and not os.path.isdir(path):
        raise CacheError(f"the cache directory {path} is a file, not a directory.",
                         "Pass another --cache-dir or set KUBECACHEDIR.")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        # The directory in the way was not made by akslogin (/, a home it may not write, a mount): say what
        # happened and where to point akslogin instead, never to change or delete someone else's directory.
        denied = exc.errno in (errno.EACCES, errno.EPERM)
        reason = "permission denied" if denied else (exc.strerror or type(exc).__name__).lower()
        raise CacheError(f"cannot create {path}: {reason}.",
                         "Set KUBECACHEDIR or pass --cache-dir to a directory you can write "
                         "(e.g. under /tmp in a container).") from None
    if os.name == "nt":  # no POSIX owner or mode: the profile's ACL keeps the directory private
        return
    st = os.stat(path)
    if euid is not None and st.st_uid != euid:
        raise _not_yours(path, st.st_uid, euid)
    if st.st_mode & 0o022:
        raise CacheError(
            f"the cache directory {path} is writable by other users (mode {st.st_mode & 0o777:04o}).",
            f"Run 'chmod 700 {path}' or choose another --cache-dir.",
        )


class LockTimeout(CacheError):
    """Another process held the identity lock past the wait's deadline."""


def prepare(cache_dir: str) -> None:
    """Create the cache directory and its parts as 0700 before anything is written into them."""
    ensure_dir(cache_dir)
    for part in ("tokens", "locks"):
        ensure_dir(os.path.join(cache_dir, part))


def atomic_write(path: str, data: bytes, held_lock: bool = False) -> None:
    """Write ``data`` to ``path`` atomically, 0600, in a 0700 directory."""
    ensure_dir(os.path.dirname(path))
    fileops.write_atomic(path, data, held_lock=held_lock)


def write_entry(cache_dir: str, key: str, access_token: str, expires_on: float, login: str, *,
                retry_after: float = 0.0, skew: float = 0.0, issued_on: float = 0.0) -> None:
    """Raises CacheError for a token too large to be read back (it is then used, not cached)."""
    import json

    from akslogin.tokencache.entry import MAX_ENTRY_BYTES

    payload = {
        "version": ENTRY_VERSION,
        "access_token": access_token,
        "expires_on": int(expires_on),
        "login": login,
        "written_at": int(time.time()),
    }
    if issued_on:
        payload["issued_on"] = int(issued_on)  # when the token came: its lifetime sizes refresh ahead
    if retry_after:
        payload["retry_after"] = int(retry_after)  # a refresh failed: the next try waits until then
    if skew:
        payload["skew"] = int(skew)  # the identity provider's clock minus ours when the token came
    data = json.dumps(payload).encode("utf-8")
    if len(data) >= MAX_ENTRY_BYTES:
        raise CacheError(f"the token is {len(access_token) // 1024} KiB, too large to cache.")
    atomic_write(entry_path(cache_dir, key), data, held_lock=True)  # callers hold the identity lock


@contextlib.contextmanager
def identity_lock(cache_dir: str, key: str, timeout: float,
                  give_up: Callable[[], Exception | None] | None = None) -> Iterator[None]:
    """Hold the per-identity lock (see fileops.exclusive_lock: a dead holder never blocks others; ``give_up``
    ends the wait early with the error it returns)."""
    prepare(cache_dir)
    path = os.path.join(cache_dir, "locks", key + ".lock")
    with fileops.exclusive_lock(path, timeout, lambda: LockTimeout(
        f"another akslogin process held the token lock {path} for more than {timeout:.0f}s.",
        "If a sign-in is waiting in another terminal, finish it; otherwise retry.",
    ), give_up):
        yield


def first_time(cache_dir: str, topic: str) -> bool:
    """True once per cache directory and ``topic`` (a marker file remembers it): for notes that kubectl would
    otherwise show on every command."""
    import hashlib

    marker = os.path.join(cache_dir, ".notice-" + hashlib.sha256(topic.encode()).hexdigest()[:16])
    if os.path.lexists(marker):
        return False
    with contextlib.suppress(OSError, CacheError):
        prepare(cache_dir)
        atomic_write(marker, topic.encode("utf-8", "replace") + b"\n")
    return True


def quarantine(path: str) -> str:
    """Move an unreadable cache file aside (kept for inspection, still 0600) so it can be rebuilt."""
    target = f"{path}.corrupt-{int(time.time())}"
    fileops.replace(path, target)
    return target
