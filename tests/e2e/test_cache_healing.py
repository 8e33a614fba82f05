"""Cache files that are cut short, oversized or cannot be written: the run goes on, says so once, and heals.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from pathlib import Path

from akslogin.emulator import Emulator
from support.cache_healing import _entry, _run
from support.mounts import _mounted_tmpfs, fill
from support.worlds import AppInfo


def test_token_that_cannot_be_cached_is_still_printed(tmp_path: Path, emulator: Emulator,
                                                      apps: dict[str, AppInfo]) -> None:
    """A write that fails after the sign-in (here a full disk): kubectl still gets the token, and the warning
    says what happened, not 'a bug in akslogin'."""
    app = apps["viewer"]
    with _mounted_tmpfs(tmp_path / "cache", size="64k") as cache:
        assert _run(tmp_path, emulator, app).returncode == 0
        _entry(tmp_path).unlink()
        fill(cache)
        result = _run(tmp_path, emulator, app)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"]
    assert "could not be cached" in result.stderr and "bug" not in result.stderr
