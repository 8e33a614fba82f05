"""get-credentials --all keeps to --max-concurrency and honours ARM's 429 Retry-After: counted, not timed.

The real CLI against this module's emulator, whose ARM adds latency to every call so that requests overlap.
The emulator counts the ARM requests it is handling at once (``GET /_emulator/requests/concurrency``); its
request log says when each request arrived and was answered, so a retry's wait is read off the server side.
The timed comparison (200 clusters, serial vs parallel) is ``bench/run``'s, not a test's.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support.paths import BENCH

sys.path.insert(0, str(BENCH))

from harness import (
    CREDENTIAL_PATH,
    GRAPH_PATH,
    Endpoints,
    fleet_invocation,
    fleet_spec,
    imported_count,
    retry_waits,
    run_measured,
)

from akslogin.emulator.world import world_from_dict

SUBSCRIPTIONS, PER_SUBSCRIPTION = 4, 6


CLUSTERS = SUBSCRIPTIONS * PER_SUBSCRIPTION


#: list subscriptions, one listing per subscription, one credential per cluster
ARM_CALLS = 1 + CLUSTERS  # one Resource Graph query finds them all; one credential request each


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    world = world_from_dict(fleet_spec(SUBSCRIPTIONS, PER_SUBSCRIPTION))
    with Emulator(world, tmp_path_factory.mktemp("fleet-bounds")) as emu:
        endpoints = Endpoints.of(emu)
        endpoints.call("faults", {"latency": {"arm": 0.05}})
        yield endpoints


@pytest.fixture
def control(fleet: Endpoints) -> Iterator[Endpoints]:
    fleet.call("requests/reset", {})
    yield fleet
    fleet.call("faults", {"faults": []})  # nothing left over (latency stays)


def _import(endpoints: Endpoints, tmp_path: Path, concurrency: int) -> tuple[int, list[dict[str, object]], int]:
    """Run the import; (clusters imported, ARM requests logged, peak concurrent ARM requests)."""
    kubeconfig = tmp_path / "kubeconfig"
    call = fleet_invocation(endpoints, tmp_path, kubeconfig, concurrency)
    run = run_measured(call.argv, call.env, timeout=120)
    assert run.returncode == 0, run.stderr
    contexts = yaml.safe_load(kubeconfig.read_text())["contexts"]
    assert imported_count(run) == CLUSTERS == len(contexts)
    arm = [e for e in endpoints.call("requests") if e["service"] == "arm"]
    peak = endpoints.call("requests/concurrency")["peak"].get("arm", 0)
    return CLUSTERS, arm, peak


@pytest.mark.parametrize("bound", [1, 4])
def test_concurrent_arm_requests_never_exceed_the_bound(control: Endpoints, tmp_path: Path, bound: int) -> None:
    _, arm, peak = _import(control, tmp_path, bound)
    assert len(arm) == ARM_CALLS and all(e["status"] == 200 for e in arm)
    assert peak <= bound
    if bound > 1:
        assert peak >= 2, "the import overlaps requests at all"


def test_429_retry_after_is_honoured_and_the_bound_still_holds(control: Endpoints, tmp_path: Path) -> None:
    throttled_credentials, throttled_queries = 5, 2
    control.call("faults", {"faults": [
        {"service": "arm", "path": CREDENTIAL_PATH, "kind": "status", "status": 429, "retry_after": 1,
         "times": throttled_credentials},
        {"service": "arm", "path": GRAPH_PATH, "kind": "status", "status": 429, "retry_after": 2,
         "times": throttled_queries},
    ]})
    _, arm, peak = _import(control, tmp_path, 4)
    throttled = throttled_credentials + throttled_queries
    assert len(arm) == ARM_CALLS + throttled  # each 429 costs exactly one more request
    assert sum(1 for e in arm if e["status"] == 429) == throttled
    waits = [*retry_waits([e for e in arm if str(e["path"]).endswith("Credential")], "arm", 429, 1.0),
             *retry_waits([e for e in arm if str(e["path"]).endswith("ResourceGraph/resources")], "arm", 429, 2.0)]
    assert len(waits) == throttled
    for wait in waits:  # retried, and not before Retry-After said (measured by the emulator)
        assert wait.waited is not None and wait.waited >= wait.retry_after, wait
    assert peak <= 4
