"""The two file primitives every writer shares: a cross-process lock and an atomic, private replace.

Kubeconfigs, token caches and refresh-token files all go through these, so the crash-safety and locking
guarantees (and their tests) hold for every file akslogin writes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time

from akslogin.errors import CacheError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOCK_POLL = 0.02


class LockRefused(CacheError):
    """A lock file that is a symlink or not a regular file: never followed, never used."""


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: A temp file older than this is a leftover of a killed writer (writes take milliseconds).
STALE_TEMP_SECONDS = 60.0


def sweep_temps(path: str, held_lock: bool) -> None:
    """Remove temp files a killed writer left beside ``path`` (they may hold tokens). Under the file's lock
    every one is a leftover; without it only those older than ``STALE_TEMP_SECONDS``."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    now = time.time()
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                    continue
                with contextlib.suppress(OSError):
                    if held_lock or now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS:
                        os.unlink(entry.path)
    except OSError:
        return


def write_atomic(path: str, data: bytes, mode: int = 0o600, *, owner: tuple[int, int] | None = None,
                 held_lock: bool = False) -> None:
    """Write a temp file in the same directory (private from its first byte), fsync it, rename it over
    ``path`` and fsync the directory: a reader or a crash sees the old file or the new one, never a mix.
    ``owner`` (uid, gid) is given to the new file before the rename (a root rewrite of a user's file keeps
    it the user's); ``held_lock``: the caller holds ``path``'s lock, so any temp file beside it is stale."""
    import tempfile  # only writers pay for it

    directory = os.path.dirname(os.path.abspath(path))
    sweep_temps(path, held_lock)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            # Private until the content is complete; only then the owner and the (kept) mode of the target.
            if owner is not None and hasattr(os, "fchown"):
                os.fchown(fh.fileno(), *owner)
            if mode != 0o600:
                os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


@contextlib.contextmanager
def exclusive_lock(lock_path: str, timeout: float, on_timeout: Callable[[], Exception]) -> Iterator[None]:
    """Hold an flock on ``lock_path`` (created 0600). The kernel releases it if the holder dies, so a killed
    process never blocks others; waiting is bounded by ``timeout``, then ``on_timeout()`` is raised."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        if os.path.islink(lock_path):
            raise LockRefused(f"the lock file {lock_path} is a symbolic link; akslogin does not follow links for "
                              "its lock files (someone could make it create or truncate another file).",
                              f"Remove the link ('rm {lock_path}') if you did not create it.") from None
        raise exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LockRefused(f"the lock file {lock_path} is not a regular file.", f"Remove it ('rm {lock_path}').")
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise on_timeout() from None
                time.sleep(LOCK_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the flock
