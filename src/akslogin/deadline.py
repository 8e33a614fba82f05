"""One deadline for a run, enforced on the sockets: what every client (requests for Entra and ARM, urllib3 for
the API server) uses so that a server that trickles a byte a second cannot keep a command past --timeout.

A per-read socket timeout never fires against such a server; when the deadline passes, every socket the client
opened is shut down, which ends whatever read is blocked on it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any


class Watchdog:
    """Enforces the run's deadline on sockets: a server that trickles a byte a second never hits the per-read
    socket timeout, so when the deadline passes every socket this client opened is shut down, which ends
    whatever read is blocked on it."""

    def __init__(self) -> None:
        self._socks: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.fired = False

    def add(self, sock: Any) -> None:
        with self._lock:
            self._socks.add(sock)
            if self.fired:
                self._shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in list(self._socks):
                self._shut(sock)

    @staticmethod
    def _shut(sock: Any) -> None:
        import socket

        with contextlib.suppress(OSError, ValueError):
            sock.shutdown(socket.SHUT_RDWR)


def watched_pool_classes(watchdog: Watchdog) -> dict[str, type[Any]]:
    """urllib3 pool classes whose connections register their socket with ``watchdog`` once connected."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def watched(base: type[Any]) -> type[Any]:
        def connect(self: Any) -> None:
            base.connect(self)
            if getattr(self, "sock", None) is not None:
                watchdog.add(self.sock)

        return type(f"Watched{base.__name__}", (base,), {"connect": connect})

    return {
        "http": type("WatchedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": watched(HTTPConnection)}),
        "https": type("WatchedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": watched(HTTPSConnection)}),
    }
