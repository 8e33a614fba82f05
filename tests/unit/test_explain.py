"""explain-forbidden: parsing Forbidden messages, RBAC matching, and explanations against the emulator.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

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
