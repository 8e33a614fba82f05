"""The two file primitives every writer shares: a cross-process lock and an atomic, private replace.

Kubeconfigs, token caches and refresh-token files all go through these, so the crash-safety and locking
guarantees (and their tests) hold for every file akslogin writes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOCK_POLL = 0.02


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write a temp file in the same directory (private from its first byte), fsync it, rename it over
    ``path`` and fsync the directory: a reader or a crash sees the old file or the new one, never a mix."""
    import tempfile  # only writers pay for it

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if mode != 0o600:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
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
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
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
