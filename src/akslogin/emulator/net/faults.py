"""Fault and latency injection for the emulator: what tests use to show behaviour under a bad network.

A ``FaultPlan`` is consulted by every emulated server before it dispatches a request. Latency applies to
every request of a service; faults are one-shot (or ``times=N``) and match a service and a path regex.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

#: What a fault does to the matching request. The last four are a hostile server's tricks: ``redirect`` answers
#: ``status`` (a 3xx) with ``Location: location``; ``trickle`` sends the real answer one byte every ``delay``
#: seconds; ``endless`` sends a 200 whose body never ends (bounded, so a client that keeps reading stops after
#: 256 MiB); ``patch`` answers normally with the JSON fields of ``patch`` laid over the body (an IdP that returns
#: odd values); ``raw`` answers ``status`` with ``body`` as its JSON (broken on purpose); ``trickle_headers`` sends
#: the status line and headers one byte every ``delay`` seconds; ``huge_header`` sends a 1 MiB header line.
KINDS = ("status", "reset", "truncate", "html", "slow", "not_json", "redirect", "trickle", "endless", "patch",
         "raw", "trickle_headers", "huge_header")


@dataclass
class Fault:
    service: str  # "entra", "arm", "aks:<cluster>", "msi", or "*"
    path: str  # regex searched in the request path
    kind: str
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0  # for "slow": seconds to sleep before answering normally; "trickle": between bytes
    times: int = 1
    location: str = ""  # for "redirect"
    patch: dict[str, Any] | None = None  # for "patch"
    body: str = ""  # for "raw"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(KINDS)}")
        self._regex = re.compile(self.path)

    def matches(self, service: str, path: str) -> bool:
        wanted = self.service == "*" or self.service == service or service.startswith(self.service + ":")
        return wanted and self._regex.search(path) is not None


@dataclass
class FaultPlan:
    latency: dict[str, float] = field(default_factory=dict)  # service (or "*") → seconds added per request
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def set_latency(self, service: str, seconds: float) -> None:
        with self._lock:
            self.latency[service] = seconds

    def clear(self) -> None:
        with self._lock:
            self.latency.clear()
            self.faults.clear()

    def delay_for(self, service: str) -> float:
        with self._lock:
            prefix = service.split(":")[0]
            return self.latency.get(service, self.latency.get(prefix, self.latency.get("*", 0.0)))

    def take(self, service: str, path: str) -> Fault | None:
        """The first matching fault, consumed once."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(service, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None
