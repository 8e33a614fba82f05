"""Issue 25: the OS sign-in broker for --login interactive (AKSLOGIN_BROKER=1, pip install 'akslogin[broker]').
What can be checked on Linux: the options MSAL gets per platform, MSAL's own fallback when the broker cannot run,
and every refusal, through the real command where it applies. The OS broker itself (WAM, Company Portal) is not
exercised here.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import msal

from akslogin.credentials import broker
from akslogin.credentials.msal_app import Authority, public_app
from akslogin.emulator import Emulator
from akslogin.http import HttpClient
from support.run import clean_env, run_akslogin, user_args
from support.worlds import AKS_CLIENT_ID, USER_TENANT_ID


def test_on_linux_the_broker_is_refused_and_the_command_says_what_works(tmp_path: Path, user_emu: Emulator) -> None:
    assert broker.runtime_installed() is False  # the runtime is not a test dependency: the refusal path runs
    result = run_akslogin(user_args(user_emu, "interactive", tmp_path / "cache"),
                          clean_env(tmp_path, AKSLOGIN_BROKER="1", AKSLOGIN_PROMPT="always"))
    assert result.returncode == 2
    assert "Windows and macOS only" in result.stderr and "--login azurecli" in result.stderr
    assert not [e for e in user_emu.request_log.entries("entra") if "/token" in e.path]


def test_msal_gets_the_broker_option_and_falls_back_where_the_broker_cannot_run(user_emu: Emulator) -> None:
    """The option reaches MSAL's PublicClientApplication; on a platform without the broker MSAL keeps its own
    flows (its documented fallback), which is what a non-Windows machine with the option set gets."""
    authority = Authority(user_emu.authority_host, USER_TENANT_ID, instance_discovery=False)
    http = HttpClient(30, [str(user_emu.ca_path)])
    app = public_app(authority, AKS_CLIENT_ID, http, msal.TokenCache(), enable_broker_on_windows=True)
    assert isinstance(app, msal.PublicClientApplication)
    assert not app._enable_broker  # Linux: MSAL ignores the Windows option (None or False by version)
