"""Kubernetes RBAC evaluation for the emulated API server: pure functions over a Cluster's RBAC data.

Mirrors kube-apiserver's RBAC authorizer (``plugin/pkg/auth/authorizer/rbac``) closely enough that
allow/deny decisions, SelfSubjectAccessReview reasons and Forbidden messages match a real cluster.
The built-in roles follow the bootstrap policy, with the aggregated admin/edit/view rules expanded.

RBAC is evaluated twice in this repository on purpose: here, as the API server's authorizer (the oracle), and in
:mod:`akslogin.rbac` (what ``explain-forbidden`` and ``rbac bind`` conclude from the bindings they can read).
Sharing one implementation would let a bug agree with itself; the tests compare the product's explanation
with this decision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from akslogin.emulator.world import Cluster

RBAC_GROUP = "rbac.authorization.k8s.io"
READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
READ_WRITE = READ + WRITE

Rule = dict[str, list[str]]


def _rule(verbs: Sequence[str], group: str, *resources: str) -> Rule:
    return {"verbs": list(verbs), "apiGroups": [group], "resources": list(resources)}


def _url_rule(verbs: Sequence[str], *urls: str) -> Rule:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


# The aggregate-to-{view,edit,admin} rules of the bootstrap policy (k8s 1.32).
_VIEW_RULES = [
    _rule(READ, "", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
          "services", "services/status", "endpoints", "persistentvolumeclaims",
          "persistentvolumeclaims/status", "configmaps"),
    _rule(READ, "", "limitranges", "resourcequotas", "bindings", "events", "pods/status",
          "resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"),
    # Read on namespaces in a namespace scope means "can read this namespace".
    _rule(READ, "", "namespaces"),
    _rule(READ, "discovery.k8s.io", "endpointslices"),
    _rule(READ, "apps", "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
          "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
          "replicasets", "replicasets/status", "replicasets/scale"),
    _rule(READ, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
    _rule(READ, "batch", "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
    _rule(READ, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
    _rule(READ, "networking.k8s.io", "networkpolicies", "ingresses", "ingresses/status"),
]
_EDIT_RULES = [
    _rule(READ, "", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets",
          "services/proxy"),
    _rule(["impersonate"], "", "serviceaccounts"),
    _rule(WRITE, "", "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
    _rule(["create"], "", "pods/eviction"),
    _rule(WRITE, "", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
          "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
    _rule(["create"], "", "serviceaccounts/token"),
    _rule(WRITE, "apps", "statefulsets", "statefulsets/scale", "daemonsets", "deployments",
          "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"),
    _rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
    _rule(WRITE, "batch", "jobs", "cronjobs"),
    _rule(WRITE, "policy", "poddisruptionbudgets"),
    _rule(WRITE, "networking.k8s.io", "networkpolicies", "ingresses"),
    _rule(READ_WRITE, "coordination.k8s.io", "leases"),
]
_ADMIN_RULES = [
    _rule(["create"], "authorization.k8s.io", "localsubjectaccessreviews"),
    _rule(READ_WRITE, RBAC_GROUP, "roles", "rolebindings"),
]
_DISCOVERY_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                   "/readyz", "/version", "/version/")
_PUBLIC_URLS = ("/healthz", "/livez", "/readyz", "/version", "/version/")


def _cluster_role(name: str, rules: list[Rule], aggregate: str | None = None) -> dict[str, Any]:
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    if aggregate:
        labels[f"rbac.authorization.k8s.io/aggregate-to-{aggregate}"] = "true"
    return {
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }


def _group_binding(name: str, role: str, group: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": group}],
    }


BUILTIN_CLUSTER_ROLES: tuple[dict[str, Any], ...] = (
    _cluster_role("cluster-admin", [_rule(["*"], "*", "*"), _url_rule(["*"], "*")]),
    _cluster_role("admin", _ADMIN_RULES + _EDIT_RULES + _VIEW_RULES),
    _cluster_role("edit", _EDIT_RULES + _VIEW_RULES, aggregate="admin"),
    _cluster_role("view", _VIEW_RULES, aggregate="edit"),
    _cluster_role("system:discovery", [_url_rule(["get"], *_DISCOVERY_URLS)]),
    _cluster_role("system:basic-user", [
        _rule(["create"], "authentication.k8s.io", "selfsubjectreviews"),
        _rule(["create"], "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
    ]),
    _cluster_role("system:public-info-viewer", [_url_rule(["get"], *_PUBLIC_URLS)]),
)
BUILTIN_CLUSTER_ROLE_BINDINGS: tuple[dict[str, Any], ...] = (
    _group_binding("cluster-admin", "cluster-admin", "system:masters"),
    _group_binding("system:discovery", "system:discovery", "system:authenticated"),
    _group_binding("system:basic-user", "system:basic-user", "system:authenticated"),
    _group_binding("system:public-info-viewer", "system:public-info-viewer", "system:authenticated"),
)


class Identity(Protocol):
    """Who is asking: ``aksauth.UserInfo`` satisfies this."""

    @property
    def username(self) -> str: ...

    @property
    def groups(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Attributes:
    """A request as the authorizer sees it; ``path`` set means a non-resource request."""

    verb: str
    resource: str = ""
    api_group: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    api_version: str = "v1"

    @property
    def is_resource_request(self) -> bool:
        return not self.path

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class AppliedBinding:
    """A binding that names the user (directly or through a group), and the role it grants."""

    kind: str  # "ClusterRoleBinding" | "RoleBinding"
    name: str
    namespace: str  # "" for ClusterRoleBindings
    role_kind: str
    role_name: str
    subject: dict[str, str]
    rules: tuple[Rule, ...]  # empty when the role does not exist

    def describe(self) -> str:
        """The source text RBAC puts in an "allowed by" reason."""
        ref = f"{self.namespace}/{self.name}" if self.namespace else self.name
        subject = _describe_subject(self.subject)
        return f"{self.kind} {_q(ref)} of {self.role_kind} {_q(self.role_name)} to {subject}"


def cluster_roles(cluster: Cluster) -> list[dict[str, Any]]:
    """Built-in ClusterRoles plus the cluster's own; a cluster role of the same name replaces a built-in."""
    own = {r["metadata"]["name"] for r in cluster.cluster_roles}
    builtin = [r for r in BUILTIN_CLUSTER_ROLES if r["metadata"]["name"] not in own]
    return builtin + list(cluster.cluster_roles)


