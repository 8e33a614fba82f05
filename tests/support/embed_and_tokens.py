"""What the tiers of test_embed_and_tokens.py share: tests/{e2e,emulated}/test_embed_and_tokens.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import Runner, named, single_spec, sub_id

S1 = sub_id(1)


USER = "clusterUser_rg-apps_aks1"


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("embed-emu")) as e:
        yield e


def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.entra.settings.access_token_lifetime = 3599


def user_entry(runner: Runner) -> dict[str, Any]:
    return named(runner.config(), "users", USER)["user"]
