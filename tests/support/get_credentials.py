"""What the tiers of test_get_credentials.py share: tests/{e2e,emulated}/test_get_credentials.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import Runner, single_spec, sub_id

S1, S2 = sub_id(1), sub_id(2)


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("getcred-emu")) as e:
        yield e


def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()
