"""Cache files that are cut short, oversized or cannot be written: the run goes on, says so once, and heals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.mounts import _mounted_tmpfs, fill
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def _run(tmp_path: Path, emulator: Emulator, app: AppInfo):  # type: ignore[no-untyped-def]
    return run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "cache"),
                        clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""))


def _entry(tmp_path: Path) -> Path:
    return next((tmp_path / "cache" / "tokens").glob("*.json"))


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
