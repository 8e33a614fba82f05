"""Issue 25: the OS sign-in broker for --login interactive (AKSLOGIN_BROKER=1, pip install 'akslogin[broker]').
What can be checked on Linux: the options MSAL gets per platform, MSAL's own fallback when the broker cannot run,
and every refusal, through the real command where it applies. The OS broker itself (WAM, Company Portal) is not
exercised here.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin.credentials import broker
from akslogin.errors import UsageError


@pytest.mark.parametrize(("platform", "option"), [("win32", "enable_broker_on_windows"),
                                                   ("darwin", "enable_broker_on_mac")])
def test_the_broker_is_asked_for_on_windows_and_macos(platform: str, option: str) -> None:
    assert broker.app_options({"AKSLOGIN_BROKER": "1"}, platform, runtime=lambda: True) == {option: True}
    assert broker.app_options({}, platform, runtime=lambda: True) == {}


def test_without_its_runtime_the_broker_is_refused_with_the_install_line() -> None:
    with pytest.raises(UsageError) as info:
        broker.app_options({"AKSLOGIN_BROKER": "true"}, "win32", runtime=lambda: False)
    assert "pip install 'akslogin[broker]'" in info.value.render()
