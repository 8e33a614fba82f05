"""What the tiers of test_login_cli_tools.py share: tests/{e2e,emulated,unit}/test_login_cli_tools.py."""

from __future__ import annotations

import os
from pathlib import Path

from akslogin.emulator import Emulator
from support.machine_world import (
    install_fake_az,
    install_fake_azd,
)
from support.run import clean_env


def _az_env(tmp_path: Path, emu: Emulator, signed_in: bool = True, **extra: str) -> tuple[dict[str, str], Path]:
    config = tmp_path / "azure-config"
    install_fake_az(tmp_path / "bin", config, emu, signed_in)
    env = clean_env(tmp_path, AZURE_CONFIG_DIR=str(config), **extra)
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return env, config


def _azd_env(tmp_path: Path, emu: Emulator, signed_in: bool = True) -> tuple[dict[str, str], Path]:
    config = tmp_path / "azd-config"
    install_fake_azd(tmp_path / "bin", config, emu, signed_in)
    env = clean_env(tmp_path, AZD_CONFIG_DIR=str(config))
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return env, config
