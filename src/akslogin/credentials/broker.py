"""The sign-in broker for ``--login interactive`` on Windows (WAM) and macOS (Company Portal), when asked for.

Tenants whose Conditional Access wants a compliant device accept a sign-in the OS broker vouches for. MSAL
talks to the broker through its ``pymsalruntime`` package (``pip install 'akslogin[broker]'``); akslogin only
opts in, with ``AKSLOGIN_BROKER=1``, and says plainly when that cannot work here. What is checked on this Linux
machine: the options handed to MSAL per platform and every refusal below (tests/{unit,emulated}/test_broker.py);
what is not: the OS broker itself (MSAL falls back to its own browser flow where the broker is unavailable, e.g.
Intel Macs).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping

from akslogin.errors import UsageError

VARIABLE = "AKSLOGIN_BROKER"


def requested(environ: Mapping[str, str]) -> bool:
    return environ.get(VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def runtime_installed() -> bool:
    return importlib.util.find_spec("pymsalruntime") is not None


def app_options(environ: Mapping[str, str], platform: str = sys.platform,
                runtime: Callable[[], bool] = runtime_installed) -> dict[str, bool]:
    """The PublicClientApplication options that turn the broker on, or {} when it is not asked for."""
    if not requested(environ):
        return {}
    if platform == "win32":
        option = "enable_broker_on_windows"
    elif platform == "darwin":
        option = "enable_broker_on_mac"
    else:
        raise UsageError(f"{VARIABLE} asks for the sign-in broker, which akslogin uses on Windows and macOS only.",
                         f"Here, use --login interactive with a browser or --login azurecli, and unset {VARIABLE}.")
    if not runtime():
        raise UsageError(f"{VARIABLE} asks for the sign-in broker, but its runtime (pymsalruntime) is not "
                         "installed.", f"Install it with pip install 'akslogin[broker]', or unset {VARIABLE}.")
    return {option: True}
