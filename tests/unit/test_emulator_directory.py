"""The emulator's directory features: Graph endpoint, group overage, guests, RBAC writes, the server's clock.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin.emulator.world import WorldError, world_from_dict
from support.explainworld import GUEST_UPN


def test_guest_flag_requires_an_ext_upn() -> None:
    with pytest.raises(WorldError, match="#EXT#"):
        world_from_dict({"tenants": [{"id": "t", "users": [{"upn": "x@y.com", "guest": True}]}]})
    world = world_from_dict({"tenants": [{"id": "t", "users": [{"upn": GUEST_UPN}]}]})
    assert world.tenants[0].users[0].guest
