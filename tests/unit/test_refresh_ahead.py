"""Refresh ahead: the first call in the second half of a token's usable life is served the cached token at
once and schedules one detached process that renews it two minutes before get-token's 5-minute margin, so no
kubectl call waits for the identity provider, also after a person's pause.

Here: the unit tier (in process; no emulator, process or socket): the claim marker and the window's size.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from akslogin.tokencache import store
from akslogin.tokencache.entry import (
    ENTRY_VERSION,
    MIN_REMAINING,
    REFRESH_LEAD,
    REFRESH_MAX_WINDOW,
    AccessToken,
    parse_entry,
    read_entry,
)
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
    assert marker.read_text() == repr(now + refresh_ahead.RETRY_SPACING)


def _token(lifetime: float, issued_on: float = 1_000_000.0) -> AccessToken:
    return AccessToken("t", issued_on + lifetime, issued_on=issued_on)


def test_the_window_is_the_second_half_of_the_usable_life() -> None:
    """Issue 29.1: a person pauses 5-30 minutes; a window of two minutes before the margin was stepped over by
    most pauses, one of 27-43 minutes (Entra's 60-90-minute tokens) by almost none."""
    hour, ninety = _token(3600), _token(5400)
    assert hour.renew_window() == (3600 - MIN_REMAINING) / 2 == 1650
    assert ninety.renew_window() == (5400 - MIN_REMAINING) / 2
    start = 1_000_000.0
    half = start + (3600 - MIN_REMAINING) / 2
    assert not hour.renew_soon(start) and not hour.renew_soon(half - 1)
    assert hour.renew_soon(half + 1)
    assert hour.fresh(start + 3600 - MIN_REMAINING - 1)  # still served through the whole window
    # A managed identity's 24-hour token: the renewal process waits at most an hour, not half a day.
    assert _token(86400).renew_window() == REFRESH_MAX_WINDOW == 3600


def test_a_renewal_scheduled_in_the_window_runs_shortly_before_the_margin() -> None:
    """The wide window costs no extra token requests: the renewal waits until LEAD before the margin (or runs at
    once when the first call in the window comes later than that)."""
    hour = _token(3600)
    early = hour.expires_on - 1500
    assert refresh_ahead.due_time(hour, early) == hour.expires_on - MIN_REMAINING - REFRESH_LEAD
    late = hour.expires_on - MIN_REMAINING - 10
    assert refresh_ahead.due_time(hour, late) == late


def test_an_entry_without_issued_on_keeps_the_short_window() -> None:
    """Entries written before issued_on existed (or with nonsense in it) fall back to REFRESH_LEAD."""
    assert AccessToken("t", 2_000_000.0).renew_window() == REFRESH_LEAD
    for issued in ("x", True, -5, 3_000_000, None):
        raw = json.dumps({"version": ENTRY_VERSION, "access_token": "t", "expires_on": 2_000_000,
                          "issued_on": issued}).encode()
        parsed = parse_entry(raw)
        assert parsed is not None and parsed.issued_on == 0.0 and parsed.renew_window() == REFRESH_LEAD


def test_the_cache_entry_keeps_when_the_token_came(tmp_path: Path) -> None:
    store.prepare(str(tmp_path))
    store.write_entry(str(tmp_path), "k", "t", 1_003_600.0, "spn", issued_on=1_000_000.0)
    parsed = read_entry(str(tmp_path), "k")
    assert parsed is not None and parsed.issued_on == 1_000_000.0 and parsed.renew_window() == 1650


def test_a_scheduled_claim_holds_until_its_renewal_has_run(tmp_path: Path) -> None:
    """While a renewal waits for its moment, every call in the window finds the marker and starts nothing."""
    (tmp_path / "locks").mkdir()
    now = 1_000_000.0
    due = now + 1500
    assert refresh_ahead.claim(str(tmp_path), "k", now, hold_until=due + refresh_ahead.RETRY_SPACING)
    assert not refresh_ahead.claim(str(tmp_path), "k", now + 1400)
    assert not refresh_ahead.claim(str(tmp_path), "k", due + refresh_ahead.RETRY_SPACING - 1)
    assert refresh_ahead.claim(str(tmp_path), "k", due + refresh_ahead.RETRY_SPACING + 1)


def test_a_marker_that_holds_for_days_is_damaged(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    Path(refresh_ahead.marker_path(str(tmp_path), "k")).write_text(repr(1e12))
    assert refresh_ahead.claim(str(tmp_path), "k", 1_000_000.0)


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_waiting_process_sleeps_in_steps_until_its_moment() -> None:
    clock = _Clock(1000.0)
    assert refresh_ahead.wait_until(1100.0, clock, clock.sleep)
    assert clock.now == 1100.0 and max(clock.sleeps) <= refresh_ahead.SLEEP_STEP and len(clock.sleeps) == 4


def test_a_machine_that_slept_past_the_moment_renews_nothing() -> None:
    """A laptop closed for the night: the wall clock jumps; the renewal is dropped (the synchronous path or the
    next call's renewal takes over), not made for a token nobody is waiting for."""
    clock = _Clock(1000.0)

    def suspended(seconds: float) -> None:
        clock.now += seconds + 8 * 3600

    assert not refresh_ahead.wait_until(1100.0, clock, suspended)
    assert refresh_ahead.wait_until(900.0, _Clock(1000.0), clock.sleep)  # a little late is still in time


def test_the_payload_carries_the_arguments_and_the_moment() -> None:
    assert refresh_ahead.parse_payload({"argv": ["--login", "spn"], "due": 5.0}) == (["--login", "spn"], 5.0)
    assert refresh_ahead.parse_payload(["--login", "spn"]) == (["--login", "spn"], 0.0)  # an earlier akslogin
    assert refresh_ahead.parse_payload({"argv": ["a"], "due": "soon"}) == (["a"], 0.0)
    assert refresh_ahead.parse_payload({"argv": [1]}) == (None, 0.0)
    assert refresh_ahead.parse_payload("x") == (None, 0.0)


def test_a_moment_too_far_ahead_is_not_waited_for() -> None:
    """Every wait has a deadline: no renewal is scheduled more than an hour ahead, so a payload asking for more
    is not slept on."""
    clock = _Clock(1000.0)
    assert not refresh_ahead.wait_until(1000.0 + refresh_ahead.MAX_WAIT + 1, clock, clock.sleep)
    assert clock.sleeps == []
