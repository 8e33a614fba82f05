"""Polling a device authorization grant (RFC 8628) until the user finishes, declines, or time runs out.

Shared by the v2 (MSAL) and legacy v1 device code clients. The wait between polls is the server's
``interval`` (raised by 5 s on ``slow_down``); the whole run is bounded by ``--timeout``, as in kubelogin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from akslogin.aadsts import describe_idp_error
from akslogin.errors import DeadlineError

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
    pending: dict[str, Any] = {"error": "authorization_pending"}
    while True:
        try:
            result = step()
        except DeadlineError:
            # The run's HTTP deadline started before this loop, so it can pass between two polls: the user
            # still did not finish in time, which is what they need to hear.
            raise _not_finished(pending) from None
        if result.get("error") not in RETRY:
            return result
        pending = result
        wait = max(float(interval()), 0.0)
        if now() + wait > deadline:
            raise _not_finished(result)
        sleep(wait)


def _not_finished(result: dict[str, Any]) -> Exception:
    pending = dict(result)
    pending.setdefault("error_codes", [70016])
    return describe_idp_error(pending)
