"""Polling a device authorization grant (RFC 8628) until the user finishes, declines, or time runs out.

Shared by the v2 (MSAL) and legacy v1 device code clients. The wait between polls is the server's
``interval`` (raised by 5 s on ``slow_down``); the whole run is bounded by ``--timeout``, as in kubelogin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from akslogin.aadsts import describe_idp_error

RETRY = ("authorization_pending", "slow_down")


def poll(
    step: Callable[[], dict[str, Any]],
    interval: Callable[[], float],
    deadline: float,
    now: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Call ``step`` (one token request) until it stops answering pending/slow_down; return its result.

    Raises the user-facing error (AADSTS70016: not finished in time) when the next poll would fall after
    ``deadline``.
    """
    while True:
        result = step()
        if result.get("error") not in RETRY:
            return result
        wait = max(float(interval()), 0.0)
        if now() + wait > deadline:
            pending = dict(result)
            pending.setdefault("error_codes", [70016])
            raise describe_idp_error(pending)
        sleep(wait)
