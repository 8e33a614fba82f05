"""Writing the cache: per-identity lock, atomic replace, private permissions from the first byte."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from akslogin import fileops
from akslogin.errors import CacheError
from akslogin.tokencache.entry import ENTRY_VERSION, entry_path


def ensure_dir(path: str) -> None:
    """Create ``path`` as 0700 (no window where it is wider); refuse an existing one others can write."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot create the cache directory {path}: {exc.strerror}.",
                         "Pass a writable --cache-dir or set KUBECACHEDIR.") from None
    st = os.stat(path)
    if st.st_mode & 0o022:
        raise CacheError(
            f"the cache directory {path} is writable by other users (mode {st.st_mode & 0o777:04o}).",
            f"Run 'chmod 700 {path}' or choose another --cache-dir.",
        )


def prepare(cache_dir: str) -> None:
    """Create the cache directory and its parts as 0700 before anything is written into them."""
    ensure_dir(cache_dir)
    for part in ("tokens", "locks"):
        ensure_dir(os.path.join(cache_dir, part))


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, 0600, in a 0700 directory."""
    ensure_dir(os.path.dirname(path))
    fileops.write_atomic(path, data)


def write_entry(cache_dir: str, key: str, access_token: str, expires_on: float, login: str) -> None:
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
    data = json.dumps(payload).encode("utf-8")
    if len(data) >= MAX_ENTRY_BYTES:
        raise CacheError(f"the token is {len(access_token) // 1024} KiB, too large to cache.")
    atomic_write(entry_path(cache_dir, key), data)


def remove_entry(cache_dir: str, key: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(entry_path(cache_dir, key))


@contextlib.contextmanager
def identity_lock(cache_dir: str, key: str, timeout: float) -> Iterator[None]:
    """Hold the per-identity lock (see fileops.exclusive_lock: a dead holder never blocks others)."""
    prepare(cache_dir)
    path = os.path.join(cache_dir, "locks", key + ".lock")
    with fileops.exclusive_lock(path, timeout, lambda: CacheError(
        f"another akslogin process held the token lock {path} for more than {timeout:.0f}s.",
        "If a sign-in is waiting in another terminal, finish it; otherwise retry.",
    )):
        yield


def quarantine(path: str) -> str:
    """Move an unreadable cache file aside (kept for inspection, still 0600) so it can be rebuilt."""
    target = f"{path}.corrupt-{int(time.time())}"
    os.replace(path, target)
    return target
