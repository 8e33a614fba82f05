"""The emulator's RBAC evaluator against kube-apiserver semantics (pure functions, no servers).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin.emulator.aks import rbac
from akslogin.emulator.aks.rbac import Attributes, forbidden_details, forbidden_message
from akslogin.emulator.world import Cluster
from support import rbac as shared
from support.rbac import allowed, crb, u, user


@pytest.fixture
def cluster() -> Cluster:
    return shared.cluster()


def test_cluster_roles_of_the_cluster_override_builtins() -> None:
    cluster = Cluster(
        name="c", tenant_id="t",
        cluster_roles=[{"metadata": {"name": "view"}, "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                                                 "verbs": ["list"]}]}],
        cluster_role_bindings=[crb("v", "view", u("x"))],
    )
    assert allowed(cluster, user("x"), "list", "secrets", ns="a")
    assert not allowed(cluster, user("x"), "list", "pods", ns="a")
    names = [r["metadata"]["name"] for r in rbac.cluster_roles(cluster)]
    assert names.count("view") == 1 and "cluster-admin" in names
    assert {b["metadata"]["name"] for b in rbac.cluster_role_bindings(cluster)} >= {
        "cluster-admin", "system:discovery", "system:basic-user", "system:public-info-viewer", "v"}


@pytest.mark.parametrize(("attrs", "expected"), [
    (Attributes(verb="list", resource="pods", namespace="default"),
     'pods is forbidden: User "ci@x" cannot list resource "pods" in API group "" in the namespace "default"'),
    (Attributes(verb="list", resource="namespaces"),
     'namespaces is forbidden: User "ci@x" cannot list resource "namespaces" in API group "" '
     'at the cluster scope'),
    (Attributes(verb="get", resource="pods", namespace="default", name="web-1"),
     'pods "web-1" is forbidden: User "ci@x" cannot get resource "pods" in API group "" '
     'in the namespace "default"'),
    (Attributes(verb="create", resource="deployments", api_group="apps", namespace="prod"),
     'deployments.apps is forbidden: User "ci@x" cannot create resource "deployments" in API group "apps" '
     'in the namespace "prod"'),
    (Attributes(verb="get", resource="pods", subresource="log", namespace="default", name="web-1"),
     'pods "web-1" is forbidden: User "ci@x" cannot get resource "pods/log" in API group "" '
     'in the namespace "default"'),
    (Attributes(verb="get", path="/metrics"), 'forbidden: User "ci@x" cannot get path "/metrics"'),
])
def test_forbidden_messages(attrs: Attributes, expected: str) -> None:
    assert forbidden_message("ci@x", attrs) == expected


def test_forbidden_message_reason_suffix_and_details() -> None:
    attrs = Attributes(verb="list", resource="nodes")
    reason = "User does not have access to the resource in Azure. Update role assignment to allow access."
    assert forbidden_message("u", attrs, reason) == (
        'nodes is forbidden: User "u" cannot list resource "nodes" in API group "" at the cluster scope: '
        + reason
    )
    assert forbidden_details(attrs) == {"kind": "nodes"}
    assert forbidden_details(Attributes(verb="get", resource="deployments", api_group="apps", name="w")) == {
        "name": "w", "group": "apps", "kind": "deployments"}
    assert forbidden_details(Attributes(verb="get", path="/metrics")) == {}
