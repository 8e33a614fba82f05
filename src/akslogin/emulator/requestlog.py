"""The emulator's request log: what tests read to count requests. Never holds secrets."""

from __future__ import annotations

import threading
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe append-only log with a reset, shared by all emulator servers."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
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
        with self._lock:
            self._entries.clear()
