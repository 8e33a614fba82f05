"""Refresh ahead: inside the last two minutes before get-token's 5-minute margin, the cached token is printed at
once and one detached process renews it, so no kubectl call waits for the identity provider.

Real processes against the session emulator: the token lifetime is chosen so the first token is already in the
renewal window (400 s: under 5 + 2 minutes), the renewed one is not (an hour).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from akslogin.tokens import refresh_ahead


def test_claim_is_once_per_spacing(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    locks.mkdir()
    now = time.time()
    assert refresh_ahead.claim(str(tmp_path), "k", now)
    assert not refresh_ahead.claim(str(tmp_path), "k", now + 1)
    assert refresh_ahead.claim(str(tmp_path), "k", now + refresh_ahead.RETRY_SPACING + 5)
    assert not refresh_ahead.claim(str(tmp_path / "missing"), "k", now)  # no cache yet: the sync path does it


def test_a_claim_whose_writer_died_blocks_renewal_only_for_the_spacing(tmp_path: Path) -> None:
    """A process killed between creating the marker and writing its time leaves it empty: that holds off
    other claims as a fresh claim would, and no longer than RETRY_SPACING after it was made."""

    locks = tmp_path / "locks"
    locks.mkdir()
    marker = Path(refresh_ahead.marker_path(str(tmp_path), "k"))
    marker.touch(mode=0o600)
    now = time.time()
    assert not refresh_ahead.claim(str(tmp_path), "k", now)
    made = now - refresh_ahead.RETRY_SPACING - 5
    os.utime(marker, (made, made))
    assert refresh_ahead.claim(str(tmp_path), "k", now)
    assert marker.read_text() == repr(now)
