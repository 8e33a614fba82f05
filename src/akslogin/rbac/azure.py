"""Azure RBAC for Kubernetes, as explain-forbidden reasons about it: which built-in role grants a request.

On a cluster that authorizes with Azure role assignments, a denied request needs an assignment of a role whose
data actions cover it, at the cluster's scope or at ``<cluster id>/namespaces/<namespace>``. The four built-in
roles, smallest first:

- *Azure Kubernetes Service RBAC Reader*: reads most namespaced objects, not Secrets nor Roles/RoleBindings;
- *... RBAC Writer*: the Reader's reads plus writes of workloads, Services, ConfigMaps and Secrets (still no
  Roles/RoleBindings and no ResourceQuotas);
- *... RBAC Admin*: everything except writing Namespaces and ResourceQuotas (meant for a namespace scope);
- *... RBAC Cluster Admin*: everything, cluster-scoped objects included.

Written from Azure's published role definitions, separately from the emulator's authorizer (the oracle the
tests compare this with).
"""

from __future__ import annotations

from dataclasses import dataclass

from akslogin.rbac.rules import ResourceRequest

READER = "Azure Kubernetes Service RBAC Reader"
WRITER = "Azure Kubernetes Service RBAC Writer"
ADMIN = "Azure Kubernetes Service RBAC Admin"
CLUSTER_ADMIN = "Azure Kubernetes Service RBAC Cluster Admin"
ROLES = (READER, WRITER, ADMIN, CLUSTER_ADMIN)
#: Their role definition names: the same GUIDs in every tenant.
ROLE_IDS = {
    "7f6c6a51-bcf8-42ba-9220-52d62157d7db": READER,
    "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb": WRITER,
    "3498e952-d568-435e-9b2c-8d77e338d7f7": ADMIN,
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": CLUSTER_ADMIN,
}

#: (API group, resource) pairs the Reader may read, and so the Writer too.
_READER_READS = {
    ("apps", r) for r in ("controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets")
} | {
    ("autoscaling", "horizontalpodautoscalers"), ("batch", "cronjobs"), ("batch", "jobs"),
    ("discovery.k8s.io", "endpointslices"), ("events.k8s.io", "events"), ("metrics.k8s.io", "pods"),
    ("metrics.k8s.io", "nodes"), ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "networkpolicies"),
    ("policy", "poddisruptionbudgets"),
} | {
    ("extensions", r) for r in ("daemonsets", "deployments", "ingresses", "networkpolicies", "replicasets")
} | {
    ("", r) for r in ("configmaps", "endpoints", "events", "limitranges", "namespaces", "persistentvolumeclaims",
                      "pods", "replicationcontrollers", "resourcequotas", "serviceaccounts", "services")
}
#: API groups, and core resources, whose every object the Writer may read and write.
_WRITER_GROUPS = frozenset({"apps", "autoscaling", "batch", "extensions", "networking.k8s.io", "policy"})
_WRITER_CORE = frozenset({"configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers",
                          "secrets", "serviceaccounts", "services"})
#: What even the Admin may not change.
_ADMIN_KEEPS = frozenset({"namespaces", "resourcequotas"})
_READS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class AzureGrant:
    """The smallest built-in role that grants a request, and the narrowest scope to assign it at."""

    role: str
    namespace: str  # "" for the cluster's own scope

    def scope(self, cluster_id: str) -> str:
        return f"{cluster_id}/namespaces/{self.namespace}" if self.namespace else cluster_id


def smallest_role(request: ResourceRequest) -> AzureGrant:
    """Reader, Writer, Admin or Cluster Admin, at the request's namespace when it has one."""
    if not request.is_resource:
        return AzureGrant(CLUSTER_ADMIN, "")
    key = (request.group, request.resource)
    reading = request.verb in _READS and not request.subresource
    if reading and key in _READER_READS:
        role = READER
    elif _writer_may(request):
        role = WRITER
    elif request.resource in _ADMIN_KEEPS and request.group == "" and not reading:
        role = CLUSTER_ADMIN
    else:
        role = ADMIN
    namespace = request.namespace
    if not namespace and role != CLUSTER_ADMIN:
        # A cluster-wide request (every namespace, or a cluster-scoped object): only the cluster scope grants it.
        return AzureGrant(role, "")
    return AzureGrant(role, namespace)


def _writer_may(request: ResourceRequest) -> bool:
    if request.group == "":
        return request.resource in _WRITER_CORE or (
            request.verb in _READS and (request.group, request.resource) in _READER_READS)
    return request.group in _WRITER_GROUPS


@dataclass(frozen=True)
class HeldAssignment:
    """One of the identity's role assignments, as Resource Manager lists it, judged against a request."""

    role: str  # the role's name (a built-in AKS RBAC role) or its definition id
    scope: str
    created_on: str
    covers: bool  # its scope covers where the request lands
    grants: bool  # its role grants the request (False for a role this module does not know)


def judge(assignment: dict[str, object], grant: AzureGrant, cluster_id: str) -> HeldAssignment:
    """Does ``assignment`` (ARM's JSON) allow what ``grant`` (the smallest role, narrowest scope) would?"""
    props = assignment.get("properties")
    props = props if isinstance(props, dict) else {}
    role_id = str(props.get("roleDefinitionId") or "")
    role = ROLE_IDS.get(role_id.rsplit("/", 1)[-1].lower(), role_id)
    scope = str(props.get("scope") or "").rstrip("/")
    target = grant.scope(cluster_id).lower()
    covers = bool(scope) and (target == scope.lower() or target.startswith(scope.lower() + "/"))
    grants = role in ROLES and ROLES.index(role) >= ROLES.index(grant.role)
    return HeldAssignment(role, scope, str(props.get("createdOn") or ""), covers, grants)


def on_fleet_hub(grant: AzureGrant, resource_id: str) -> AzureGrant:
    """On an AKS Fleet Manager hub (its resource id is the fleet's) the same grant is the Fleet Manager RBAC role of
    the same level (Reader, Writer, Admin, Cluster Admin): their data actions are the AKS roles' on the fleet."""
    if "/providers/microsoft.containerservice/fleets/" not in resource_id.lower():
        return grant
    return AzureGrant(grant.role.replace("Azure Kubernetes Service RBAC", "Azure Kubernetes Fleet Manager RBAC"),
                      grant.namespace)


def principal_type(identity_type: str) -> str:
    """``--assignee-principal-type`` for what the token says the caller is (TokenInfo.identity_type): apps and
    managed identities are service principals, members and guests users."""
    return "User" if identity_type in ("user", "guest user", "") else "ServicePrincipal"


def cluster_id_hint(cluster_name: str) -> str:
    """A shell expression for the cluster's resource id, when the kubeconfig does not carry it."""
    return f"$(az aks show -g <resource-group> -n {cluster_name} --query id -o tsv)"


def assign_command(object_id: str, kind: str, role: str, scope: str) -> str:
    """The ``az role assignment create`` line; object id and principal type spare az a Graph lookup, which a
    guest user or a service principal would otherwise need."""
    return (f"az role assignment create --assignee-object-id {object_id} --assignee-principal-type {kind} "
            f'--role "{role}" --scope "{scope}"')
