"""Cache files that are cut short, oversized or cannot be written: the run goes on, says so once, and heals.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.cache_healing import _entry, _run
from support.worlds import AppInfo


@pytest.mark.parametrize("damage", ["cut", "empty", "oversized", "nested"])
def test_unreadable_entry_is_moved_aside_once_and_the_run_goes_on(tmp_path: Path, emulator: Emulator,
                                                                  apps: dict[str, AppInfo], damage: str) -> None:
    app = apps["viewer"]
    assert _run(tmp_path, emulator, app).returncode == 0
    entry = _entry(tmp_path)
    raw = entry.read_bytes()
    entry.write_bytes({"cut": raw[: len(raw) // 2], "empty": b"",
                       "oversized": raw[:-1] + b',"pad":"' + b"x" * (6 << 20) + b'"}',
                       "nested": b"[" * 200_000}[damage])
    healed = _run(tmp_path, emulator, app)
    assert healed.returncode == 0, healed.stderr
    assert json.loads(healed.stdout)["status"]["token"]
    lines = [line for line in healed.stderr.splitlines() if line]
    assert len(lines) == 1 and "was unreadable" in lines[0] and "moved it to" in lines[0], healed.stderr
    assert "internal error" not in healed.stderr
    again = _run(tmp_path, emulator, app)
    assert again.returncode == 0 and again.stderr == ""  # healed: served from the rebuilt entry, silently
    assert len(list((tmp_path / "cache" / "tokens").glob("*.corrupt-*"))) == 1


def test_a_directory_in_place_of_the_entry_is_moved_aside(tmp_path: Path, emulator: Emulator,
                                                           apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    assert _run(tmp_path, emulator, app).returncode == 0
    entry = _entry(tmp_path)
    entry.unlink()
    entry.mkdir(mode=0o700)
    result = _run(tmp_path, emulator, app)
    assert result.returncode == 0, result.stderr
    assert "was unreadable" in result.stderr and "bug" not in result.stderr
    assert entry.is_file()
    again = _run(tmp_path, emulator, app)
    assert again.returncode == 0 and again.stderr == ""
