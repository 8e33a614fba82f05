"""The two file primitives every writer shares: a cross-process lock and an atomic, private replace.

Kubeconfigs, token caches and refresh-token files all go through these, so the crash-safety and locking
guarantees (and their tests) hold for every file akslogin writes.

Portable: the lock is ``flock`` where ``fcntl`` exists (Linux, macOS) and a one-byte ``msvcrt.locking`` region
on Windows; both are dropped by the OS when the holder dies. The Windows path is exercised on Linux by the
tests (``fcntl`` hidden, ``msvcrt`` backed by ``os.lockf``) and type-checked by ``mypy --platform win32``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import time

from akslogin.errors import CacheError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_POLL = 0.02
#: Windows refuses to replace a file another process has open (a reader, an antivirus scan) with a sharing
#: violation that clears within milliseconds; the replace is retried for up to this long there.
REPLACE_RETRY_SECONDS = 2.0
RETRY_REPLACE = os.name == "nt"


class LockRefused(CacheError):
    """A lock file that is a symlink or not a regular file: never followed, never used."""


def fsync_dir(directory: str) -> None:
    """Make a rename durable. Windows cannot open a directory (NTFS journals the rename itself)."""
    if os.name == "nt":
        return
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
            if mode != 0o600 and sys.platform != "win32":  # Windows has ACLs, not mode bits
                os.fchmod(fh.fileno(), mode)
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def replace(source: str, target: str) -> None:
    """``os.replace``, retried briefly on Windows while another process has ``target`` open."""
    deadline = time.monotonic() + REPLACE_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if not RETRY_REPLACE or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _msvcrt() -> ModuleType:
    """Windows' C runtime module, looked up by name so one source type-checks for every platform."""
    import importlib

    return importlib.import_module("msvcrt")


def _try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` without waiting: True when taken, False when another process holds it."""
    if fcntl is not None and sys.platform != "win32":  # (the platform test is for mypy --platform win32)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
    msvcrt = _msvcrt()  # Windows: lock the first byte (a region past the end of the file may be locked)
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EDEADLK, errno.EAGAIN):
            return False
        raise


def _unlock(fd: int) -> None:
    """Closing the file releases either kind of lock; msvcrt's is released explicitly first, as its
    documentation asks."""
    if fcntl is None:
        msvcrt = _msvcrt()
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


@contextlib.contextmanager
def exclusive_lock(lock_path: str, timeout: float, on_timeout: Callable[[], Exception]) -> Iterator[None]:
    """Hold the lock on ``lock_path`` (created 0600). The kernel releases it if the holder dies, so a killed
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
    locked = False
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise on_timeout() from None
            time.sleep(LOCK_POLL)
        locked = True
        yield
    finally:
        if locked:
            _unlock(fd)
        os.close(fd)  # closing releases the lock
