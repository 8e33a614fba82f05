"""explain-forbidden: parsing Forbidden messages, RBAC matching, and explanations against the emulator."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.errors import UsageError
from akslogin.rbac.forbidden import parse_forbidden
from akslogin.rbac.rules import (
    Binding,
    RbacSnapshot,
    ResourceRequest,
    Role,
    guess_builtin_role,
    matching_bindings,
    rule_allows,
)
from akslogin.usecases.explain import ExplainRequest, run
from support.explainworld import APPS, DEVS, USERS, Streams, env_for, flat, kubeconfig, start, user_token
from support.run import akslogin_bin, kubectl, run_akslogin


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


# -- pure parts ---------------------------------------------------------------------------------------

def test_parse_namespaced_message_as_kubectl_prints_it() -> None:
    msg = parse_forbidden('Error from server (Forbidden): deployments.apps "web" is forbidden: User '
                          '"alice@contoso.com" cannot get resource "deployments" in API group "apps" in the '
                          'namespace "prod"')
    assert msg.username == "alice@contoso.com"
    assert msg.request == ResourceRequest(verb="get", resource="deployments", group="apps", namespace="prod",
                                          name="web")
    assert not msg.azure_rbac


def test_parse_cluster_scope_subresource_reason_and_paths() -> None:
    msg = parse_forbidden('nodes is forbidden: User "0b5b-oid" cannot list resource "nodes" in API group "" at '
                          'the cluster scope: User does not have access to the resource in Azure. Update role '
                          'assignment to allow access.')
    assert msg.request.namespace == "" and msg.request.resource == "nodes"
    assert msg.azure_rbac and msg.reason.startswith("User does not have access")
    sub = parse_forbidden('pods "api-1" is forbidden: User "u" cannot create resource "pods/exec" in API group "" '
                          'in the namespace "dev"')
    assert (sub.request.resource, sub.request.subresource, sub.request.name) == ("pods", "exec", "api-1")
    path = parse_forbidden('forbidden: User "u" cannot get path "/metrics"')
    assert path.request.path == "/metrics" and not path.request.is_resource
    wrapped = parse_forbidden('pods is forbidden:\n  User "u" cannot list resource\n "pods" in API group "" in the '
                              'namespace "a\\"b"')
    assert wrapped.request.namespace == 'a"b'
    with pytest.raises(UsageError, match="not a Kubernetes Forbidden message"):
        parse_forbidden("error: You must be logged in to the server (Unauthorized)")


def test_rule_matching_follows_kubernetes_rbac() -> None:
    pods = ResourceRequest(verb="list", resource="pods", namespace="dev")
    assert rule_allows({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}, pods)
    assert not rule_allows({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, pods)
    assert not rule_allows({"verbs": ["list"], "apiGroups": ["apps"], "resources": ["pods"]}, pods)
    scale = ResourceRequest(verb="update", resource="deployments", subresource="scale", group="apps", namespace="d")
    assert rule_allows({"verbs": ["update"], "apiGroups": ["*"], "resources": ["*/scale"]}, scale)
    assert not rule_allows({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["deployments"]}, scale)
    named = ResourceRequest(verb="get", resource="configmaps", namespace="d", name="settings")
    assert rule_allows({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                        "resourceNames": ["settings"]}, named)
    assert not rule_allows({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                            "resourceNames": ["other"]}, named)
    logs = ResourceRequest(verb="get", path="/logs/kube-apiserver.log")
    assert rule_allows({"verbs": ["get"], "nonResourceURLs": ["/logs/*"]}, logs)
    assert not rule_allows({"verbs": ["get"], "nonResourceURLs": ["/metrics"]}, logs)


def test_bindings_through_groups_and_scope() -> None:
    snap = RbacSnapshot(
        cluster_roles=[Role("ClusterRole", "edit", "", ({"verbs": ["create"], "apiGroups": ["apps"],
                                                          "resources": ["deployments"]},))],
        bindings=[
            Binding("RoleBinding", "devs", "dev", "ClusterRole", "edit", ({"kind": "Group", "name": "g1"},)),
            Binding("ClusterRoleBinding", "other", "", "ClusterRole", "missing", ({"kind": "User", "name": "me"},)),
            Binding("RoleBinding", "sa", "dev", "ClusterRole", "edit",
                    ({"kind": "ServiceAccount", "name": "robot"},)),
        ])
    req = ResourceRequest(verb="create", resource="deployments", group="apps", namespace="prod")
    matches = matching_bindings(snap, "me", ["g1", "system:authenticated"], req)
    assert [(m.binding.name, m.via, m.applies, m.grants, m.role_found) for m in matches] == [
        ("devs", "group g1", False, True, True), ("other", "user", True, False, False)]
    robot = matching_bindings(snap, "system:serviceaccount:dev:robot", [], req)
    assert [m.binding.name for m in robot] == ["sa"]


def test_builtin_role_guesses() -> None:
    assert guess_builtin_role(ResourceRequest(verb="list", resource="pods", namespace="a")) == "view"
    assert guess_builtin_role(ResourceRequest(verb="get", resource="secrets", namespace="a")) == "edit"
    assert guess_builtin_role(ResourceRequest(verb="create", resource="pods", subresource="exec",
                                              namespace="a")) == "edit"
    assert guess_builtin_role(ResourceRequest(verb="create", resource="rolebindings",
                                              group="rbac.authorization.k8s.io", namespace="a")) == "admin"
    assert guess_builtin_role(ResourceRequest(verb="list", resource="nodes")) is None


# -- against the emulator -----------------------------------------------------------------------------

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


def test_message_from_real_kubectl_is_explained(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["nobody"])
    env = env_for(tmp_path)
    denied = kubectl(kc, "get", "pods", "-n", "dev", env=env)
    assert denied.returncode == 1 and "Forbidden" in denied.stderr
    piped = subprocess.run([akslogin_bin(), "explain-forbidden", "--kubeconfig", str(kc), "--message", "-",
                            "-o", "json"], input=denied.stderr, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert piped.returncode == 1, piped.stderr
    data = json.loads(piped.stdout)
    assert data["request"] == {"verb": "list", "resource": "pods", "group": "", "namespace": "dev"}
    assert data["message_user"] == data["identity"]["username"] == APPS["nobody"].object_id
    assert data["suggestion"]["role"] == "view"


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


def test_a_binding_the_identity_already_has_is_not_suggested_again() -> None:
    from akslogin.rbac.rules import BindingMatch
    from akslogin.usecases.explain import already_bound, suggest

    binding = Binding("RoleBinding", "mine", "dev", "ClusterRole", "edit", ({"kind": "User", "name": "me@x.example"},))
    edit = Role("ClusterRole", "edit", "", ({"verbs": ["create"], "apiGroups": ["apps"],
                                            "resources": ["deployments"]},))
    req = ResourceRequest(verb="create", resource="deployments", group="apps", namespace="dev")
    sug = suggest(req, "me@x.example", None, RbacSnapshot(cluster_roles=[edit], bindings=[binding]), [edit])
    assert (sug.role, sug.namespace) == ("edit", "dev")
    match = BindingMatch(binding, "user", applies=True, grants=True, role_found=True)
    assert already_bound([match], sug) is match
    elsewhere = BindingMatch(Binding("RoleBinding", "x", "prod", "ClusterRole", "edit", ()), "user", False, True, True)
    assert already_bound([elsewhere], sug) is None


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
