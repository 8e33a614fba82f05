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


#: How long reading a pipe or device may wait for data (a kubeconfig given as ``<(...)``, a FIFO nobody
#: writes to): a regular file never waits.
STREAM_READ_SECONDS = 10.0


def kind_of(st_mode: int) -> str:
    """What a file is, in the words an error message uses."""
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(st_mode):
            return name
    return "not a regular file"


def special_kind(path: str) -> str | None:
    """None when ``path`` is absent or a regular file (after symlinks); else what it is, e.g. "a FIFO"."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return None if stat.S_ISREG(st.st_mode) else kind_of(st.st_mode)


def read_bounded(path: str, limit: int, *, follow: bool = True, timeout: float = STREAM_READ_SECONDS) -> bytes:
    """The content of ``path``, never more than ``limit`` bytes (EFBIG past it) and never blocked for good.

    Opened non-blocking, so a FIFO without a writer cannot stall the open; a regular file is read at once; a
    pipe or a device (``<(...)``, /dev/stdin) is read until its end or ``timeout`` (ETIMEDOUT). A directory
    is EISDIR. ``follow=False`` refuses a symlink (ELOOP), for files akslogin owns."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if stat.S_ISREG(st.st_mode) or os.name == "nt":
            data = _read_upto(fd, limit + 1)
        else:
            data = _read_stream(fd, limit + 1, time.monotonic() + timeout, path)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // (1 << 20) or 1} MiB", path)
    return data


def _read_upto(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_stream(fd: int, size: int, deadline: float, path: str) -> bytes:
    import select

    chunks: list[bytes] = []
    got = 0
    while got < size:
        try:  # read first: a FIFO nobody ever opened for writing is at its end (b""), yet never "ready"
            chunk = os.read(fd, min(size - got, 1 << 16))
        except BlockingIOError:  # a writer is there but has not written yet: wait for it, up to the deadline
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(errno.ETIMEDOUT, f"nothing came in {STREAM_READ_SECONDS:g}s", path) from None
            select.select([fd], [], [], remaining)
            continue
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def make_dirs(path: str, mode: int = 0o755) -> None:
    """``os.makedirs`` with ``mode`` for every directory it creates (the umask still narrows it, as for
    kubectl's own ``MkdirAll``); since Python 3.7 makedirs gives intermediate directories the umask's mode."""
    path = os.path.abspath(path)
    missing: list[str] = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise


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
def exclusive_lock(lock_path: str, timeout: float, on_timeout: Callable[[], Exception],
                   give_up: Callable[[], Exception | None] | None = None) -> Iterator[None]:
    """Hold the lock on ``lock_path`` (created 0600). The kernel releases it if the holder dies, so a killed
    process never blocks others; waiting is bounded by ``timeout``, then ``on_timeout()`` is raised.
    ``give_up`` is asked while waiting: an exception it returns is raised at once (the holder already failed
    at what the waiter wanted to do)."""
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
            reason = give_up() if give_up is not None else None
            if reason is not None:
                raise reason
            time.sleep(LOCK_POLL)
        locked = True
        yield
    finally:
        if locked:
            _unlock(fd)
        os.close(fd)  # closing releases the lock
