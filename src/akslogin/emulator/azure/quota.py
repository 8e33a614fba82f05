"""ARM's and Resource Graph's request limits, so that a client's pacing can be judged: token buckets and windows.

- ARM: per subscription and principal, a bucket of writes (200, refilled 10 a second) and of reads (250, 25 a
  second); every answer says what is left (``x-ms-ratelimit-remaining-subscription-writes`` / ``-reads``) and an
  empty bucket answers 429 with Retry-After.
- Resource Graph: per principal, 15 queries in a window of 5 seconds; every answer carries
  ``x-ms-user-quota-remaining`` and ``x-ms-user-quota-resets-after`` (hh:mm:ss), and past the quota 429.

Limits run on the real monotonic clock (the emulator's own clock may be frozen by a test); each is a knob of
``/_emulator/arm`` so a test can make them small.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    capacity: float
    refill: float  # tokens a second
    level: float
    stamp: float


class TokenBuckets:
    """One bucket per key (e.g. (subscription, principal, "writes")), full at first use."""

    def __init__(self, capacity: float, refill: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.refill = capacity, refill
        self._clock = clock
        self._buckets: dict[tuple[str, ...], Bucket] = {}
        self._lock = threading.Lock()

    def configure(self, capacity: float, refill: float) -> None:
        with self._lock:
            self.capacity, self.refill = capacity, refill
            self._buckets.clear()

    def take(self, key: tuple[str, ...]) -> tuple[bool, int, float]:
        """(allowed, tokens left, seconds until one is back): takes one token when there is one."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(self.capacity, self.refill, self.capacity, now)
            bucket.level = min(bucket.capacity, bucket.level + (now - bucket.stamp) * bucket.refill)
            bucket.stamp = now
            if bucket.level >= 1:
                bucket.level -= 1
                return True, int(bucket.level), 0.0
            wait = (1 - bucket.level) / bucket.refill if bucket.refill > 0 else 3600.0
            return False, 0, wait


class Windows:
    """``limit`` requests per key in a fixed window of ``seconds`` that starts at the key's first request."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds = limit, seconds
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def configure(self, limit: int, seconds: float) -> None:
        with self._lock:
            self.limit, self.seconds = limit, seconds
            self._windows.clear()

    def take(self, key: str) -> tuple[bool, int, float]:
        """(allowed, requests left in the window, seconds until it resets)."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.seconds:
                start, used = now, 0
            resets = max(0.0, start + self.seconds - now)
            if used >= self.limit:
                self._windows[key] = (start, used)
                return False, 0, resets
            self._windows[key] = (start, used + 1)
            return True, self.limit - used - 1, resets


def hms(seconds: float) -> str:
    """Resource Graph's ``x-ms-user-quota-resets-after`` format: hh:mm:ss, rounded up."""
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
