"""When and how long to retry an HTTP call: bounded attempts, exponential backoff with full jitter,
``Retry-After`` honoured within the run's deadline. Only requests that are safe to repeat are retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Grants that must never be sent twice: an authorization code is single-use (AADSTS54005).
UNSAFE_GRANTS = frozenset({"authorization_code"})


@dataclass
class RetryPolicy:
    attempts: int = 3  # total tries, the first included
    base: float = 0.5
    cap: float = 4.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (attempt counts from 1)."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_retry_after)
            except ValueError:
                pass  # an HTTP date; fall back to backoff
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1))))


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
