"""What the tiers of test_new_user_arm.py share: the world (a third subscription named like the second) and its
emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import Runner, single_spec, sub_id

S1, S2, S3 = sub_id(1), sub_id(2), sub_id(3)


def _spec() -> dict[str, Any]:
    spec = single_spec()
    # A third subscription with the same display name as S2: a name that is ambiguous.
    spec["subscriptions"].append({"id": S3, "display_name": "Production", "tenant": spec["tenants"][0]["id"]})
    spec["arm_role_assignments"] += [
        {"principal": {"app": "deployer"}, "role": "reader", "scope": f"/subscriptions/{S3}"},
        {"principal": {"app": "outsider"}, "role": "cluster-user", "scope": {"cluster": "aks1"}},
    ]
    return spec


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(_spec()), tmp_path_factory.mktemp("new-user-arm")) as e:
        yield e


def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()
