"""Makes a Linux interpreter lock files as Windows does, for tests/{unit,emulated}/test_portability.py's subprocesses.

Put on PYTHONPATH, it hides ``fcntl`` (``import fcntl`` raises ImportError, as on Windows) and provides an
``msvcrt`` whose ``locking()`` keeps Windows' contract (``LK_NBLCK`` fails at once with EACCES when another
process holds the region; ``LK_UNLCK`` releases it) on top of POSIX record locks (``os.lockf``), so
akslogin's Windows lock path really excludes other processes here. Each call is appended to
``$FAKE_MSVCRT_LOG`` so a test can prove the path ran.
"""

from __future__ import annotations

import errno
import os
import sys
import types

sys.modules["fcntl"] = None  # type: ignore[assignment]

msvcrt = types.ModuleType("msvcrt")
LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4


def locking(fd: int, mode: int, nbytes: int) -> None:
    log = os.environ.get("FAKE_MSVCRT_LOG")
    if mode == LK_UNLCK:
        os.lockf(fd, os.F_ULOCK, nbytes)
        outcome = "unlocked"
    elif mode == LK_NBLCK:
        try:
            os.lockf(fd, os.F_TLOCK, nbytes)
            outcome = "locked"
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            outcome = "busy"
    else:
        raise NotImplementedError(f"mode {mode} is not used by akslogin")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {outcome}\n")
    if outcome == "busy":
        raise OSError(errno.EACCES, "Permission denied")


msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK = LK_UNLCK, LK_LOCK, LK_NBLCK  # type: ignore[attr-defined]
msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = LK_RLCK, LK_NBRLCK  # type: ignore[attr-defined]
msvcrt.locking = locking  # type: ignore[attr-defined]
sys.modules["msvcrt"] = msvcrt
