"""get-credentials --all over a fleet of 55 clusters in 5 subscriptions, end to end, plus concurrency and speed.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import fleet as shared
from support.armworld import FLEETBOT, Runner, named, sub_id
from support.fleet import PER_SUB, SUBS
from support.run import akslogin_bin, kubectl


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def sub8(n: int) -> str:
    return sub_id(100 + n)[:8]


def test_whole_fleet_imports_with_unique_names_and_one_403_does_not_stop_the_rest(runner: Runner,
                                                                                    emu: Emulator) -> None:
    emu.arm.page_size = 4  # 2 pages of subscriptions, 3 pages of clusters per subscription
    result = runner.get_credentials("--all", principal=FLEETBOT)
    assert result.returncode == 1, result.stderr  # one cluster failed
    summary = result.stdout
    assert "54 imported, 0 unchanged, 0 skipped, 1 failed (55 clusters in 5 subscription(s))" in summary
    failed = [line for line in summary.splitlines() if "failed:" in line]
    assert len(failed) == 1 and "AuthorizationFailed" in failed[0] and "app-3-5" in failed[0]

    data = runner.config()
    contexts = {c["name"]: c["context"] for c in data["contexts"]}
    assert len(contexts) == 54
    # names: unique alone; else with the resource group; else also with the subscription
    assert {f"api-rg-a-{sub8(s)}" for s in range(1, SUBS + 1)} <= set(contexts)
    assert {"svc-2-rg-a", "svc-2-rg-b", "app-2-3", "app-5-10"} <= set(contexts)
    assert "app-3-5" not in contexts
    for name, body in contexts.items():  # every context points at its own cluster and user entries
        assert body["cluster"] == name
        assert named(data, "users", body["user"])["user"]["exec"]["command"] == akslogin_bin()
    assert len({c["user"] for c in contexts.values()}) == 54
    # a new file gets a current context (kubectl needs one): the first imported, in the summary's order
    assert data["current-context"] == min(contexts, key=str.lower)

    env = runner.env(FLEETBOT)
    for context, pod in ((f"api-rg-a-{sub8(3)}", "pod/pod-s3-c0"), ("svc-4-rg-b", "pod/pod-s4-c1"),
                         ("app-5-10", "pod/pod-s5-c10")):
        pods = kubectl(runner.kubeconfig, "--context", context, "get", "pods", "-o", "name", env=env)
        assert pods.returncode == 0, pods.stderr
        assert pods.stdout.strip() == pod

    arm = emu.request_log.entries("arm")
    # One Resource Graph query found all 55 (no subscription or cluster listing; paging is the fallback's).
    assert sum(1 for r in arm if r.path.endswith(".ResourceGraph/resources")) == 1
    assert not [r for r in arm if r.path == "/subscriptions" or r.path.endswith("/managedClusters")]
    assert sum(1 for r in arm if r.path.endswith("/listClusterUserCredential")) == SUBS * PER_SUB
    # one Resource Manager token for the whole run (the kubectl calls above add one AKS token)
    assert len(emu.request_log.token_requests()) == 2

    again = runner.get_credentials("--all", principal=FLEETBOT)
    assert "0 imported, 54 unchanged, 0 skipped, 1 failed" in again.stdout
