"""What the tiers of test_login_ropc.py share: tests/{e2e,emulated,unit}/test_login_ropc.py."""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env, user_args, write_kubeconfig
from support.worlds import PASSWORD


def _kubeconfig(tmp_path: Path, emu: Emulator, upn: str, password: str = PASSWORD) -> tuple[Path, dict[str, str]]:
    cache = tmp_path / "cache"
    kc = write_kubeconfig(tmp_path / "config", emu, "users", user_args(emu, "ropc", cache),
                          exec_env={"AAD_USER_PRINCIPAL_NAME": upn, "AAD_USER_PRINCIPAL_PASSWORD": password})
    return kc, clean_env(tmp_path)
