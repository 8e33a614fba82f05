"""The declarative "world" the emulator serves: tenants, apps, users, groups, clusters and RBAC (the model).

A world is read from YAML or JSON by :mod:`akslogin.emulator.world.file`; ``load_world`` and ``world_from_dict``
go through it. The emulator keeps its own well-known ids (the AKS server app, ...) on purpose: it imports
nothing of the product it judges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
#: The server app of Azure Arc-enabled Kubernetes (its clusters take proof-of-possession tokens for it).
ARC_SERVER_APP_ID = "6256c85f-0aad-4d50-b960-e6e9b21efe35"
#: The audience Entra expects in federated (workload identity) assertions.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
#: Kinds of compute that serve a managed identity endpoint, and the ARM type of each.
HOST_KINDS = {
    "vm": "Microsoft.Compute/virtualMachines",
    "appservice": "Microsoft.Web/sites",
    "arc": "Microsoft.HybridCompute/machines",
    "cloudshell": "Microsoft.Portal/consoles",
}
AKS_CLIENT_APP_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ARM_RESOURCE = "https://management.azure.com/"
GRAPH_RESOURCE = "https://graph.microsoft.com/"
#: The other names real Entra ID accepts for the same resource (az asks for management.core.windows.net; scopes
#: may use the app id). Tokens carry the name that was asked for, as Entra's do.
RESOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    ARM_RESOURCE: ("https://management.core.windows.net/", "https://management.azure.com/",
                   "797f4846-ba00-4fd7-ba43-dac1f8f63013"),
    GRAPH_RESOURCE: ("https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"),
}


class WorldError(ValueError):
    """The world file is malformed; the message names the offending entry."""


@dataclass
class Secret:
    value: str
    expires: float | None = None  # epoch seconds; None = never


@dataclass
class FederatedCredential:
    """A federated identity credential: trust tokens from ``issuer`` (the name of an issuer the emulator
    hosts, e.g. "kubernetes" or "github") whose ``sub`` is ``subject`` and ``aud`` one of ``audiences``."""

    name: str
    issuer: str
    subject: str
    audiences: list[str] = field(default_factory=lambda: [TOKEN_EXCHANGE_AUDIENCE])


@dataclass
class TrustedSubject:
    """Subject name + issuer ("SNI") certificate trust: any certificate whose subject is ``subject`` and whose
    chain ends at one of ``issuers`` is accepted, so a renewed leaf needs no change to the app."""

    subject: str  # RFC 4514, e.g. "CN=ci-sni.contoso.example"
    issuers: list[x509.Certificate]


@dataclass
class App:
    """An app registration together with its service principal in the home tenant."""

    name: str
    client_id: str
    object_id: str
    secrets: list[Secret] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    public_client: bool = False
    groups: list[str] = field(default_factory=list)  # group object ids
    federated_credentials: list[FederatedCredential] = field(default_factory=list)
    trusted_certificate_subjects: list[TrustedSubject] = field(default_factory=list)
    #: False: no user or admin consented to this client in the tenant (user sign-ins fail with 65001).
    consented: bool = True
    #: True: only users (or members of groups) in ``assigned`` may sign in to it (others get 50105).
    assignment_required: bool = False
    assigned: list[str] = field(default_factory=list)  # user and group object ids
    #: Extra redirect URIs besides the loopback ones every public client may use.
    redirect_uris: list[str] = field(default_factory=list)
    #: Holds Graph's application permission to read the directory (Application.Read.All / Directory.Read.All).
    graph_read: bool = False


#: Sign-in flows a Conditional Access rule can name ("all" matches every one).
USER_FLOWS = ("devicecode", "interactive", "ropc", "refresh")
#: What a Conditional Access rule does: block (53003), or demand a compliant device (53000), a domain-joined
#: device (53001) or a managed device (530003). A device-based rule blocks device code outright (530033).
CA_ACTIONS = ("block", "compliant_device", "domain_joined", "managed_device")
#: The AADSTS code of each device-based action outside device code.
DEVICE_CA_CODES = {"compliant_device": 53000, "domain_joined": 53001, "managed_device": 530003}


@dataclass
class User:
    upn: str
    object_id: str
    password: str | None = None
    display_name: str = ""
    groups: list[str] = field(default_factory=list)  # group object ids
    guest: bool = False
    disabled: bool = False  # 50057
    locked: bool = False  # 50053
    password_expired: bool = False  # 50055
    #: "" none, "required" (the user must pass MFA: 50076 where a flow cannot prompt), "register" (50079).
    mfa: str = ""
    #: Conditional Access: action → flows it applies to (see USER_FLOWS, CA_ACTIONS).
    conditional_access: dict[str, set[str]] = field(default_factory=dict)
    #: CA sign-in frequency in seconds: refresh tokens older than this since sign-in fail with 70043.
    sign_in_frequency: int | None = None
    #: Test/demo convenience: the emulated sign-in page submits itself when login_hint names this user.
    auto_approve: bool = False

    def ca_action(self, flow: str) -> str | None:
        """The Conditional Access action that applies to ``flow``, if any (block wins)."""
        for action in CA_ACTIONS:
            flows = self.conditional_access.get(action, set())
            if flow in flows or "all" in flows:
                return action
        return None


@dataclass
class Federation:
    """A domain whose users sign in at an on-premises IdP (emulated ADFS, WS-Trust 1.3)."""

    domain: str
    #: "saml1.1" (ADFS's default for WS-Trust) or "saml2.0".
    token_type: str = "saml1.1"
    #: False: user realm names the active endpoint but no MEX document (clients must guess the SOAP action).
    mex: bool = True


@dataclass
class Group:
    name: str
    object_id: str


@dataclass
class ManagedIdentity:
    """A managed identity: a service principal without credentials, reachable only from its host(s)."""

    name: str
    client_id: str
    object_id: str
    resource_id: str
    system_assigned: bool = False


@dataclass
class Host:
    """A machine that serves a managed identity endpoint: an Azure VM (IMDS), an App Service site, or an
    Arc-enabled server. The emulator gives each host its own plain-HTTP endpoint."""

    name: str
    kind: str  # one of HOST_KINDS
    resource_id: str
    system_identity: ManagedIdentity | None = None
    user_identities: list[ManagedIdentity] = field(default_factory=list)
    identity_header: str = ""  # App Service's IDENTITY_HEADER secret
    port: int = 0
    #: Azure Cloud Shell: its "managed identity" endpoint hands out tokens of the signed-in user (a UPN).
    user: str = ""

    def identities(self) -> list[ManagedIdentity]:
        return ([self.system_identity] if self.system_identity else []) + self.user_identities


@dataclass
class Tenant:
    id: str
    domains: list[str]
    display_name: str
    apps: list[App]
    users: list[User]
    groups: list[Group]
    resources: list[str]
    managed_identities: list[ManagedIdentity] = field(default_factory=list)  # user- and system-assigned
    hosts: list[Host] = field(default_factory=list)
    federations: list[Federation] = field(default_factory=list)

    def federation_for(self, upn: str) -> Federation | None:
        domain = upn.rpartition("@")[2].lower()
        return next((f for f in self.federations if f.domain.lower() == domain), None)

    def app_by_client_id(self, client_id: str) -> App | None:
        return next((a for a in self.apps if a.client_id.lower() == client_id.lower()), None)

    def user_by_upn(self, upn: str) -> User | None:
        return next((u for u in self.users if u.upn.lower() == upn.lower()), None)

    def group_by_ref(self, ref: str) -> Group | None:
        return next((g for g in self.groups if ref in (g.name, g.object_id)), None)

    def resource(self, name: str) -> tuple[str, str] | None:
        """(the resource, the token audience) that ``name`` asks for in this tenant, or None (AADSTS500011).

        A resource is found by its own name or by one of the aliases real Entra ID accepts for it (az asks
        for https://management.core.windows.net/, a scope may use an app id): every endpoint that issues
        tokens (the token endpoint, managed identity, Cloud Shell) answers the same names. A URL alias is the
        audience as asked, as Entra's v1 tokens carry it; an app id alias gets the canonical name."""
        wanted = name.rstrip("/").lower()
        known = next((r for r in self.resources if r.rstrip("/").lower() == wanted), None)
        if known is not None:
            return known, known
        return next(((canonical, alias if "://" in alias else canonical)
                     for canonical, aliases in RESOURCE_ALIASES.items() for alias in aliases
                     if alias.rstrip("/").lower() == wanted and canonical in self.resources), None)

    def managed_identity(self, ref: str) -> ManagedIdentity | None:
        """By name (a host's name for its system-assigned identity), client id or object id."""
        low = ref.lower()
        return next((m for m in self.managed_identities
                     if low in (m.name.lower(), m.client_id.lower(), m.object_id.lower())), None)


@dataclass
class Cluster:
    name: str
    tenant_id: str
    resource_group: str = "rg"
    subscription: str = "00000000-0000-0000-0000-000000000000"
    location: str = "eastus"
    server_id: str = AKS_SERVER_APP_ID
    #: "guid" accepts aud == server id, "spn" accepts aud == "spn:<server id>" (legacy AADv1 clusters).
    audience: str = "guid"
    namespaces: list[str] = field(default_factory=lambda: ["default", "kube-system", "kube-public"])
    pods: dict[str, list[str]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    cluster_roles: list[dict[str, Any]] = field(default_factory=list)
    role_bindings: list[dict[str, Any]] = field(default_factory=list)
    cluster_role_bindings: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    #: Managed Entra ID integration; without it user credentials are client certificates, as on AKS.
    aad: bool = True
    #: Local accounts disabled: no admin/monitoring (static) credentials; ARM answers 400.
    disable_local_accounts: bool = False
    #: Private API server: the kubeconfig points at the private FQDN unless server-fqdn=public is asked.
    private: bool = False
    kubernetes_version: str = "1.32.4"
    #: The static token AKS puts next to the admin client certificate.
    admin_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The name ARM reports. ``name`` is the emulator's key (URLs, request log) and must be unique;
    #: ``arm_name`` may repeat across resource groups and subscriptions, as real cluster names do.
    arm_name: str = ""
    #: An Azure Arc-enabled cluster (Microsoft.Kubernetes/connectedClusters): its API server accepts only
    #: proof-of-possession tokens (see emulator/arcguard.py); ARM does not list it as a managed cluster.
    arc: bool = False
    #: Azure RBAC for Kubernetes (``aadProfile.enableAzureRBAC``): Azure role assignments authorize first.
    azure_rbac: bool = False
    #: ARM tags (Resource Graph filters on them).
    tags: dict[str, str] = field(default_factory=dict)
    #: False: ARM and Resource Graph know the cluster but no API server runs for it (a generated estate of
    #: thousands); its kubeconfig names its FQDN, which nothing here serves.
    served: bool = True
    #: The AKS Fleet Manager fleet whose hub this cluster is: ARM knows it as
    #: ``Microsoft.ContainerService/fleets/<fleet>``, not as a managed cluster, and its Azure RBAC data actions
    #: are the fleet's.
    fleet: str = ""

    def __post_init__(self) -> None:
        self.arm_name = self.arm_name or self.name

    @property
    def arm_id(self) -> str:
        kind = ("Microsoft.Kubernetes/connectedClusters" if self.arc else FLEET_PROVIDER if self.fleet
                else "Microsoft.ContainerService/managedClusters")
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/{kind}/{self.fleet or self.arm_name}")

    @property
    def data_prefix(self) -> str:
        """What Azure RBAC data actions on this cluster start with (a fleet hub's are the fleet's)."""
        return FLEET_PROVIDER if self.fleet else ARM_DATA_PREFIX

    def accepted_audiences(self) -> set[str]:
        if self.audience == "spn":
            return {f"spn:{self.server_id}"}
        if self.audience == "both":
            return {self.server_id, f"spn:{self.server_id}"}
        return {self.server_id}


@dataclass
class Subscription:
    id: str
    display_name: str
    tenant_id: str
    #: The management group it sits in ("": its tenant's root group, whose id is the tenant id).
    management_group: str = ""


MG_PROVIDER = "/providers/Microsoft.Management/managementGroups"
FLEET_PROVIDER = "Microsoft.ContainerService/fleets"


@dataclass
class ManagementGroup:
    """A management group below a tenant's root group (the root's id is the tenant id, as in Azure)."""

    id: str
    display_name: str
    tenant_id: str
    parent: str = ""  # "": the tenant root group

    @property
    def arm_id(self) -> str:
        return f"{MG_PROVIDER}/{self.id}"


_READ_ASSIGNMENTS = frozenset({"Microsoft.Authorization/*/read"})
_USER_CREDENTIAL = frozenset({"Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"})
#: Azure built-in roles the emulated ARM knows, by short name, with their full names and actions.
ARM_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "reader": ("Reader", frozenset({"*/read"})),
    "contributor": ("Contributor", frozenset({"*"})),
    "owner": ("Owner", frozenset({"*"})),
    "cluster-user": ("Azure Kubernetes Service Cluster User Role", frozenset({
        "Microsoft.ContainerService/managedClusters/read",
        "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    })),
    "cluster-admin": ("Azure Kubernetes Service Cluster Admin Role", frozenset({
        "Microsoft.ContainerService/managedClusters/read",
        "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
    })),
    "cluster-monitoring-user": ("Azure Kubernetes Service Cluster Monitoring User", frozenset({
        "Microsoft.ContainerService/managedClusters/read",
        "Microsoft.ContainerService/managedClusters/listClusterMonitoringUserCredential/action",
    })),
    "user-access-admin": ("User Access Administrator", frozenset({"*/read", "Microsoft.Authorization/*"})),
    # Azure RBAC for Kubernetes: their control-plane actions here (Admin and Cluster Admin may also fetch the user
    # kubeconfig); their data actions, which the API server asks, in ARM_DATA_ACTIONS below.
    "aks-rbac-reader": ("Azure Kubernetes Service RBAC Reader", _READ_ASSIGNMENTS),
    "aks-rbac-writer": ("Azure Kubernetes Service RBAC Writer", _READ_ASSIGNMENTS),
    "aks-rbac-admin": ("Azure Kubernetes Service RBAC Admin", _READ_ASSIGNMENTS | _USER_CREDENTIAL),
    "aks-rbac-cluster-admin": ("Azure Kubernetes Service RBAC Cluster Admin", _READ_ASSIGNMENTS | _USER_CREDENTIAL),
    # AKS Fleet Manager: the hub's kubeconfig (fleets/listCredentials), and the hub's Azure RBAC roles.
    "fleet-hub-user": ("Azure Kubernetes Fleet Manager Hub Cluster User Role", frozenset({
        "Microsoft.ContainerService/fleets/read", "Microsoft.ContainerService/fleets/listCredentials/action"})),
    "fleet-rbac-reader": ("Azure Kubernetes Fleet Manager RBAC Reader", _READ_ASSIGNMENTS),
    "fleet-rbac-writer": ("Azure Kubernetes Fleet Manager RBAC Writer", _READ_ASSIGNMENTS),
    "fleet-rbac-admin": ("Azure Kubernetes Fleet Manager RBAC Admin", _READ_ASSIGNMENTS),
    "fleet-rbac-cluster-admin": ("Azure Kubernetes Fleet Manager RBAC Cluster Admin", _READ_ASSIGNMENTS),
}


#: What a built-in role's actions leave out: a Contributor may not assign roles (Owner and User Access
#: Administrator may).
ARM_NOT_ACTIONS: dict[str, frozenset[str]] = {
    "contributor": frozenset({"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                              "Microsoft.Authorization/elevateAccess/Action"}),
}
#: The built-in roles' definition names: the same GUIDs in every tenant and cloud.
ARM_ROLE_IDS: dict[str, str] = {
    "reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "user-access-admin": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "cluster-user": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "cluster-admin": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    "cluster-monitoring-user": "1afdec4b-e479-420e-99e7-f82237c7c5e6",
    "aks-rbac-reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "aks-rbac-writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "aks-rbac-admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "aks-rbac-cluster-admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}
#: The Fleet Manager roles' names are Azure's; their GUIDs are not in the references, so the emulator derives its
#: own (stable) ones: clients find roles by name, as `az role assignment create --role` does.
ARM_ROLE_IDS.update({key: str(uuid.uuid5(uuid.NAMESPACE_URL, f"akslogin-emulator-role:{key}"))
                     for key in ("fleet-hub-user", "fleet-rbac-reader", "fleet-rbac-writer", "fleet-rbac-admin",
                                 "fleet-rbac-cluster-admin")})


#: Azure RBAC for Kubernetes: the data actions of the built-in AKS RBAC roles, as Azure publishes them (Reader:
#: reads without Secrets; Writer: also writes workloads and Secrets, no RBAC objects; Admin: everything but
#: Namespaces and ResourceQuotas; Cluster Admin: everything). The API server asks them (emulator/aks/azurerbac.py).
ARM_DATA_PREFIX = "Microsoft.ContainerService/managedClusters"


def _data(*actions: str) -> frozenset[str]:
    return frozenset(f"{ARM_DATA_PREFIX}/{a}" for a in actions)


_READABLE = (
    "apps/controllerrevisions", "apps/daemonsets", "apps/deployments", "apps/replicasets", "apps/statefulsets",
    "autoscaling/horizontalpodautoscalers", "batch/cronjobs", "batch/jobs", "configmaps",
    "discovery.k8s.io/endpointslices", "endpoints", "events.k8s.io/events", "events", "extensions/daemonsets",
    "extensions/deployments", "extensions/ingresses", "extensions/networkpolicies", "extensions/replicasets",
    "limitranges", "metrics.k8s.io/pods", "metrics.k8s.io/nodes", "namespaces", "networking.k8s.io/ingresses",
    "networking.k8s.io/networkpolicies", "persistentvolumeclaims", "pods", "policy/poddisruptionbudgets",
    "replicationcontrollers", "resourcequotas", "serviceaccounts", "services",
)
_WRITABLE = (
    "apps/*", "autoscaling/*", "batch/*", "configmaps/*", "endpoints/*", "extensions/*", "networking.k8s.io/*",
    "persistentvolumeclaims/*", "pods/*", "policy/*", "replicationcontrollers/*", "secrets/*", "serviceaccounts/*",
    "services/*",
)
#: role key -> (data actions, not data actions)
ARM_DATA_ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "aks-rbac-reader": (_data(*(f"{r}/read" for r in _READABLE)), frozenset()),
    "aks-rbac-writer": (_data(*(f"{r}/read" for r in _READABLE), *_WRITABLE), frozenset()),
    "aks-rbac-admin": (_data("*"), _data("resourcequotas/write", "resourcequotas/delete", "namespaces/write",
                                         "namespaces/delete")),
    "aks-rbac-cluster-admin": (_data("*"), frozenset()),
}


def _on_fleet(actions: frozenset[str]) -> frozenset[str]:
    return frozenset(a.replace(ARM_DATA_PREFIX, FLEET_PROVIDER, 1) for a in actions)


#: The Fleet Manager RBAC roles grant on a hub what the AKS RBAC roles grant on a cluster, under the fleet's prefix.
ARM_DATA_ACTIONS.update({
    f"fleet-rbac-{level}": (_on_fleet(ARM_DATA_ACTIONS[f"aks-rbac-{level}"][0]),
                            _on_fleet(ARM_DATA_ACTIONS[f"aks-rbac-{level}"][1]))
    for level in ("reader", "writer", "admin", "cluster-admin")
})


@dataclass(frozen=True)
class RoleDefinition:
    """An Azure role: a built-in one (ARM_ROLES and the tables beside it) or a world's custom role."""

    key: str
    name: str
    guid: str
    actions: frozenset[str]
    not_actions: frozenset[str] = frozenset()
    data_actions: frozenset[str] = frozenset()
    not_data_actions: frozenset[str] = frozenset()
    custom: bool = False


def builtin_role(key: str) -> RoleDefinition | None:
    if key not in ARM_ROLES:
        return None
    name, actions = ARM_ROLES[key]
    data, not_data = ARM_DATA_ACTIONS.get(key, (frozenset(), frozenset()))
    return RoleDefinition(key, name, ARM_ROLE_IDS.get(key, ""), actions, ARM_NOT_ACTIONS.get(key, frozenset()),
                          data, not_data)


@dataclass
class RoleAssignment:
    """An Azure role assignment: ``principal_id`` (object id of an app, user or group) holds ``role`` on
    ``scope`` (an ARM id prefix: subscription, resource group or cluster)."""

    principal_id: str
    role: str  # key of ARM_ROLES
    scope: str
    #: When it was made (emulator clock); 0 for the world's own, in force from the start.
    created: float = 0.0
    #: Its name in ARM (a GUID), and what its creator said the principal is.
    name: str = field(default_factory=lambda: str(uuid.uuid4()))
    principal_type: str = ""
    created_by: str = ""

    def covers(self, resource_id: str) -> bool:
        scope = self.scope.rstrip("/").lower()
        target = resource_id.rstrip("/").lower()
        return target == scope or target.startswith(scope + "/")


@dataclass
class World:
    tenants: list[Tenant]
    clusters: list[Cluster]
    subscriptions: list[Subscription] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    #: Seconds before a new role assignment takes effect on an Azure RBAC cluster (Azure takes minutes).
    role_propagation_seconds: float = 0.0
    #: The world file's custom roles (arm_custom_roles), by key ("custom:<guid>").
    custom_roles: dict[str, RoleDefinition] = field(default_factory=dict)
    management_groups: list[ManagementGroup] = field(default_factory=list)
    #: Lookups a world of 10,000 subscriptions needs; rebuilt when the lists they index change length.
    _index: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def _indexed(self, name: str, items: list[Any], build: Any) -> Any:
        key = (id(items), len(items), id(items[-1]) if items else 0)  # a list changed in place is seen
        held = self._index.get(name)
        if held is None or held[0] != key:
            held = (key, build(items))
            self._index[name] = held
        return held[1]

    def management_group(self, mg_id: str) -> ManagementGroup | None:
        found: dict[str, ManagementGroup] = self._indexed(
            "mg", self.management_groups, lambda items: {m.id.lower(): m for m in items})
        return found.get(mg_id.lower())

    def groups_from(self, group_id: str, tenant_id: str) -> list[str]:
        """The ARM ids of management group ``group_id`` ("": the tenant's root group) and of every group above
        it, nearest first, the tenant's root group (whose id is the tenant id) last."""
        chain: list[str] = []
        current = group_id or tenant_id
        while len(chain) < 9:
            chain.append(f"{MG_PROVIDER}/{current}")
            if current.lower() == tenant_id.lower():
                return chain
            group = self.management_group(current)
            current = (group.parent if group is not None else "") or tenant_id
        return [*chain, f"{MG_PROVIDER}/{tenant_id}"]

    def group_chain(self, subscription: Subscription) -> list[str]:
        """The ARM ids of the management groups above ``subscription``, nearest first, its tenant's root last."""
        return self.groups_from(subscription.management_group, subscription.tenant_id)

    def scope_chain(self, resource_id: str) -> list[str]:
        """Every scope whose role assignments apply to ``resource_id`` (lower case): the id and each prefix of it,
        then, for a resource in a subscription, the management groups above that subscription."""
        parts = [p for p in resource_id.strip("/").split("/") if p]
        chain = ["/" + "/".join(parts[:n]).lower() for n in range(len(parts), 0, -1)]
        if resource_id.lower().startswith(MG_PROVIDER.lower() + "/") and len(parts) >= 4:
            group = self.management_group(parts[3])
            above = self.groups_from(parts[3], group.tenant_id) if group is not None else [f"{MG_PROVIDER}/{parts[3]}"]
            return [*(g.lower() for g in above), "/"]
        if len(parts) >= 2 and parts[0].lower() == "subscriptions":
            sub = self.subscription(parts[1])
            if sub is not None:
                chain = [c for c in chain if c.startswith("/subscriptions/")]
                chain += [g.lower() for g in self.group_chain(sub)]
        return [*chain, "/"]

    def assignments_of(self, principal_ids: frozenset[str] | set[str]) -> list[RoleAssignment]:
        """The role assignments held by any of ``principal_ids`` (an object id and its groups), in world order."""
        wanted = {p.lower() for p in principal_ids}
        return [a for a in self.role_assignments if a.principal_id.lower() in wanted]

    def assignment_applies(self, assignment: RoleAssignment, resource_id: str) -> bool:
        """Whether ``assignment`` reaches ``resource_id``: its scope is the id, a prefix of it, or a management
        group above the id's subscription."""
        return assignment.covers(resource_id) or assignment.scope.rstrip("/").lower() in self.scope_chain(resource_id)

    def role(self, key: str) -> RoleDefinition | None:
        return self.custom_roles.get(key) or builtin_role(key)

    def roles(self) -> list[RoleDefinition]:
        """Every role ARM can name: the built-in ones with a definition id, then the custom ones."""
        found = [r for r in (builtin_role(k) for k in ARM_ROLES) if r is not None and r.guid]
        return found + list(self.custom_roles.values())

    def subscription(self, sub_id: str) -> Subscription | None:
        found: dict[str, Subscription] = self._indexed(
            "subs", self.subscriptions, lambda items: {s.id.lower(): s for s in items})
        return found.get(sub_id.lower())

    def principal_groups(self, object_id: str) -> list[str]:
        """Group object ids of an app or user, looked up in the directory (not only the token)."""
        for tenant in self.tenants:
            members: list[App | User] = [*tenant.apps, *tenant.users]
            for member in members:
                if member.object_id == object_id:
                    return list(member.groups)
        return []

    def tenant_for_upn(self, upn: str) -> Tenant | None:
        """The tenant that owns ``upn``'s domain (verified or federated)."""
        domain = upn.rpartition("@")[2].lower()
        for t in self.tenants:
            if domain in (d.lower() for d in t.domains) or t.federation_for(upn) is not None:
                return t
        return None

    def tenant(self, ref: str) -> Tenant | None:
        """By GUID or any verified domain, case-insensitively."""
        ref = ref.lower()
        for t in self.tenants:
            if t.id.lower() == ref or ref in (d.lower() for d in t.domains):
                return t
        return None

    def cluster(self, name: str) -> Cluster:
        found: dict[str, Cluster] = self._indexed("clusters", self.clusters, lambda items: {c.name: c for c in items})
        return found[name]

    def clusters_in(self, sub_id: str) -> list[Cluster]:
        """The clusters of one subscription (ARM lists them per subscription)."""
        def build(items: list[Cluster]) -> dict[str, list[Cluster]]:
            by: dict[str, list[Cluster]] = {}
            for c in items:
                by.setdefault(c.subscription.lower(), []).append(c)
            return by
        by_sub: dict[str, list[Cluster]] = self._indexed("by_sub", self.clusters, build)
        return by_sub.get(sub_id.lower(), [])

    def host(self, name: str) -> tuple[Tenant, Host]:
        for t in self.tenants:
            for h in t.hosts:
                if h.name == name:
                    return t, h
        raise KeyError(name)
