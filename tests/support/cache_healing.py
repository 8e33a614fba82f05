"""What the tiers of test_cache_healing.py share: tests/{e2e,emulated}/test_cache_healing.py."""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def _run(tmp_path: Path, emulator: Emulator, app: AppInfo):  # type: ignore[no-untyped-def]
    return run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "cache"),
                        clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""))


def _entry(tmp_path: Path) -> Path:
    return next((tmp_path / "cache" / "tokens").glob("*.json"))
