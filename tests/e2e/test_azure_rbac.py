"""Azure RBAC for Kubernetes through real kubectl (issue 26): the emulated AKS API server asks Azure's role
assignments first, then Kubernetes RBAC, and says so in its Forbidden; ``kubectl auth can-i`` agrees.

Real kubectl -> akslogin exec plugin -> emulated Entra ID -> emulated API server that checks the token and
evaluates the world's role assignments (cluster and namespace scope, through groups too).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID, RoleAssignment
from support.azurerbacworld import APPS, CLUSTER, TENANT, USER, cluster_id, get_credentials, start
from support.explainworld import env_for, exec_args, kubeconfig
from support.run import kubectl

AZURE_DENIAL = "User does not have access to the resource in Azure. Update role assignment to allow access."


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def _config(emu: Emulator, tmp_path: Path, who: str) -> Path:
    app = APPS[who]
    return kubeconfig(tmp_path / f"config-{who}", emu, CLUSTER, app=app,
                      args=exec_args(emu, app, tmp_path / f"cache-{who}", tenant=TENANT))


def _can_i(emu: Emulator, tmp_path: Path, who: str, *args: str) -> str:
    """kubectl's answer: "yes", or "no" (it prints the access review's reason after it: Azure's, here)."""
    done = kubectl(_config(emu, tmp_path, who), "auth", "can-i", *args, env=env_for(tmp_path))
    answer, _, reason = done.stdout.strip().partition(" - ")
    assert answer == "yes" or reason == AZURE_DENIAL, done.stdout
    return answer


def test_nobody_is_denied_with_azures_reason(emu: Emulator, tmp_path: Path) -> None:
    done = kubectl(_config(emu, tmp_path, "nobody"), "get", "pods", "-n", "dev", env=env_for(tmp_path))
    oid = APPS["nobody"].object_id
    assert done.returncode == 1
    assert (f'pods is forbidden: User "{oid}" cannot list resource "pods" in API group "" in the namespace "dev": '
            f"{AZURE_DENIAL}") in " ".join(done.stderr.split())


def test_a_namespace_scope_allows_that_namespace_and_no_other(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu, tmp_path, "ns-reader")
    allowed = kubectl(config, "get", "pods", "-n", "dev", "-o", "name", env=env_for(tmp_path))
    assert allowed.returncode == 0 and allowed.stdout.split() == ["pod/api-1"], allowed.stderr
    denied = kubectl(config, "get", "pods", "-n", "prod", env=env_for(tmp_path))
    assert denied.returncode == 1 and AZURE_DENIAL in " ".join(denied.stderr.split())
    assert _can_i(emu, tmp_path, "ns-reader", "list", "pods", "-n", "dev") == "yes"
    assert _can_i(emu, tmp_path, "ns-reader", "list", "pods", "-n", "prod") == "no"
    assert _can_i(emu, tmp_path, "ns-reader", "list", "pods", "--all-namespaces") == "no"
    assert _can_i(emu, tmp_path, "ns-reader", "get", "secrets", "-n", "dev") == "no"  # Reader reads no Secrets


def test_writer_and_reader_differ_on_writes(emu: Emulator, tmp_path: Path) -> None:
    assert _can_i(emu, tmp_path, "writer", "create", "deployments.apps", "-n", "prod") == "yes"
    assert _can_i(emu, tmp_path, "writer", "get", "secrets", "-n", "prod") == "yes"
    assert _can_i(emu, tmp_path, "writer", "create", "rolebindings.rbac.authorization.k8s.io", "-n", "prod") == "no"
    assert _can_i(emu, tmp_path, "ns-reader", "create", "deployments.apps", "-n", "dev") == "no"
    assert _can_i(emu, tmp_path, "ns-reader", "list", "deployments.apps", "-n", "dev") == "yes"


