"""explain-forbidden: parsing Forbidden messages, RBAC matching, and explanations against the emulator.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.usecases.explain import ExplainRequest, run
from support import explain as shared
from support.explainworld import APPS, DEVS, USERS, Streams, env_for, flat, kubeconfig, user_token
from support.run import akslogin_bin, run_akslogin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def explain(emu: Emulator, tmp_path: Path, app: str | None = None, *, token: str | None = None,
            **kw: object) -> tuple[int, Streams]:
    kc = (kubeconfig(tmp_path / "config", emu, app=APPS[app]) if app
          else kubeconfig(tmp_path / "config", emu, user={"token": token}))
    streams = Streams()
    code = run(ExplainRequest(kubeconfig=str(kc), **kw), env_for(tmp_path), streams.out,  # type: ignore[arg-type]
               streams.err)
    return code, streams


def test_caller_who_may_read_rbac_sees_bindings_roles_and_the_missing_binding(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, "reader", verb="create", resource="deployments", namespace="default",
                        output="json")
    assert code == 1
    data = json.loads(out.stdout)
    assert data["request"] == {"verb": "create", "resource": "deployments", "group": "apps", "namespace": "default"}
    assert data["allowed"] is False and data["rbac_readable"] is True
    names = {b["name"]: b for b in data["bindings"]}
    assert names["rbac-readers"]["grants"] is False
    assert "reader-dev-view" not in names  # a RoleBinding in another namespace is not listed for default
    assert data["granting_roles"][:2] == ["ClusterRole/edit", "ClusterRole/admin"]
    oid = APPS["reader"].object_id
    assert data["suggestion"]["command"] == (f"akslogin rbac bind --service-principal {oid} --role edit "
                                             "--namespace default")
    manifest = data["suggestion"]["manifest"]
    assert manifest["kind"] == "RoleBinding" and manifest["metadata"]["namespace"] == "default"
    assert manifest["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": oid}]


def test_group_binding_in_the_namespace_is_shown_with_its_effect(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, "reader", verb="create", resource="rolebindings", namespace="dev")
    assert code == 1
    text = flat(out.stdout)
    assert f"RoleBinding dev/devs-edit → ClusterRole edit via group {DEVS} only in dev does not grant it" in text
    assert "RoleBinding dev/reader-dev-view → ClusterRole view via user only in dev does not grant it" in text
    assert "from ClusterRole admin to service principal" in text
    assert f"--group {DEVS}" in text  # the team alternative


def test_caller_who_may_not_read_rbac_gets_a_guess_and_what_to_ask(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, "nobody", verb="list", resource="po", namespace="dev")
    assert code == 1
    text = flat(out.stdout)
    assert 'Request list pods in namespace "dev"' in text  # the short name was resolved through discovery
    assert "You may not list clusterroles, clusterrolebindings, roles in dev, rolebindings in dev" in text
    assert "from ClusterRole view (most likely; the roles could not be read)" in text
    assert f"akslogin rbac bind --service-principal {APPS['nobody'].object_id} --role view --namespace dev" in text


def test_cluster_scoped_request_gets_a_minimal_custom_role_not_cluster_admin(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, "reader", verb="list", resource="nodes", output="json")
    data = json.loads(out.stdout)
    assert code == 1 and "namespace" not in data["request"]
    assert "ClusterRole/cluster-admin" in data["granting_roles"]
    suggestion = data["suggestion"]
    assert suggestion["role"] == "akslogin-list-nodes" and suggestion["manifest"]["kind"] == "ClusterRoleBinding"
    assert suggestion["custom_role"]["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]


def test_message_about_someone_else_and_azure_rbac_are_called_out(emu: Emulator, tmp_path: Path) -> None:
    msg = ('nodes is forbidden: User "bob@contoso.example" cannot list resource "nodes" in API group "" at the '
           'cluster scope: User does not have access to the resource in Azure. Update role assignment to allow '
           'access.')
    code, out = explain(emu, tmp_path, "viewer", message=msg)
    text = flat(out.stdout)
    assert code == 1
    assert "The message is about 'bob@contoso.example'" in text
    assert "Azure RBAC for Kubernetes" in text and "az role assignment create" in text


def test_allowed_request_exits_zero_with_the_reason(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, token=user_token(emu, "dana"), verb="create", resource="deployments.apps",
                        namespace="dev")
    assert code == 0
    assert 'allowed by RoleBinding "dev/devs-edit"' in flat(out.stdout)
    assert USERS["dana"][0] in out.stdout


def test_bad_input_is_a_usage_error(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    env = env_for(tmp_path)
    nothing = run_akslogin(["explain-forbidden", "--kubeconfig", str(kc)], env)
    assert nothing.returncode == 2 and "VERB RESOURCE" in nothing.stderr
    garbage = run_akslogin(["explain-forbidden", "--kubeconfig", str(kc), "--message", "it broke"], env)
    assert garbage.returncode == 2 and "not a Kubernetes Forbidden message" in garbage.stderr
    assert "Traceback" not in nothing.stderr + garbage.stderr


@pytest.mark.parametrize(("verb", "resource", "needle"), [
    ("list", "widgets", "serves no resource 'widgets'"),
    ("frobnicate", "pods", "'frobnicate' is not a verb of pods: it supports"),
    ("*", "*", "'* *' is every verb on every resource"),
])
def test_unknown_verb_or_resource_is_said_to_be_unknown(emu: Emulator, tmp_path: Path, verb: str, resource: str,
                                                        needle: str) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["reader"])
    result = run_akslogin(["explain-forbidden", "--kubeconfig", str(kc), verb, resource, "-n", "dev"],
                          env_for(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in flat(result.stderr)
    assert "rbac bind" not in result.stdout  # no confident advice for a request that cannot exist


def test_namespace_that_does_not_exist_gets_no_rolebinding_advice(emu: Emulator, tmp_path: Path) -> None:
    code, out = explain(emu, tmp_path, "viewer", verb="create", resource="deployments", namespace="no-such-ns",
                        output="json")
    assert code == 1
    data = json.loads(out.stdout)
    assert data["suggestion"] is None
    assert any("'no-such-ns' does not exist" in n for n in data["notes"])


def test_a_message_pipe_that_never_ends_is_cut_off_with_advice(tmp_path: Path) -> None:
    """--message - reads at most 1 MiB: `yes | akslogin explain-forbidden --message -` ends with exit 2 instead
    of filling memory, and nothing is read from the cluster."""
    kc = tmp_path / "config"
    kc.write_text("apiVersion: v1\nkind: Config\n")
    proc = subprocess.Popen([akslogin_bin(), "explain-forbidden", "--kubeconfig", str(kc), "--message", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(tmp_path))
    assert proc.stdin is not None
    line = b'pods is forbidden: User "x" cannot list resource "pods"\n' * 1024
    with contextlib.suppress(BrokenPipeError):
        for _ in range(64):  # 3.5 MiB, more than the reader takes
            proc.stdin.write(line)
        proc.stdin.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert b"longer than 1 MiB" in err and b"Traceback" not in err and out == b""
