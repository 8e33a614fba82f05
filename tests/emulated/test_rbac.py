"""The emulator's RBAC evaluator against kube-apiserver semantics (pure functions, no servers).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import pytest

from akslogin.emulator.aks import rbac
from akslogin.emulator.aks.authn import UserInfo
from akslogin.emulator.aks.rbac import Attributes, authorize
from akslogin.emulator.world import Cluster
from support import rbac as shared
from support.rbac import allowed, user


@pytest.fixture
def cluster() -> Cluster:
    return shared.cluster()


@pytest.mark.parametrize(("verb", "resource", "group", "sub", "expected"), [
    ("list", "pods", "", "", True),
    ("watch", "pods", "", "", True),
    ("get", "pods", "", "log", True),
    ("get", "pods", "", "status", True),
    ("get", "pods", "", "exec", False),
    ("create", "pods", "", "", False),
    ("list", "secrets", "", "", False),
    ("list", "configmaps", "", "", True),
    ("list", "deployments", "apps", "", True),
    ("list", "deployments", "", "", False),  # wrong group
    ("list", "cronjobs", "batch", "", True),
    ("list", "roles", rbac.RBAC_GROUP, "", False),
    ("list", "rolebindings", rbac.RBAC_GROUP, "", False),
    ("get", "namespaces", "", "", True),
])
def test_view(cluster: Cluster, verb: str, resource: str, group: str, sub: str, expected: bool) -> None:
    assert allowed(cluster, user("ci-oid"), verb, resource, group, ns="default", sub=sub) is expected


def test_view_cluster_binding_also_covers_cluster_scope(cluster: Cluster) -> None:
    assert allowed(cluster, user("ci-oid"), "list", "pods")  # kubectl get pods -A
    assert allowed(cluster, user("ci-oid"), "list", "namespaces")
    assert not allowed(cluster, user("ci-oid"), "list", "nodes")


@pytest.mark.parametrize(("verb", "resource", "group", "sub", "expected"), [
    ("create", "pods", "", "", True),
    ("delete", "pods", "", "", True),
    ("create", "pods", "", "exec", True),
    ("get", "secrets", "", "", True),
    ("update", "secrets", "", "", True),
    ("patch", "deployments", "apps", "scale", True),
    ("deletecollection", "jobs", "batch", "", True),
    ("list", "pods", "", "", True),  # edit includes view
    ("create", "roles", rbac.RBAC_GROUP, "", False),
    ("create", "rolebindings", rbac.RBAC_GROUP, "", False),
    ("create", "localsubjectaccessreviews", "authorization.k8s.io", "", False),
])
def test_edit_through_group_rolebinding(
    cluster: Cluster, verb: str, resource: str, group: str, sub: str, expected: bool
) -> None:
    alice = user("alice@contoso.com", "devs-oid")
    assert allowed(cluster, alice, verb, resource, group, ns="dev", sub=sub) is expected


def test_rolebinding_only_grants_in_its_namespace(cluster: Cluster) -> None:
    alice = user("alice@contoso.com", "devs-oid")
    assert allowed(cluster, alice, "create", "pods", ns="dev")
    assert not allowed(cluster, alice, "create", "pods", ns="default")
    assert not allowed(cluster, alice, "list", "pods")  # cluster scope: RoleBindings never apply


def test_admin_adds_rbac_objects_and_local_reviews(cluster: Cluster) -> None:
    lead = user("lead@contoso.com")
    assert allowed(cluster, lead, "create", "rolebindings", rbac.RBAC_GROUP, ns="dev")
    assert allowed(cluster, lead, "create", "localsubjectaccessreviews", "authorization.k8s.io", ns="dev")
    assert allowed(cluster, lead, "delete", "secrets", ns="dev")
    assert not allowed(cluster, lead, "create", "clusterroles", rbac.RBAC_GROUP)


def test_cluster_admin_allows_everything(cluster: Cluster) -> None:
    carol = user("carol@contoso.com", "admins-oid")
    assert allowed(cluster, carol, "delete", "nodes")
    assert allowed(cluster, carol, "escalate", "clusterroles", rbac.RBAC_GROUP)
    assert allowed(cluster, carol, "get", "pods", ns="kube-system", sub="exec")
    assert allowed(cluster, carol, "get", path="/metrics")
    assert allowed(cluster, carol, "*", "*", "*", ns="x")


def test_every_authenticated_user_gets_discovery_and_self_reviews(cluster: Cluster) -> None:
    bob = user("bob@contoso.com")
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/healthz", "/openapi/v3"):
        assert allowed(cluster, bob, "get", path=path), path
    assert not allowed(cluster, bob, "get", path="/metrics")
    assert not allowed(cluster, bob, "post", path="/api")
    assert allowed(cluster, bob, "create", "selfsubjectreviews", "authentication.k8s.io")
    assert allowed(cluster, bob, "create", "selfsubjectaccessreviews", "authorization.k8s.io")
    assert allowed(cluster, bob, "create", "selfsubjectrulesreviews", "authorization.k8s.io")
    assert not allowed(cluster, bob, "create", "subjectaccessreviews", "authorization.k8s.io")
    assert not allowed(cluster, bob, "list", "pods", ns="default")
    anonymous = UserInfo(username="system:anonymous", uid="", groups=("system:unauthenticated",))
    assert not allowed(cluster, anonymous, "get", path="/api")


def test_role_refs_resolve_in_the_binding_namespace(cluster: Cluster) -> None:
    dave = user("dave@contoso.com")
    assert allowed(cluster, dave, "list", "pods", ns="staging")
    assert not allowed(cluster, dave, "watch", "pods", ns="staging")
    # The "dev" RoleBinding points at a Role that only exists in "staging": it grants nothing.
    assert not allowed(cluster, dave, "list", "pods", ns="dev")


def test_resource_names_and_star_subresources(cluster: Cluster) -> None:
    dave = user("dave@contoso.com")
    assert allowed(cluster, dave, "get", "configmaps", ns="staging", name="settings")
    assert not allowed(cluster, dave, "get", "configmaps", ns="staging", name="other")
    assert not allowed(cluster, dave, "list", "configmaps", ns="staging")  # list has no name
    assert allowed(cluster, dave, "update", "deployments", "apps", ns="staging", name="web", sub="scale")
    assert not allowed(cluster, dave, "update", "deployments", "apps", ns="staging", name="web")


def test_non_resource_url_prefixes(cluster: Cluster) -> None:
    ops = user("ops@contoso.com")
    assert allowed(cluster, ops, "get", path="/logs/kube-apiserver.log")
    assert allowed(cluster, ops, "get", path="/logs/")
    assert not allowed(cluster, ops, "get", path="/logs")
    assert allowed(cluster, ops, "get", path="/metrics")
    assert not allowed(cluster, ops, "get", path="/metrics/slis")


def test_subject_matching_is_exact(cluster: Cluster) -> None:
    assert not allowed(cluster, user("CI-OID"), "list", "pods", ns="default")
    assert not allowed(cluster, user("ci-oid-2"), "list", "pods", ns="default")
    assert not allowed(cluster, user("x", "admins-oid-2"), "list", "pods", ns="default")
    assert not allowed(cluster, user("ghost@contoso.com"), "list", "pods", ns="default")  # missing role


def test_service_account_subjects(cluster: Cluster) -> None:
    robot = user("system:serviceaccount:dev:robot", "system:serviceaccounts")
    assert allowed(cluster, robot, "list", "pods", ns="dev")
    assert not allowed(cluster, user("system:serviceaccount:default:robot"), "list", "pods", ns="dev")


def test_allowed_reasons_name_the_binding(cluster: Cluster) -> None:
    list_pods = Attributes(verb="list", resource="pods", namespace="default")
    assert authorize(user("ci-oid"), list_pods, cluster) == rbac.Decision(
        True, 'RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "view" to User "ci-oid"'
    )
    alice = user("alice@contoso.com", "devs-oid")
    decision = authorize(alice, Attributes(verb="create", resource="pods", namespace="dev"), cluster)
    assert decision.reason == ('RBAC: allowed by RoleBinding "dev/devs-edit" of ClusterRole "edit" '
                               'to Group "devs-oid"')
    assert authorize(alice, Attributes(verb="create", resource="pods", namespace="default"), cluster) == (
        rbac.Decision(False, "")
    )


def test_applicable_bindings_and_rules(cluster: Cluster) -> None:
    alice = user("alice@contoso.com", "devs-oid")
    everywhere = rbac.applicable_bindings(alice, cluster)
    own = [(b.kind, b.name, b.namespace, b.role_name) for b in everywhere if not b.name.startswith("system:")]
    assert own == [("RoleBinding", "devs-edit", "dev", "edit")]
    assert everywhere[-1].describe() == (
        'RoleBinding "dev/devs-edit" of ClusterRole "edit" to Group "devs-oid"'
    )
    assert [b.name for b in rbac.applicable_bindings(alice, cluster, "")] == [
        "system:discovery", "system:basic-user", "system:public-info-viewer"]
    assert [b.name for b in rbac.applicable_bindings(alice, cluster, "default")] == [
        "system:discovery", "system:basic-user", "system:public-info-viewer"]
    rules = rbac.rules_for(alice, cluster, "dev")
    whoami = {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
              "resources": ["selfsubjectreviews"]}
    assert whoami in rules
    assert any("secrets" in r.get("resources", []) and "update" in r["verbs"] for r in rules)
    assert not any("secrets" in r.get("resources", []) for r in rbac.rules_for(alice, cluster, "default"))
