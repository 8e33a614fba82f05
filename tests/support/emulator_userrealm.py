"""What other test files take from test_emulator_userrealm.py."""

from __future__ import annotations

import socket


def _port_443_free() -> bool:
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", 443))
        return True
    except OSError:
        return False
    finally:
        probe.close()
