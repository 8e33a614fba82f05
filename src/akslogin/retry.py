"""When and how long to retry an HTTP call, for every client (token endpoints, ARM, managed identity):
bounded attempts, exponential backoff with jitter, ``Retry-After`` honoured (seconds or an HTTP date) within a
cap and the run's deadline. Only requests that are safe to repeat are retried."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Grants that must never be sent twice: an authorization code is single-use (AADSTS54005).
UNSAFE_GRANTS = frozenset({"authorization_code"})


def retry_after_seconds(value: str | None, cap: float, now: Callable[[], float] = time.time) -> float | None:
    """The wait a ``Retry-After`` header asks for, in [0, cap]: delta-seconds or an HTTP date (RFC 9110);
    None when there is none or it cannot be read."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(text).timestamp() - now()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


class RetryPolicy:
    """A plain class, not a dataclass: this module is on every sign-in's path, and the engine never imports
    dataclasses (a sign-in need not load it for one record)."""

    __slots__ = ("attempts", "base", "cap", "jitter", "max_retry_after", "sleep")

    def __init__(self, attempts: int = 3, base: float = 0.5, cap: float = 4.0, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] | None = None) -> None:
        self.attempts = attempts  # total tries, the first included
        self.base = base
        self.cap = cap
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        #: A number in [0, 1); pinned by tests that check the waits.
        self.jitter: Callable[[], float] = jitter or random.Random().random

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (attempt counts from 1): what ``Retry-After``
        asks for, else base·2^(attempt-1) capped, scaled by 0.5-1.0 (jitter that never retries at once)."""
        asked = retry_after_seconds(retry_after, self.max_retry_after)
        if asked is not None:
            return asked
        return min(self.cap, self.base * 2.0 ** (attempt - 1)) * (0.5 + self.jitter() / 2)


def is_safe_to_retry(method: str, data: Any) -> bool:
    """GETs are; token POSTs are unless they redeem a single-use code."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return True
    if method.upper() != "POST":
        return False
    if isinstance(data, Mapping):
        return str(data.get("grant_type", "")) not in UNSAFE_GRANTS
    if isinstance(data, (str, bytes)):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        return "grant_type=authorization_code" not in text
    return data is None
