"""Azure RBAC for Kubernetes, as the emulated API server's first authorizer (AKS's guard webhook).

On a cluster with Azure RBAC turned on (``enableAzureRBAC``), AKS asks Azure before Kubernetes RBAC: each request
becomes a data action (``Microsoft.ContainerService/managedClusters/<group>/<resource>/<read|write|delete|action>``)
that a role assignment of the caller (its object id or one of its groups) must grant at the cluster's scope or at
``<cluster id>/namespaces/<namespace>``. When Azure allows, the request is allowed; when it has no assignment that
grants it, Kubernetes RBAC still decides, and a denial by both carries Azure's reason text.

The roles' data actions are the world's (emulator/world/model.py: the four built-in roles as Azure publishes
them, and the world file's custom roles, e.g. for a CRD). This is the oracle:
akslogin's explain-forbidden reasons about the same roles with code of its own (:mod:`akslogin.rbac.azure`).
"""

from __future__ import annotations

from collections.abc import Iterable

from akslogin.emulator.aks.rbac import Attributes, Decision
from akslogin.emulator.world import ARM_DATA_PREFIX as PREFIX
from akslogin.emulator.world import Cluster, World

#: What the guard appends to a denial (the Forbidden message and the access review's reason).
DENIAL = "User does not have access to the resource in Azure. Update role assignment to allow access."


_VERB_SUFFIX = {"get": "read", "list": "read", "watch": "read", "create": "write", "update": "write",
                "patch": "write", "delete": "delete", "deletecollection": "delete"}
#: Subresources that are an operation, not an object: AKS maps them to ``.../<sub>/action``.
_ACTION_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


def data_action(attrs: Attributes, prefix: str = PREFIX) -> str:
    """The data action a resource request needs, e.g. ``.../apps/deployments/write`` for a create."""
    parts = [attrs.api_group] if attrs.api_group else []
    parts.append(attrs.resource)
    if attrs.subresource:
        parts.append(attrs.subresource)
    suffix = _VERB_SUFFIX.get(attrs.verb, "action")
    if attrs.subresource in _ACTION_SUBRESOURCES:
        suffix = "action"
    return "/".join([prefix, *parts, suffix])


def _matches(pattern: str, action: str) -> bool:
    pattern, action = pattern.lower(), action.lower()
    return pattern == action or (pattern.endswith("*") and action.startswith(pattern[:-1]))


def grants(data_actions: Iterable[str], not_data_actions: Iterable[str], action: str) -> bool:
    """Azure's rule: some data action matches and no not-data action does (``*`` matches any rest)."""
    return any(_matches(p, action) for p in data_actions) and not any(_matches(p, action) for p in not_data_actions)


def target_scope(cluster_id: str, attrs: Attributes) -> str:
    """Where the request lands: ``<cluster id>/namespaces/<ns>`` for a namespaced one, else the cluster."""
    return f"{cluster_id}/namespaces/{attrs.namespace}" if attrs.namespace else cluster_id


def authorize(world: World, cluster: Cluster, principal_ids: frozenset[str], attrs: Attributes,
              now: float) -> Decision:
    """Azure's decision: allowed when an assignment of the caller (or one of its groups) grants the request's
    data action at a scope that covers it and has had ``world.role_propagation_seconds`` to take effect;
    otherwise no opinion (Kubernetes RBAC decides next)."""
    if not attrs.is_resource_request:
        return Decision(False, "")
    action = data_action(attrs, cluster.data_prefix)
    target = target_scope(cluster.arm_id, attrs)
    for assignment in world.assignments_of(principal_ids):
        role = world.role(assignment.role)
        if role is None or not world.assignment_applies(assignment, target):
            continue
        if assignment.created and now < assignment.created + world.role_propagation_seconds:
            continue  # made moments ago: Azure has not propagated it to the cluster yet
        if grants(role.data_actions, role.not_data_actions, action):
            return Decision(True, f"Access allowed by Azure RBAC role assignment of {role.name!r} at scope "
                                  f"{assignment.scope!r}")
    return Decision(False, "")