def test_a_group_assignment_allows_its_members(emu: Emulator, tmp_path: Path) -> None:
    upn, oid = USER
    tenant = emu.world.tenant(TENANT)
    assert tenant is not None
    user = tenant.user_by_upn(upn)
    assert user is not None
    token = emu.issuer.access_token(tenant_id=TENANT, audience=AKS_SERVER_APP_ID, lifetime=3600, subject_oid=oid,
                                    app_id=AKS_CLIENT_APP_ID, app_only=False, upn=upn, name=user.display_name,
                                    groups=user.groups)
    config = kubeconfig(tmp_path / "config-user", emu, CLUSTER, user={"token": token})
    done = kubectl(config, "get", "pods", "-n", "prod", "-o", "name", env=env_for(tmp_path))
    assert done.returncode == 0 and done.stdout.split() == ["pod/web-1"], done.stderr


def test_kubernetes_rbac_still_decides_where_azure_has_no_assignment(emu: Emulator, tmp_path: Path) -> None:
    done = kubectl(_config(emu, tmp_path, "k8s-viewer"), "get", "pods", "-n", "prod", "-o", "name",
                   env=env_for(tmp_path))
    assert done.returncode == 0 and done.stdout.split() == ["pod/web-1"], done.stderr


def test_a_new_assignment_takes_effect_after_the_propagation_delay(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu, tmp_path, "nobody")
    assignment = RoleAssignment(APPS["nobody"].object_id, "aks-rbac-reader", f"{cluster_id()}/namespaces/default",
                                created=emu.clock.now())
    emu.world.role_propagation_seconds = 600
    emu.world.role_assignments.append(assignment)
    try:
        still = kubectl(config, "get", "pods", "-n", "default", env=env_for(tmp_path))
        assert still.returncode == 1 and AZURE_DENIAL in " ".join(still.stderr.split())
        emu.world.role_propagation_seconds = 0
        now = kubectl(config, "get", "pods", "-n", "default", env=env_for(tmp_path))
        assert now.returncode == 0, now.stderr
    finally:
        emu.world.role_assignments.remove(assignment)
        emu.world.role_propagation_seconds = 0


def test_the_real_az_assigns_a_role_that_the_cluster_then_honours(emu: Emulator, tmp_path: Path) -> None:
    """Issue 26: 'az role assignment create' (the real Azure CLI) against the emulated ARM, by an Owner: the
    namespace-scoped Reader it creates lets the principal list pods there and nowhere else; 'az role assignment
    list/delete' see and remove it; a Contributor may not assign roles (AuthorizationFailed, as ARM says it)."""
    import json

    from support.real_az import AZ, Az

    if not Path(AZ).exists():
        pytest.skip("the Azure CLI test venv (.venv-az) is not installed; .ci/run installs it")
    az = Az(emu, tmp_path / "az-home")
    owner, nobody = APPS["owner"], APPS["nobody"]
    az("login", "--service-principal", "--tenant", TENANT, "-u", owner.client_id, "-p", owner.secret,
       "--output", "none")
    scope = f"{cluster_id()}/namespaces/default"
    created = az("role", "assignment", "create", "--assignee-object-id", nobody.object_id,
                 "--assignee-principal-type", "ServicePrincipal", "--role", "Azure Kubernetes Service RBAC Reader",
                 "--scope", scope, "-o", "json")
    assignment = json.loads(created.stdout)
    assert assignment["principalId"] == nobody.object_id and assignment["scope"] == scope
    assert assignment["roleDefinitionId"].endswith("/7f6c6a51-bcf8-42ba-9220-52d62157d7db")
    config = _config(emu, tmp_path, "nobody")
    try:
        allowed = kubectl(config, "get", "pods", "-n", "default", env=env_for(tmp_path))
        assert allowed.returncode == 0, allowed.stderr
        assert _can_i(emu, tmp_path, "nobody", "list", "pods", "-n", "prod") == "no"
        listed = json.loads(az("role", "assignment", "list", "--scope", scope, "--fill-principal-name", "false",
                               "-o", "json").stdout)  # (the name would be a Graph lookup)
        assert [a["id"] for a in listed if a["principalId"] == nobody.object_id] == [assignment["id"]]
    finally:
        az("role", "assignment", "delete", "--ids", assignment["id"])
    denied = kubectl(config, "get", "pods", "-n", "default", env=env_for(tmp_path))
    assert denied.returncode == 1 and AZURE_DENIAL in " ".join(denied.stderr.split())

    contributor = APPS["contributor"]
    az("login", "--service-principal", "--tenant", TENANT, "-u", contributor.client_id, "-p", contributor.secret,
       "--output", "none")
    refused = az("role", "assignment", "create", "--assignee-object-id", nobody.object_id,
                 "--assignee-principal-type", "ServicePrincipal", "--role", "Azure Kubernetes Service RBAC Reader",
                 "--scope", scope, check=False)
    assert refused.returncode != 0
    assert "AuthorizationFailed" in refused.stderr and "Microsoft.Authorization/roleAssignments/write" in refused.stderr


