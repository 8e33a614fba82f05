"""The emulated ARM on the wire: paging, role-based visibility, AKS kubeconfig shapes, ARM's two error shapes.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akslogin.emulator.world import WorldError, world_from_dict
from support.armworld import single_spec, sub_id


def test_world_schema_errors_are_named(tmp_path: Path) -> None:
    spec = single_spec()
    spec["arm_role_assignments"].append({"principal": {"app": "ghost"}, "role": "reader",
                                         "scope": f"/subscriptions/{sub_id(1)}"})
    with pytest.raises(WorldError, match=r"arm_role_assignments\[5\]: unknown app 'ghost'"):
        world_from_dict(spec)
    spec = single_spec()
    spec["arm_role_assignments"][0]["role"] = "superuser"
    with pytest.raises(WorldError, match="unknown role 'superuser'"):
        world_from_dict(spec)
    spec = single_spec()
    spec["clusters"][1]["arm_name"] = "aks1"  # same ARM id as the first cluster
    with pytest.raises(WorldError, match="two clusters have the ARM id"):
        world_from_dict(spec)
