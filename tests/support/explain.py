"""What the tiers of test_explain.py share: tests/{e2e,emulated,unit}/test_explain.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from akslogin.emulator import Emulator
from support.explainworld import start


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)