def test_kubectl_keeps_the_recorded_cluster_id_when_it_rewrites_the_file(emu: Emulator, tmp_path: Path) -> None:
    """The extension get-credentials writes (resource id, Azure RBAC) survives kubectl's own writes, and
    explain-forbidden's az line then names the exact scope."""
    from akslogin.kubeconfig.resolved import resolve
    from akslogin.kubeconfig.view import load_merged
    from support.run import akslogin_bin

    config, env, done = get_credentials(emu, tmp_path, APPS["owner"])
    assert done.returncode == 0, done.stderr
    rewritten = kubectl(config, "config", "set-context", "--current", "--namespace=dev", env=env)
    assert rewritten.returncode == 0, rewritten.stderr
    cluster = resolve(load_merged(str(config), env)).cluster
    assert (cluster.resource_id, cluster.azure_rbac) == (cluster_id(), True)
    explained = subprocess.run([akslogin_bin(), "explain-forbidden", "create", "secrets", "--kubeconfig", str(config)],
                               env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert explained.returncode == 1, explained.stdout + explained.stderr
    flat = " ".join(explained.stdout.split())
    assert f'--role "Azure Kubernetes Service RBAC Writer" --scope "{cluster_id()}/namespaces/dev"' in flat


def test_forbidden_explained_assigned_with_rbac_bind_then_allowed(emu: Emulator, tmp_path: Path) -> None:
    """The whole way through real kubectl: Azure denies, explain-forbidden names the role assignment, an Owner's
    'akslogin rbac bind --apply' makes it through ARM, and the same kubectl call then succeeds."""
    from support.run import run_akslogin

    nobody = APPS["nobody"]
    config = _config(emu, tmp_path, "nobody")
    denied = kubectl(config, "get", "deployments.apps", "-n", "prod", env=env_for(tmp_path))
    assert denied.returncode == 1 and AZURE_DENIAL in " ".join(denied.stderr.split())
    explained = run_akslogin(["explain-forbidden", "list", "deployments.apps", "-n", "prod", "--kubeconfig",
                              str(config)], env_for(tmp_path))
    assert explained.returncode == 1 and "Azure Kubernetes Service RBAC Reader" in explained.stdout

    (tmp_path / "owner").mkdir()
    owner_config, owner_env, fetched = get_credentials(emu, tmp_path / "owner", APPS["owner"])
    assert fetched.returncode == 0, fetched.stderr
    before = list(emu.world.role_assignments)
    try:
        bound = run_akslogin(["rbac", "bind", "--service-principal", nobody.object_id, "--no-resolve", "--role",
                              "view", "-n", "prod", "--apply", "--kubeconfig", str(owner_config)], owner_env)
        assert bound.returncode == 0 and "Assigned Azure Kubernetes Service RBAC Reader" in bound.stdout, bound.stderr
        allowed = kubectl(config, "get", "deployments.apps", "-n", "prod", env=env_for(tmp_path))
        assert allowed.returncode == 0, allowed.stderr
    finally:
        emu.world.role_assignments[:] = before
