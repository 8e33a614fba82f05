"""What the tiers of test_fleet.py share: tests/{e2e,emulated,unit}/test_fleet.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import Runner, fleet_spec

SUBS, PER_SUB = 5, 11


DENIED = "s3-c5"


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    world = world_from_dict(fleet_spec(SUBS, PER_SUB, denied=(DENIED,)))
    with Emulator(world, tmp_path_factory.mktemp("fleet-emu")) as e:
        yield e


def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()
    emu.arm.page_size = 20