def cluster_role_bindings(cluster: Cluster) -> list[dict[str, Any]]:
    own = {b["metadata"]["name"] for b in cluster.cluster_role_bindings}
    builtin = [b for b in BUILTIN_CLUSTER_ROLE_BINDINGS if b["metadata"]["name"] not in own]
    return builtin + list(cluster.cluster_role_bindings)


def _describe_subject(subject: dict[str, str]) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f"ServiceAccount {_q(subject.get('namespace', '') + '/' + subject.get('name', ''))}"
    return f"{subject.get('kind', '')} {_q(subject.get('name', ''))}"


def _subject_matches(subject: dict[str, Any], user: Identity, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(user.username == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.username == f"system:serviceaccount:{namespace}:{name}"
    return False


def _role_rules(cluster: Cluster, kind: str, name: str, namespace: str) -> tuple[Rule, ...]:
    if kind == "ClusterRole":
        roles: Iterable[dict[str, Any]] = cluster_roles(cluster)
    elif kind == "Role":
        roles = (r for r in cluster.roles if r["metadata"].get("namespace") == namespace)
    else:
        return ()
    role = next((r for r in roles if r["metadata"]["name"] == name), None)
    return tuple(role.get("rules") or []) if role else ()


def _applied(cluster: Cluster, user: Identity, namespace: str | None) -> Iterator[AppliedBinding]:
    """Bindings in kube's visiting order: ClusterRoleBindings, then RoleBindings of ``namespace``.

    ``namespace`` "" means cluster scope (no RoleBindings apply); None means RoleBindings of every namespace.
    """
    sources = [("ClusterRoleBinding", b) for b in cluster_role_bindings(cluster)]
    if namespace != "":
        sources += [
            ("RoleBinding", b) for b in cluster.role_bindings
            if namespace is None or b["metadata"].get("namespace") == namespace
        ]
    for kind, binding in sources:
        ns = str(binding["metadata"].get("namespace") or "") if kind == "RoleBinding" else ""
        ref = binding["roleRef"]
        for subject in binding.get("subjects") or []:
            if _subject_matches(subject, user, ns):
                yield AppliedBinding(
                    kind=kind, name=binding["metadata"]["name"], namespace=ns,
                    role_kind=ref["kind"], role_name=ref["name"], subject=dict(subject),
                    rules=_role_rules(cluster, ref["kind"], ref["name"], ns),
                )
                break


def applicable_bindings(
    user: Identity, cluster: Cluster, namespace: str | None = None
) -> list[AppliedBinding]:
    """Every binding that applies to ``user``: useful to explain a Forbidden ("you only have view in dev")."""
    return list(_applied(cluster, user, namespace))


def rules_for(user: Identity, cluster: Cluster, namespace: str) -> list[Rule]:
    """The rules in force for ``user`` in ``namespace``, as SelfSubjectRulesReview reports them."""
    return [rule for b in _applied(cluster, user, namespace) for rule in b.rules]


def _has(values: Sequence[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: Rule, attrs: Attributes) -> bool:
    """kube's ``RuleAllows``: verbs, API groups, resource[/subresource] (or ``*/sub``), names, URLs."""
    if not _has(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.is_resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url in ("*", attrs.path) or (url.endswith("*") and attrs.path.startswith(url.rstrip("*"))):
                return True
        return False
    if not _has(rule.get("apiGroups") or [], attrs.api_group):
        return False
    combined = attrs.combined_resource
    resource_ok = any(
        r in ("*", combined) or (bool(attrs.subresource) and r == f"*/{attrs.subresource}")
        for r in rule.get("resources") or []
    )
    names = rule.get("resourceNames") or []
    return resource_ok and (not names or attrs.name in names)


def authorize(user: Identity, attrs: Attributes, cluster: Cluster) -> Decision:
    """The RBAC decision; an allow carries kube's reason, a deny has none (RBAC only has "no opinion")."""
    for binding in _applied(cluster, user, attrs.namespace):
        if any(rule_allows(rule, attrs) for rule in binding.rules):
            return Decision(True, f"RBAC: allowed by {binding.describe()}")
    return Decision(False, "")


def _q(value: str) -> str:
    """Go's %q for the strings RBAC quotes (close enough: JSON escaping, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)


def _qualified(attrs: Attributes) -> str:
    return f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource


def forbidden_message(username: str, attrs: Attributes, reason: str = "") -> str:
    """kube-apiserver's Forbidden text: ``forbiddenMessage`` wrapped by apimachinery's ``NewForbidden``."""
    if not attrs.is_resource_request:
        msg = f"User {_q(username)} cannot {attrs.verb} path {_q(attrs.path)}"
    elif attrs.namespace:
        msg = (f"User {_q(username)} cannot {attrs.verb} resource {_q(attrs.combined_resource)} "
               f"in API group {_q(attrs.api_group)} in the namespace {_q(attrs.namespace)}")
    else:
        msg = (f"User {_q(username)} cannot {attrs.verb} resource {_q(attrs.combined_resource)} "
               f"in API group {_q(attrs.api_group)} at the cluster scope")
    if reason:
        msg = f"{msg}: {reason}"
    if not attrs.is_resource_request or not attrs.resource:
        return f"forbidden: {msg}"
    if attrs.name:
        return f"{_qualified(attrs)} {_q(attrs.name)} is forbidden: {msg}"
    return f"{_qualified(attrs)} is forbidden: {msg}"


def forbidden_details(attrs: Attributes) -> dict[str, str]:
    """The ``details`` of the 403 Status (empty fields omitted, in Kubernetes' field order)."""
    details = {"name": attrs.name, "group": attrs.api_group, "kind": attrs.resource}
    if not attrs.is_resource_request:
        return {}
    return {k: v for k, v in details.items() if v}


# -- writes: who may create a binding (kube's escalation check, simplified) -----------------------------

def _names_covered(owner: Rule, names: Sequence[str]) -> bool:
    allowed = owner.get("resourceNames") or []
    if not allowed:
        return True
    return bool(names) and all(n in allowed for n in names)


def _covers_rule(owner_rules: Sequence[Rule], rule: Rule) -> bool:
    """Does the union of ``owner_rules`` grant every permission in ``rule``? A wildcard in ``rule`` is only
    covered by the same wildcard (as kube's ``Covers``), so nobody grants ``*`` without holding it."""
    urls = rule.get("nonResourceURLs") or []
    if urls:
        return all(
            any(
                _has(o.get("verbs") or [], verb) and any(
                    u in ("*", url) or (u.endswith("*") and url.startswith(u.rstrip("*")))
                    for u in o.get("nonResourceURLs") or []
                )
                for o in owner_rules
            )
            for verb in rule.get("verbs") or [] for url in urls
        )
    names = rule.get("resourceNames") or []
    for verb in rule.get("verbs") or []:
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                sub = resource.partition("/")[2]
                if not any(
                    _has(o.get("verbs") or [], verb)
                    and _has(o.get("apiGroups") or [], group)
                    and any(r in ("*", resource) or (sub and r == f"*/{sub}") for r in o.get("resources") or [])
                    and _names_covered(o, names)
                    for o in owner_rules if not o.get("nonResourceURLs")
                ):
                    return False
    return True


def _format_rule(rule: Rule) -> str:
    parts = []
    for key, label in (("apiGroups", "APIGroups"), ("resources", "Resources"), ("resourceNames", "ResourceNames"),
                       ("nonResourceURLs", "NonResourceURLs"), ("verbs", "Verbs")):
        if rule.get(key):
            parts.append(f"{label}:[" + " ".join(_q(v) for v in rule[key]) + "]")
    return "{" + ", ".join(parts) + "}"


def may_bind(user: Identity, cluster: Cluster, role_kind: str, role_name: str, namespace: str) -> Decision:
    """May ``user`` create a binding to the role? Yes with the ``bind`` verb on it, or when the user already
    holds every permission the role grants (in ``namespace`` for a RoleBinding, cluster-wide otherwise).

    Simplified from kube: aggregation rules are not re-evaluated and ``escalate`` is not considered.
    """
    resource = "roles" if role_kind == "Role" else "clusterroles"
    bind = Attributes(verb="bind", resource=resource, api_group=RBAC_GROUP, name=role_name, namespace=namespace)
    if authorize(user, bind, cluster).allowed:
        return Decision(True, "bind")
    role_rules = _role_rules(cluster, role_kind, role_name, namespace)
    if not role_rules:
        return Decision(False, f"{resource}.{RBAC_GROUP} {_q(role_name)} not found")
    owner = rules_for(user, cluster, namespace)
    missing = [r for r in role_rules if not _covers_rule(owner, r)]
    if not missing:
        return Decision(True, "covers")
    groups = " ".join(_q(g) for g in user.groups)
    return Decision(False, f"user {_q(user.username)} (groups=[{groups}]) is attempting to grant RBAC permissions "
                           "not currently held:\n" + "\n".join(_format_rule(r) for r in missing))
