"""Every AADSTS code in akslogin's table is triggered through the emulator, and the paragraph the user sees
names the code, its plain-language cause and the next step (or, for ropc, what to use instead).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akslogin.aadsts import AADSTS
from akslogin.emulator import Emulator
from support.aadsts_table import TRIGGERS, Case
from support.worlds import (
    PASSWORD,
    AppInfo,
)

#: ropc replaces the table's next step with its own "use interactive/devicecode instead" advice.
ROPC_ADVICE = "--login interactive or --login devicecode"


#: A dead refresh token is announced right before the new prompt, whose next step is the prompt itself.
REPROMPT = (50173, 700082, 70043)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("code", sorted(AADSTS))
def test_code_reaches_the_user_as_one_actionable_paragraph(code: int, tmp_path: Path, user_emu: Emulator,
                                                           emulator: Emulator, apps: dict[str, AppInfo],
                                                           machine_emulator: Emulator) -> None:
    text = TRIGGERS[code](Case(tmp_path, user_emu, emulator, apps, machine_emulator))
    explanation = AADSTS[code]
    assert f"AADSTS{code}" in text, text
    assert explanation.cause in text, text
    if code in REPROMPT:
        assert "can no longer be used" in text and "Sign in again below." in text, text
    else:
        assert explanation.action in text or ROPC_ADVICE in text, text
    assert "Traceback" not in text and PASSWORD not in text
    paragraph = next(line for line in text.splitlines() if f"AADSTS{code}" in line)
    assert paragraph.startswith("akslogin: ")
