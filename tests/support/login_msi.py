"""What the tiers of test_login_msi.py share: tests/{e2e,emulated,unit}/test_login_msi.py."""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from akslogin.emulator.azure.managed_identity import managed_identities
from support.run import clean_env


def _env(tmp_path: Path, emu: Emulator, host: str, **extra: str) -> dict[str, str]:
    return clean_env(tmp_path, **{**managed_identities(emu).environment(host), **extra})
