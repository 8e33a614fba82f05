"""rbac bind on an Azure RBAC cluster (issue 26): get-credentials records the cluster's resource id and that
Azure role assignments authorize there; rbac bind then writes a role assignment (the az line, or -o json the ARM
request), --apply makes it through Resource Manager with the context's own sign-in, and ARM's refusal for
someone who may not assign roles is explained. --kubernetes still writes a binding.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support.azurerbacworld import APPS, CLUSTER, TENANT, cluster_id, get_credentials, start
from support.explainworld import App
from support.run import clean_env, run_akslogin


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def _credentials(emu: Emulator, home: Path, who: App) -> tuple[Path, dict[str, str]]:
    kubeconfig, env, done = get_credentials(emu, home, who)
    assert done.returncode == 0, done.stderr
    assert "authorizes with Azure RBAC for Kubernetes" in done.stderr
    return kubeconfig, env


def _bind(kubeconfig: Path, env: dict[str, str], emu: Emulator, *args: str) -> tuple[int, str, str]:
    done = run_akslogin(["rbac", "bind", "--kubeconfig", str(kubeconfig), "--arm-endpoint", emu.server_url("arm"),
                         "--no-resolve", *args], env)
    return done.returncode, done.stdout, done.stderr


def test_get_credentials_records_the_resource_id_and_the_model(emu: Emulator, tmp_path: Path) -> None:
    kubeconfig, _ = _credentials(emu, tmp_path, APPS["owner"])
    [cluster] = yaml.safe_load(kubeconfig.read_text())["clusters"]
    [extension] = [e for e in cluster["cluster"]["extensions"] if e["name"] == "akslogin.io/azure"]
    assert extension["extension"] == {"resourceId": cluster_id(), "azureRBAC": True,
                                      "resourceManager": emu.server_url("arm") + "/"}


def test_rbac_bind_prints_the_role_assignment_with_the_exact_scope(emu: Emulator, tmp_path: Path) -> None:
    kubeconfig, env = _credentials(emu, tmp_path, APPS["owner"])
    nobody = APPS["nobody"].object_id
    code, out, err = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "view", "-n", "dev")
    assert code == 0, err
    assert (f"az role assignment create --assignee-object-id {nobody} --assignee-principal-type ServicePrincipal "
            f'--role "Azure Kubernetes Service RBAC Reader" --scope "{cluster_id()}/namespaces/dev"') in out
    assert "RoleBinding" not in out
    code, out, _ = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "edit", "-o", "json")
    request = json.loads(out)
    assert code == 0 and request["scope"] == cluster_id() and request["roleName"].endswith("RBAC Writer")
    assert request["properties"] == {"principalId": nobody, "principalType": "ServicePrincipal"}
    code, out, _ = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "view", "--kubernetes")
    assert code == 0 and "kind: ClusterRoleBinding" in out
    code, _, err = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "pod-reader")
    assert code == 2 and "not an Azure RBAC role" in err


def test_apply_assigns_through_arm_and_the_cluster_honours_it(emu: Emulator, tmp_path: Path) -> None:
    kubeconfig, env = _credentials(emu, tmp_path, APPS["owner"])
    nobody = APPS["nobody"].object_id
    before = list(emu.world.role_assignments)
    code, out, err = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "view", "-n", "prod",
                           "--apply")
    try:
        assert code == 0, err
        assert "Assigned Azure Kubernetes Service RBAC Reader" in out and "takes a few minutes" in out
        [made] = [a for a in emu.world.role_assignments if a not in before]
        assert (made.principal_id, made.role) == (nobody, "aks-rbac-reader")
        assert made.scope == f"{cluster_id()}/namespaces/prod"
        assert made.principal_type == "ServicePrincipal" and made.created_by == APPS["owner"].object_id
        again, out, _ = _bind(kubeconfig, env, emu, "--service-principal", nobody, "--role", "view", "-n", "prod",
                              "--apply")
        assert again == 0 and "already holds" in out
    finally:
        emu.world.role_assignments[:] = before


def test_apply_without_the_right_to_assign_roles_is_explained(emu: Emulator, tmp_path: Path) -> None:
    kubeconfig, env = _credentials(emu, tmp_path, APPS["contributor"])
    before = list(emu.world.role_assignments)
    code, _, err = _bind(kubeconfig, env, emu, "--service-principal", APPS["nobody"].object_id, "--role", "view",
                         "--apply")
    assert code == 1 and emu.world.role_assignments == before
    text = " ".join(err.split())
    assert "you may not assign roles" in text and "Contributor is not enough" in text and "Traceback" not in err


def test_whoami_says_which_authorization_model_decides(emu: Emulator, tmp_path: Path) -> None:
    """From the kubeconfig (recorded by get-credentials), or from the cluster's access review (Azure's reason on a
    denial) for a kubeconfig from elsewhere."""
    from support.explainworld import exec_args, kubeconfig

    recorded, env = _credentials(emu, tmp_path, APPS["owner"])
    done = run_akslogin(["whoami", "--kubeconfig", str(recorded), "-o", "json"], env)
    assert json.loads(done.stdout)["authorization"] == {"model": "azure-rbac", "source": "kubeconfig"}
    table = run_akslogin(["whoami", "--kubeconfig", str(recorded)], env)
    assert "Authorized  by Azure role assignments (Azure RBAC for Kubernetes)" in table.stdout
    nobody = APPS["nobody"]
    plain = kubeconfig(tmp_path / "plain", emu, CLUSTER, app=nobody,
                       args=exec_args(emu, nobody, tmp_path / "cache-nobody", tenant=TENANT))
    done = run_akslogin(["whoami", "--kubeconfig", str(plain), "-o", "json"], clean_env(tmp_path))
    data = json.loads(done.stdout)
    assert data["authorization"] == {"model": "azure-rbac", "source": "access review"}
    assert any("Azure RBAC for Kubernetes" in note for note in data["notes"])
