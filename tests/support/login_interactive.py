"""What the tiers of test_login_interactive.py share: tests/{e2e,emulated,unit}/test_login_interactive.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.chromium_signin import CHROMIUM, spki_hash
from support.paths import SUPPORT
from support.run import (
    clean_env,
)
from support.worlds import USER_DOMAIN

DEV = f"dev@{USER_DOMAIN}"


needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


def _browser_env(tmp_path: Path, emu: Emulator, username: str, password: str) -> dict[str, str]:
    """BROWSER pointing at the Chromium driver, as a user's desktop would point at their browser."""
    wrapper = tmp_path / "browser.sh"
    helper = SUPPORT / "chromium_signin.py"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{helper}" "$@"\n')
    wrapper.chmod(0o755)
    return clean_env(tmp_path, BROWSER=str(wrapper), SIGNIN_USERNAME=username, SIGNIN_PASSWORD=password,
                     SIGNIN_SPKI=spki_hash(emu.tls.server_cert_path.read_bytes()),
                     SIGNIN_RESULT=str(tmp_path / "browser-result.json"))
