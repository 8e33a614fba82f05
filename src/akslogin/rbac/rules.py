"""Which RBAC rules allow a request, which bindings name an identity, and which roles would grant it.

Semantics follow Kubernetes RBAC: verbs, API groups, ``resource[/subresource]`` (and ``*/sub``), resource
names, non-resource URLs with a trailing ``*``; ClusterRoleBindings apply everywhere, RoleBindings only in
their namespace; subjects are Users (by name), Groups, and ServiceAccounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
READ_VERBS = ("get", "list", "watch")
#: Built-in roles from least to most powerful: the order in which a fix is suggested.
BUILTIN_ROLES = ("view", "edit", "admin", "cluster-admin")
#: Resources that exist only at cluster scope (a RoleBinding can never grant them).
CLUSTER_SCOPED = frozenset({
    "nodes", "namespaces", "persistentvolumes", "clusterroles", "clusterrolebindings", "storageclasses",
    "customresourcedefinitions", "priorityclasses", "ingressclasses", "csidrivers", "csinodes",
    "volumeattachments", "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
    "apiservices", "certificatesigningrequests", "runtimeclasses", "selfsubjectreviews",
    "selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews", "subjectaccessreviews",
})

Rule = Mapping[str, Any]


@dataclass(frozen=True)
class ResourceRequest:
    """A request as RBAC sees it; ``path`` set means a non-resource URL."""

    verb: str
    resource: str = ""
    group: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return not self.path

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    @property
    def qualified(self) -> str:
        return f"{self.combined}.{self.group}" if self.group else self.combined

    def describe(self) -> str:
        if not self.is_resource:
            return f"{self.verb} {self.path}"
        target = self.qualified + (f" {self.name!r}" if self.name else "")
        scope = f'in namespace "{self.namespace}"' if self.namespace else "at cluster scope"
        return f"{self.verb} {target} {scope}"

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("verb", self.verb), ("resource", self.resource), ("group", self.group),
                                  ("subresource", self.subresource), ("namespace", self.namespace),
                                  ("name", self.name), ("path", self.path)) if v or (k == "group" and self.is_resource)}


def _has(values: Sequence[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: Rule, req: ResourceRequest) -> bool:
    verbs = [str(v) for v in rule.get("verbs") or []]
    if not _has(verbs, req.verb):
        return False
    if not req.is_resource:
        return any(u in ("*", req.path) or (u.endswith("*") and req.path.startswith(u[:-1]))
                   for u in (str(x) for x in rule.get("nonResourceURLs") or []))
    if not _has([str(g) for g in rule.get("apiGroups") or []], req.group):
        return False
    resources = [str(r) for r in rule.get("resources") or []]
    resource_ok = any(r in ("*", req.combined) or (bool(req.subresource) and r == f"*/{req.subresource}")
                      for r in resources)
    names = [str(n) for n in rule.get("resourceNames") or []]
    return resource_ok and (not names or req.name in names)


def rules_allow(rules: Iterable[Rule], req: ResourceRequest) -> bool:
    return any(rule_allows(r, req) for r in rules)


@dataclass(frozen=True)
class Binding:
    kind: str  # "ClusterRoleBinding" | "RoleBinding"
    name: str
    namespace: str
    role_kind: str
    role_name: str
    subjects: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_object(cls, kind: str, obj: Mapping[str, Any]) -> Binding:
        meta = obj.get("metadata") or {}
        ref = obj.get("roleRef") or {}
        return cls(kind=kind, name=str(meta.get("name", "")), namespace=str(meta.get("namespace") or ""),
                   role_kind=str(ref.get("kind", "")), role_name=str(ref.get("name", "")),
                   subjects=tuple(s for s in obj.get("subjects") or [] if isinstance(s, Mapping)))

    def label(self) -> str:
        ref = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {ref} → {self.role_kind} {self.role_name}"


@dataclass(frozen=True)
class Role:
    kind: str  # "ClusterRole" | "Role"
    name: str
    namespace: str
    rules: tuple[Rule, ...]


def subject_matches(subject: Mapping[str, Any], username: str, groups: Sequence[str], binding_ns: str) -> bool:
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "User":
        return username == name
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        return username == f"system:serviceaccount:{subject.get('namespace') or binding_ns}:{name}"
    return False


@dataclass
class RbacSnapshot:
    """The RBAC objects the caller could read. ``unreadable`` names the lists it was not allowed to list."""

    cluster_roles: list[Role] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unreadable

    def role(self, kind: str, name: str, namespace: str) -> Role | None:
        if kind == "ClusterRole":
            return next((r for r in self.cluster_roles if r.name == name), None)
        return next((r for r in self.roles if r.name == name and r.namespace == namespace), None)


@dataclass(frozen=True)
class BindingMatch:
    """A binding that names the identity (directly or through one of its groups)."""

    binding: Binding
    via: str  # "user" or "group <id>"
    applies: bool  # its scope covers the request's namespace
    grants: bool  # its role allows the request (False also when the role is missing or unreadable)
    role_found: bool


def matching_bindings(snapshot: RbacSnapshot, username: str, groups: Sequence[str],
                      req: ResourceRequest) -> list[BindingMatch]:
    out = []
    for binding in snapshot.bindings:
        subject = next((s for s in binding.subjects if subject_matches(s, username, groups, binding.namespace)),
                       None)
        if subject is None:
            continue
        via = "user" if subject.get("kind") != "Group" else f"group {subject.get('name')}"
        applies = binding.kind == "ClusterRoleBinding" or (bool(req.namespace) and binding.namespace == req.namespace)
        role = snapshot.role(binding.role_kind, binding.role_name, binding.namespace)
        grants = role is not None and rules_allow(role.rules, req)
        out.append(BindingMatch(binding, via, applies, grants, role is not None))
    return out


def _preference(role: Role) -> tuple[int, int, str]:
    if role.kind == "ClusterRole" and role.name in BUILTIN_ROLES:
        return (0, BUILTIN_ROLES.index(role.name), role.name)
    system = role.name.startswith("system:")
    return (2 if system else 1, len(role.rules), role.name)


def granting_roles(snapshot: RbacSnapshot, req: ResourceRequest) -> list[Role]:
    """Roles that would allow the request if bound at the right scope, least powerful built-in first."""
    candidates = [r for r in snapshot.cluster_roles if rules_allow(r.rules, req)]
    if req.namespace:
        candidates += [r for r in snapshot.roles if r.namespace == req.namespace and rules_allow(r.rules, req)]
    return sorted(candidates, key=_preference)


def guess_builtin_role(req: ResourceRequest) -> str | None:
    """The built-in role that most likely grants ``req`` when the RBAC objects cannot be read.

    None when no built-in role below cluster-admin covers it (cluster-scoped resources, non-resource URLs).
    """
    if not req.is_resource or not req.namespace or req.resource in CLUSTER_SCOPED:
        return None
    if req.group == RBAC_GROUP:
        return "admin"
    sensitive = req.resource in ("secrets",) or req.subresource in ("exec", "attach", "portforward", "proxy")
    if sensitive or req.verb not in READ_VERBS:
        return "edit"
    return "view"


def minimal_role_rules(req: ResourceRequest) -> list[dict[str, list[str]]]:
    """The one rule a custom role needs to allow exactly ``req``."""
    if not req.is_resource:
        return [{"nonResourceURLs": [req.path], "verbs": [req.verb]}]
    rule: dict[str, list[str]] = {"apiGroups": [req.group], "resources": [req.combined], "verbs": [req.verb]}
    if req.name and req.verb not in ("list", "watch", "create", "deletecollection"):
        rule["resourceNames"] = [req.name]
    return [rule]
