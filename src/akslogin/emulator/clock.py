"""A settable clock so tests can move the emulator's time (token expiry, assertion windows)."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall clock plus an adjustable offset, shared by every emulator component."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, epoch: float) -> None:
        """Make ``now()`` return ``epoch`` at this instant (time keeps flowing from there)."""
        with self._lock:
            self._offset = epoch - time.time()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset
