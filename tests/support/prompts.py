"""What the tiers of test_prompts.py share: tests/{e2e,emulated}/test_prompts.py."""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import (
    user_args,
    write_kubeconfig,
)

CONTEXT = "users"  # write_kubeconfig names the context after the cluster


def _context(tmp_path: Path, emu: Emulator, mode: str, login: str = "devicecode", *extra: str) -> Path:
    return write_kubeconfig(tmp_path / "config", emu, "users", user_args(emu, login, tmp_path / "cache", *extra),
                            interactive_mode=mode)
