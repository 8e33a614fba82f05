"""The emulator's request log: what tests read to count requests. Never holds secrets.

Besides the requests themselves it keeps, per service, how many requests are being handled right now and
the most there ever were at once since the last reset: what shows that a client's concurrency bound holds
(``akslogin get-credentials --all --max-concurrency N`` must never have more than N ARM requests open).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the emulator saw it: only non-secret, whitelisted facts."""

    service: str  # "entra", "aks:<cluster>"
    method: str
    path: str
    status: int
    grant_type: str | None = None
    client_id: str | None = None
    error_code: int | None = None
    user: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: When the request had been read and when its answer was ready (the emulator's time.monotonic(), so
    #: only differences mean anything: e.g. how long a client waited before retrying after a 429).
    received: float = 0.0
    answered: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: Entries the log keeps by default: a long-running emulator on a CI host must not grow without bound.
DEFAULT_SIZE = 50_000


class RequestLog:
    """Thread-safe log with a reset, shared by all emulator servers: a ring of the newest ``size`` entries
    (``dropped`` counts what fell out of it since the last reset)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=max(1, size))
        self.dropped = 0
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._peak: Counter[str] = Counter()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(entry)

    def entries(self, service: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            items = list(self._entries)
        if service is None:
            return items
        return [e for e in items if e.service == service or e.service.startswith(service + ":")]

    def token_requests(self) -> list[LoggedRequest]:
        """Requests that reached a token endpoint (what "one request per token" counts)."""
        return [e for e in self.entries("entra") if e.path.endswith("/token")]

    def reset(self) -> None:
        """Forget the entries, and restart the peaks from what is in flight now."""
        with self._lock:
            self._entries.clear()
            self.dropped = 0
            self._peak = Counter({k: v for k, v in self._in_flight.items() if v})

    # -- concurrency ----------------------------------------------------------------------------
    def begin(self, service: str) -> None:
        """A request to ``service`` has been read and is being handled (latency and faults included)."""
        with self._lock:
            self._in_flight[service] += 1
            self._peak[service] = max(self._peak[service], self._in_flight[service])

    def end(self, service: str) -> None:
        """Its answer is ready. Called before the answer is sent, so a client that sends its next request
        as soon as it has an answer is never counted twice: the peak never exceeds the client's own bound."""
        with self._lock:
            self._in_flight[service] -= 1

    def concurrency(self) -> dict[str, dict[str, int]]:
        """``{"in_flight": {service: n}, "peak": {service: n}}`` (peaks since the last reset)."""
        with self._lock:
            return {"in_flight": {k: v for k, v in self._in_flight.items() if v}, "peak": dict(self._peak)}

    def peak(self, service: str) -> int:
        """The most requests ``service`` (or, for "aks", any "aks:<cluster>") handled at once since the reset."""
        with self._lock:
            if service in self._peak:
                return self._peak[service]
            return max((v for k, v in self._peak.items() if k.startswith(service + ":")), default=0)
