"""What the tiers of test_rbac.py share: tests/{emulated,unit}/test_rbac.py."""

from __future__ import annotations

from typing import Any

from akslogin.emulator.aks.authn import UserInfo
from akslogin.emulator.aks.rbac import Attributes, authorize
from akslogin.emulator.world import Cluster

AUTH = "system:authenticated"


def user(name: str, *groups: str) -> UserInfo:
    return UserInfo(username=name, uid=name, groups=(*groups, AUTH))


def crb(name: str, role: str, *subjects: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": list(subjects)}


def rb(name: str, ns: str, role: str, *subjects: dict[str, str], kind: str = "ClusterRole") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "roleRef": {"kind": kind, "name": role},
            "subjects": list(subjects)}


def u(name: str) -> dict[str, str]:
    return {"kind": "User", "name": name}


def g(name: str) -> dict[str, str]:
    return {"kind": "Group", "name": name}


def cluster() -> Cluster:
    return Cluster(
        name="aks", tenant_id="t",
        namespaces=["default", "dev", "staging"],
        roles=[
            {"metadata": {"name": "pod-reader", "namespace": "staging"},
             "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
            {"metadata": {"name": "cm-one", "namespace": "staging"},
             "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                        "resourceNames": ["settings"]}]},
            {"metadata": {"name": "scaler", "namespace": "staging"},
             "rules": [{"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["*"]}]},
        ],
        cluster_roles=[
            {"metadata": {"name": "log-reader"},
             "rules": [{"nonResourceURLs": ["/logs/*", "/metrics"], "verbs": ["get"]}]},
        ],
        cluster_role_bindings=[
            crb("viewers", "view", u("ci-oid")),
            crb("admins", "cluster-admin", g("admins-oid")),
            crb("logs", "log-reader", u("ops@contoso.com")),
            crb("dangling", "does-not-exist", u("ghost@contoso.com")),
        ],
        role_bindings=[
            rb("devs-edit", "dev", "edit", g("devs-oid")),
            rb("lead-admin", "dev", "admin", u("lead@contoso.com")),
            rb("reader", "staging", "pod-reader", u("dave@contoso.com"), kind="Role"),
            rb("cm", "staging", "cm-one", u("dave@contoso.com"), kind="Role"),
            rb("scale", "staging", "scaler", u("dave@contoso.com"), kind="Role"),
            rb("wrong-ns-role", "dev", "pod-reader", u("dave@contoso.com"), kind="Role"),
            rb("robot", "dev", "view", {"kind": "ServiceAccount", "name": "robot", "namespace": "dev"}),
        ],
    )


def allowed(cluster: Cluster, who: UserInfo, verb: str, resource: str = "", group: str = "", ns: str = "",
            name: str = "", sub: str = "", path: str = "") -> bool:
    attrs = Attributes(verb=verb, resource=resource, api_group=group, namespace=ns, name=name,
                       subresource=sub, path=path)
    return authorize(who, attrs, cluster).allowed
