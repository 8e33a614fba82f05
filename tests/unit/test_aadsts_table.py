"""Every AADSTS code in akslogin's table is triggered through the emulator, and the paragraph the user sees
names the code, its plain-language cause and the next step (or, for ropc, what to use instead).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from akslogin.aadsts import AADSTS
from support.aadsts_table import TRIGGERS


def test_table_is_large_and_every_code_has_a_trigger() -> None:
    assert len(AADSTS) >= 20
    assert set(TRIGGERS) == set(AADSTS)
    assert all(e.cause and e.action.endswith((".", ")")) for e in AADSTS.values())
