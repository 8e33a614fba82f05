"""get-credentials --fleet: an AKS Fleet Manager hub's kubeconfig through ARM, then real kubectl against the hub,
which authorizes with the Fleet Manager RBAC roles (Azure RBAC on the fleet's resource id).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import RoleAssignment
from support.armworld import DEPLOYER, FLEETBOT, OUTSIDER, Runner, fresh_runner, named, serve
from support.estateworld import FLEET, FLEET_RG, FLEET_SUB, fleet_hub_spec
from support.run import kubectl, run_akslogin


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from serve(fleet_hub_spec(), tmp_path_factory, "hub-emu")


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from fresh_runner(emu, tmp_path)


def test_the_hub_imports_and_the_fleet_roles_decide_what_kubectl_may_do(runner: Runner) -> None:
    result = runner.get_credentials("--fleet", FLEET, "-g", FLEET_RG, "-s", FLEET_SUB, principal=FLEETBOT)
    assert result.returncode == 0, result.stderr
    assert "Fleet Manager RBAC roles" in result.stderr
    data = runner.config()
    assert data["current-context"] == "hub"  # as ARM names it (as az fleet get-credentials merges it)
    cluster = named(data, "clusters", named(data, "contexts", "hub")["context"]["cluster"])["cluster"]
    recorded = next(e["extension"] for e in cluster["extensions"] if e["name"] == "akslogin.io/azure")
    assert recorded["azureRBAC"] is True
    assert recorded["resourceId"].endswith(f"/resourceGroups/{FLEET_RG}/providers/Microsoft.ContainerService/fleets/"
                                           f"{FLEET}")
    env = runner.env(FLEETBOT)
    pods = kubectl(runner.kubeconfig, "get", "pods", "-o", "name", env=env)
    assert pods.returncode == 0 and pods.stdout.split() == ["pod/placement-0"], pods.stderr
    write = kubectl(runner.kubeconfig, "create", "configmap", "x", env=env)
    assert write.returncode != 0 and "does not have access to the resource in Azure" in write.stderr
    # explain-forbidden names the Fleet Manager role of the right level on the fleet; assigned, it works.
    explained = run_akslogin(["explain-forbidden", "create", "configmaps", "-n", "default", "--kubeconfig",
                              str(runner.kubeconfig)], env)
    assert '--role "Azure Kubernetes Fleet Manager RBAC Writer"' in explained.stdout, explained.stdout
    assert f'/fleets/{FLEET}/namespaces/default"' in explained.stdout
    runner.emu.world.role_assignments.append(RoleAssignment(FLEETBOT.object_id, "fleet-rbac-writer",
                                                            recorded["resourceId"] + "/namespaces/default"))
    again = kubectl(runner.kubeconfig, "auth", "can-i", "create", "configmaps", "-n", "default", env=env)
    assert again.stdout.strip() == "yes", again.stderr


def test_the_kubeconfig_alone_grants_nothing_and_no_hub_role_is_a_clear_403(runner: Runner) -> None:
    fetched = runner.get_credentials("--fleet", FLEET, "-g", FLEET_RG, "-s", FLEET_SUB, "--context", "outsider-hub",
                                     principal=OUTSIDER)
    assert fetched.returncode == 0, fetched.stderr
    assert runner.config()["current-context"] == "outsider-hub"
    denied = kubectl(runner.kubeconfig, "get", "pods", env=runner.env(OUTSIDER))
    assert denied.returncode != 0 and "Forbidden" in denied.stderr
    refused = runner.get_credentials("--fleet", FLEET, "-g", FLEET_RG, "-s", FLEET_SUB, principal=DEPLOYER)
    assert refused.returncode == 1 and "Microsoft.ContainerService/fleets/listCredentials/action" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = runner.get_credentials("--fleet", "nope", "-g", FLEET_RG, "-s", FLEET_SUB, principal=FLEETBOT)
    assert missing.returncode == 1 and "ResourceNotFound" in missing.stderr
