"""ARM's per-subscription write quota under get-credentials --all: paced by the quota header, spread over
subscriptions, 429 and Retry-After honoured within --timeout, and what was left reported exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.armworld import FLEETBOT, Runner, fleet_spec, fresh_runner, serve
from support.estateworld import estate_spec, expected

SUBS, PER_SUB = 2, 12


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from serve(fleet_spec(SUBS, PER_SUB), tmp_path_factory, "quota-emu")


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from fresh_runner(emu, tmp_path)
    emu.arm.writes.configure(200, 10)


def _posts(emu: Emulator) -> list[tuple[str, int]]:
    return [(e.path.split("/")[2], e.status) for e in emu.request_log.entries()
            if e.service == "arm" and e.method == "POST" and "Credential" in e.path]


def test_a_tight_write_quota_is_paced_and_every_cluster_still_imports(runner: Runner, emu: Emulator) -> None:
    emu.arm.writes.configure(4, 4)  # four in the bucket, four more a second, per subscription
    result = runner.get_credentials("--all", "-o", "json", principal=FLEETBOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["counts"]["imported"] == SUBS * PER_SUB
    posts = _posts(emu)
    assert sum(1 for _, status in posts if status == 200) == SUBS * PER_SUB
    # Spread: the first requests alternate between the two subscriptions instead of draining one first.
    first = [sub for sub, _ in posts[:4]]
    assert len(set(first)) == SUBS


def test_past_the_time_limit_the_left_clusters_are_named_and_the_rest_imported(runner: Runner,
                                                                               emu: Emulator) -> None:
    emu.arm.writes.configure(3, 0.01)  # three per subscription, then one every 100 s
    result = runner.get_credentials("--all", "-o", "json", "--timeout", "6", principal=FLEETBOT, timeout=60)
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    imported = [c for c in summary["clusters"] if c["status"] == "imported"]
    failed = [c for c in summary["clusters"] if c["status"] == "failed"]
    assert len(imported) == 3 * SUBS and len(failed) == SUBS * PER_SUB - 3 * SUBS
    assert all("TooManyRequests" in c["reason"] and "time limit" in c["reason"] for c in failed)
    assert {(c["subscription"], c["resource_group"], c["name"]) for c in failed}.isdisjoint(
        {(c["subscription"], c["resource_group"], c["name"]) for c in imported})
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A tenant past Resource Graph's 10,000 subscriptions a scope."""
    for emu in serve(estate_spec(10_050, 40, groups=0), tmp_path_factory, "wide-emu"):
        emu.arm.page_size = 1000
        yield emu


def test_past_ten_thousand_subscriptions_the_queries_go_a_thousand_at_a_time(wide: Emulator, tmp_path: Path) -> None:
    wide.request_log.reset()
    result = Runner(wide, tmp_path).get_credentials("--all", "-o", "json", principal=FLEETBOT, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("at most 10,000 subscriptions") == 1
    data = json.loads(result.stdout)
    assert {c["name"] for c in data["clusters"] if c["status"] == "imported"} == expected(wide.world)
    queries = [e for e in wide.request_log.entries("arm") if e.path.endswith(".ResourceGraph/resources")]
    assert len(queries) == 1 + 11  # the tenant-wide query said "limit hit"; then 11 batches of at most 1,000
