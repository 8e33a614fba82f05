"""explain-forbidden on an Azure RBAC cluster (issue 26): the fix is the smallest built-in Azure role at the
narrowest scope, as one ``az role assignment create`` line for this identity; a RoleBinding is only the
alternative. Each advice is checked against the emulated API server (the oracle): the advised assignment allows
the request, and the next smaller built-in role at that scope would not.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import RoleAssignment
from akslogin.rbac import azure
from akslogin.usecases.explain import ExplainRequest, run
from support.azurerbacworld import APPS, CLUSTER, TENANT, cluster_id, recorded_entry, start
from support.explainworld import Streams, env_for, exec_args, kubeconfig

ROLE_KEYS = {azure.READER: "aks-rbac-reader", azure.WRITER: "aks-rbac-writer", azure.ADMIN: "aks-rbac-admin",
             azure.CLUSTER_ADMIN: "aks-rbac-cluster-admin"}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def _explain(emu: Emulator, tmp_path: Path, who: str, output: str = "json", **kw: object) -> tuple[int, Streams]:
    app = APPS[who]
    config = kubeconfig(tmp_path / "config", emu, CLUSTER, app=app,
                        args=exec_args(emu, app, tmp_path / "cache", tenant=TENANT))
    streams = Streams()
    code = run(ExplainRequest(kubeconfig=str(config), output=output, **kw),  # type: ignore[arg-type]
               env_for(tmp_path), streams.out, streams.err)
    return code, streams


CASES = [
    ({"verb": "list", "resource": "pods", "namespace": "dev"}, azure.READER, "dev"),
    ({"verb": "create", "resource": "secrets", "namespace": "dev"}, azure.WRITER, "dev"),
    ({"verb": "create", "resource": "deployments", "namespace": "prod"}, azure.WRITER, "prod"),
    ({"verb": "create", "resource": "rolebindings", "namespace": "prod"}, azure.ADMIN, "prod"),
    ({"verb": "list", "resource": "nodes"}, azure.ADMIN, ""),  # cluster-scoped: no namespace role reads nodes
    ({"verb": "create", "resource": "namespaces"}, azure.CLUSTER_ADMIN, ""),
]


@pytest.mark.parametrize(("request_kw", "role", "namespace"), CASES,
                         ids=[f"{c[0]['verb']}-{c[0]['resource']}-{c[0].get('namespace', 'cluster')}" for c in CASES])
def test_the_advice_is_the_smallest_role_at_the_narrowest_scope_and_it_works(
        emu: Emulator, tmp_path: Path, request_kw: dict[str, str], role: str, namespace: str) -> None:
    code, out = _explain(emu, tmp_path, "nobody", **request_kw)
    assert code == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["authorization"] == "azure-rbac"
    advice = data["azure_role_assignment"]
    oid = APPS["nobody"].object_id
    assert advice["role"] == role and (advice["namespace"] or "") == namespace
    assert advice["assignee_object_id"] == oid and advice["assignee_principal_type"] == "ServicePrincipal"
    assert advice["command"].startswith(f"az role assignment create --assignee-object-id {oid} "
                                        f'--assignee-principal-type ServicePrincipal --role "{role}" --scope "')
    scope = cluster_id() + (f"/namespaces/{namespace}" if namespace else "")

    def allowed_with(role_name: str) -> bool:
        assignment = RoleAssignment(oid, ROLE_KEYS[role_name], scope)
        emu.world.role_assignments.append(assignment)
        where = tmp_path / role_name.replace(" ", "-")
        where.mkdir(exist_ok=True)
        try:
            again, _ = _explain(emu, where, "nobody", **request_kw)
        finally:
            emu.world.role_assignments.remove(assignment)
        return again == 0

    assert allowed_with(role), "the advised assignment does not allow the request"
    smaller = azure.ROLES[azure.ROLES.index(role) - 1] if azure.ROLES.index(role) else None
    if smaller is not None:
        assert not allowed_with(smaller), f"{smaller} would have been enough"


def test_the_table_names_azure_as_the_fix_and_a_binding_only_as_the_alternative(
        emu: Emulator, tmp_path: Path) -> None:
    code, out = _explain(emu, tmp_path, "nobody", output="table", verb="get", resource="secrets", namespace="dev")
    text = " ".join(out.stdout.split())
    assert code == 1
    assert "authorizes with Azure RBAC for Kubernetes" in text
    assert f'--role "{azure.WRITER}"' in text and "az aks show -g <resource-group> -n aks-az" in text
    assert "takes a few minutes" in text
    fixes = [line for line in out.stdout.splitlines() if line.startswith("Fix")]
    assert len(fixes) == 1 and "assign roles" in fixes[0]
    assert "RoleBinding" not in text.split("Alternatively:")[0].split("Fix")[1]  # the fix is the assignment


def test_a_kubernetes_rbac_cluster_gets_no_azure_advice(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                                        emu: Emulator) -> None:
    emu.world.cluster(CLUSTER).azure_rbac = False
    try:
        code, out = _explain(emu, tmp_path, "nobody", verb="list", resource="pods", namespace="dev")
    finally:
        emu.world.cluster(CLUSTER).azure_rbac = True
    data = json.loads(out.stdout)
    assert code == 1 and data["authorization"] == "kubernetes-rbac" and data["azure_role_assignment"] is None
    assert data["suggestion"]["role"] == "view"


def _recorded_explain(emu: Emulator, tmp_path: Path, who: str, **kw: object) -> tuple[int, dict[str, Any], str]:
    """explain-forbidden with a kubeconfig that carries what get-credentials records (resource id, model, ARM)."""
    app = APPS[who]
    entry = recorded_entry(emu)
    config = kubeconfig(tmp_path / "config", emu, CLUSTER, app=app, cluster_entry=entry,
                        args=exec_args(emu, app, tmp_path / "cache", tenant=TENANT))
    streams = Streams()
    code = run(ExplainRequest(kubeconfig=str(config), output="json", **kw),  # type: ignore[arg-type]
               env_for(tmp_path), streams.out, streams.err)
    table = Streams()
    run(ExplainRequest(kubeconfig=str(config), **kw), env_for(tmp_path), table.out, table.err)  # type: ignore[arg-type]
    return code, json.loads(streams.stdout), " ".join(table.stdout.split())


def test_the_identitys_assignments_are_listed_and_judged(emu: Emulator, tmp_path: Path) -> None:
    code, data, text = _recorded_explain(emu, tmp_path, "ns-reader", verb="create", resource="deployments",
                                         namespace="dev")
    advice = data["azure_role_assignment"]
    assert code == 1 and advice["role"] == azure.WRITER and advice["scope"] == f"{cluster_id()}/namespaces/dev"
    held = [(h["role"], h["scope"], h["covers_the_request"], h["grants_the_request"]) for h in advice["held"]]
    assert (azure.READER, f"{cluster_id()}/namespaces/dev", True, False) in held
    # its custom role (Widget Reader, for a CRD) is listed too, at the cluster scope, and not taken as granting
    assert [(covers, grants) for _role, scope, covers, grants in held if scope == cluster_id()] == [(True, False)]
    assert "does not grant it" in text and "Fix" in text


def test_an_identity_that_may_not_read_assignments_is_told_why(emu: Emulator, tmp_path: Path) -> None:
    code, data, text = _recorded_explain(emu, tmp_path, "nobody", verb="list", resource="pods", namespace="dev")
    advice = data["azure_role_assignment"]
    assert code == 1 and advice["held"] is None and "may not read role assignments" in advice["held_error"]
    assert "could not be listed" in text and "az role assignment create" in text


def test_a_fresh_assignment_that_grants_is_called_propagation(emu: Emulator, tmp_path: Path) -> None:
    oid = APPS["nobody"].object_id
    fresh = RoleAssignment(oid, "aks-rbac-reader", f"{cluster_id()}/namespaces/default", created=emu.clock.now())
    emu.world.role_propagation_seconds = 600
    emu.world.role_assignments.append(fresh)
    try:
        code, data, text = _recorded_explain(emu, tmp_path, "nobody", verb="list", resource="pods",
                                             namespace="default")
    finally:
        emu.world.role_assignments.remove(fresh)
        emu.world.role_propagation_seconds = 0
    advice = data["azure_role_assignment"]
    assert code == 1 and [h["grants_the_request"] for h in advice["held"]] == [True]
    assert "Propagation:" in text and "already grants this request" in text
    assert "Fix" not in text  # nothing to add: wait for Azure


def test_doctor_gives_the_role_assignment_as_the_fix(emu: Emulator, tmp_path: Path) -> None:
    from support.run import run_akslogin

    app = APPS["nobody"]
    entry = recorded_entry(emu)
    config = kubeconfig(tmp_path / "config", emu, CLUSTER, app=app, cluster_entry=entry, namespace="dev",
                        args=exec_args(emu, app, tmp_path / "cache", tenant=TENANT))
    done = run_akslogin(["doctor", "--kubeconfig", str(config), "-o", "json"], env_for(tmp_path))
    steps = {s["name"]: s for s in json.loads(done.stdout)["steps"]}
    authorized = steps["authorized"]
    assert done.returncode != 0 and authorized["status"] == "fail"
    assert authorized["message"].startswith("Forbidden by Azure RBAC for Kubernetes")
    assert f'--role "{azure.READER}" --scope "{cluster_id()}/namespaces/dev"' in authorized["fix"]


def test_a_recorded_resource_manager_elsewhere_gets_no_token(emu: Emulator, tmp_path: Path) -> None:
    """A kubeconfig can come from anywhere: a Resource Manager it records that is neither the cloud's nor on this
    machine would receive an ARM token, so it is refused (the advice stands; nothing is sent, nowhere else either)."""
    app = APPS["nobody"]
    entry = recorded_entry(emu, resource_manager="https://arm.attacker.example/")
    config = kubeconfig(tmp_path / "config", emu, CLUSTER, app=app, cluster_entry=entry,
                        args=exec_args(emu, app, tmp_path / "cache", tenant=TENANT))
    emu.request_log.reset()
    streams = Streams()
    code = run(ExplainRequest(kubeconfig=str(config), output="json", verb="list", resource="pods", namespace="dev"),
               env_for(tmp_path), streams.out, streams.err)
    advice = json.loads(streams.stdout)["azure_role_assignment"]
    assert code == 1 and advice["held"] is None
    assert "arm.attacker.example" in advice["held_error"] and "no token is sent there" in advice["held_error"]
    assert advice["command"].startswith("az role assignment create")
    assert len(emu.request_log.token_requests()) == 1  # the cluster's token only: no sign-in for Resource Manager
