"""The declarative "world" the emulator serves: tenants, apps, users, groups, clusters and RBAC.

A world file is YAML or JSON. Friendly references (``{app: ci-bot}``, ``{group: aks-viewers}``) in RBAC
subjects are resolved here to what AKS really puts in a binding: UPN for users, object id for service
principals, managed identities, guests and groups.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_CLIENT_APP_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ARM_RESOURCE = "https://management.azure.com/"
GRAPH_RESOURCE = "https://graph.microsoft.com/"


class WorldError(ValueError):
    """The world file is malformed; the message names the offending entry."""


@dataclass
class Secret:
    value: str
    expires: float | None = None  # epoch seconds; None = never


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
    federated_credentials: list[dict[str, Any]] = field(default_factory=list)
    #: Holds Graph's application permission to read the directory (Application.Read.All / Directory.Read.All).
    graph_read: bool = False


@dataclass
class User:
    upn: str
    object_id: str
    password: str | None = None
    display_name: str = ""
    groups: list[str] = field(default_factory=list)  # group object ids
    guest: bool = False


@dataclass
class Group:
    name: str
    object_id: str


@dataclass
class Tenant:
    id: str
    domains: list[str]
    display_name: str
    apps: list[App]
    users: list[User]
    groups: list[Group]
    resources: list[str]

    def app_by_client_id(self, client_id: str) -> App | None:
        return next((a for a in self.apps if a.client_id.lower() == client_id.lower()), None)

    def user_by_upn(self, upn: str) -> User | None:
        return next((u for u in self.users if u.upn.lower() == upn.lower()), None)

    def group_by_ref(self, ref: str) -> Group | None:
        return next((g for g in self.groups if ref in (g.name, g.object_id)), None)


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

    def accepted_audiences(self) -> set[str]:
        if self.audience == "spn":
            return {f"spn:{self.server_id}"}
        if self.audience == "both":
            return {self.server_id, f"spn:{self.server_id}"}
        return {self.server_id}


@dataclass
class World:
    tenants: list[Tenant]
    clusters: list[Cluster]

    def tenant(self, ref: str) -> Tenant | None:
        """By GUID or any verified domain, case-insensitively."""
        ref = ref.lower()
        for t in self.tenants:
            if t.id.lower() == ref or ref in (d.lower() for d in t.domains):
                return t
        return None

    def cluster(self, name: str) -> Cluster:
        for c in self.clusters:
            if c.name == name:
                return c
        raise KeyError(name)

    @classmethod
    def load(cls, path: str | Path) -> World:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise WorldError(f"cannot read world file {path}: {exc.strerror}") from None
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise WorldError(f"world file {path} is not valid YAML/JSON: {exc}") from None
        return cls.from_dict(data, base_dir=path.parent)

    @classmethod
    def from_dict(cls, data: Any, base_dir: Path | None = None) -> World:
        if not isinstance(data, dict):
            raise WorldError("a world is a mapping with 'tenants' and 'clusters'")
        tenants = [_tenant(t, i, base_dir) for i, t in enumerate(_list(data, "tenants"))]
        if not tenants:
            raise WorldError("a world needs at least one tenant")
        world = cls(tenants=tenants, clusters=[])
        world.clusters = [_cluster(c, i, world) for i, c in enumerate(_list(data, "clusters"))]
        return world


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise WorldError(f"'{key}' must be a list")
    return value


def _req(entry: Any, key: str, where: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise WorldError(f"{where}: missing '{key}'")
    return entry[key]


def _new_id() -> str:
    return str(uuid.uuid4())


def _load_cert(ref: str, base_dir: Path | None, where: str) -> x509.Certificate:
    if "-----BEGIN CERTIFICATE-----" in ref:
        pem = ref.encode()
    else:
        path = Path(ref)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise WorldError(f"{where}: cannot read certificate {path}: {exc.strerror}") from None
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise WorldError(f"{where}: not a PEM certificate: {exc}") from None


def _tenant(t: Any, i: int, base_dir: Path | None) -> Tenant:
    where = f"tenants[{i}]"
    tid = str(_req(t, "id", where))
    groups = [
        Group(name=str(_req(g, "name", f"{where}.groups[{j}]")), object_id=str(g.get("object_id") or _new_id()))
        for j, g in enumerate(_list(t, "groups"))
    ]

    def group_ids(refs: Any, owner: str) -> list[str]:
        out = []
        for ref in refs or []:
            group = next((g for g in groups if str(ref) in (g.name, g.object_id)), None)
            if group is None:
                raise WorldError(f"{owner}: unknown group {ref!r}")
            out.append(group.object_id)
        return out

    apps = []
    for j, a in enumerate(_list(t, "apps")):
        aw = f"{where}.apps[{j}]"
        secrets = []
        for s in a.get("secrets") or []:
            if isinstance(s, dict):
                secrets.append(Secret(str(_req(s, "value", aw)), s.get("expires")))
            else:
                secrets.append(Secret(str(s)))
        apps.append(App(
            name=str(_req(a, "name", aw)),
            client_id=str(a.get("client_id") or _new_id()),
            object_id=str(a.get("object_id") or _new_id()),
            secrets=secrets,
            certificates=[_load_cert(str(c), base_dir, aw) for c in a.get("certificates") or []],
            public_client=bool(a.get("public_client", False)),
            groups=group_ids(a.get("groups"), aw),
            federated_credentials=list(a.get("federated_credentials") or []),
            graph_read=bool(a.get("graph_read", False)),
        ))
    for well_known, name in ((AKS_CLIENT_APP_ID, "aks-client"), (AZURE_CLI_APP_ID, "azure-cli")):
        if not any(a.client_id == well_known for a in apps):
            apps.append(App(name=name, client_id=well_known, object_id=_new_id(), public_client=True))
    users = []
    for j, u in enumerate(_list(t, "users")):
        uw = f"{where}.users[{j}]"
        upn = str(_req(u, "upn", uw))
        # A B2B guest's UPN in the resource tenant is <name>_<home domain>#EXT#@<tenant domain>.
        is_guest = "#EXT#" in upn.upper()
        if u.get("guest") and not is_guest:
            raise WorldError(f"{uw}: a guest's UPN has the form name_homedomain#EXT#@tenantdomain, not {upn!r}")
        users.append(User(
            upn=str(_req(u, "upn", uw)),
            object_id=str(u.get("object_id") or _new_id()),
            password=None if u.get("password") is None else str(u["password"]),
            display_name=str(u.get("display_name") or u["upn"].split("@")[0]),
            groups=group_ids(u.get("groups"), uw),
            guest=is_guest,
        ))
    domains = [str(d) for d in (t.get("domains") or [])]
    return Tenant(
        id=tid,
        domains=domains,
        display_name=str(t.get("display_name") or (domains[0] if domains else tid)),
        apps=apps,
        users=users,
        groups=groups,
        resources=[AKS_SERVER_APP_ID, ARM_RESOURCE, GRAPH_RESOURCE, *[str(r) for r in t.get("resources") or []]],
    )


def _subject(s: Any, where: str, tenant: Tenant) -> dict[str, str]:
    """Resolve a binding subject to the Kubernetes form AKS uses."""
    if not isinstance(s, dict):
        raise WorldError(f"{where}: a subject is a mapping")
    if "kind" in s:
        kind = str(s["kind"])
        if kind not in ("User", "Group"):
            raise WorldError(f"{where}: subject kind must be User or Group, not {kind!r}")
        return {"kind": kind, "apiGroup": "rbac.authorization.k8s.io", "name": str(_req(s, "name", where))}
    if "user" in s:
        user = tenant.user_by_upn(str(s["user"]))
        if user is None:
            raise WorldError(f"{where}: unknown user {s['user']!r}")
        # Guests appear to AKS under their object id, members under their UPN.
        name = user.object_id if user.guest else user.upn
        return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}
    if "app" in s:
        app = next((a for a in tenant.apps if str(s["app"]) in (a.name, a.client_id)), None)
        if app is None:
            raise WorldError(f"{where}: unknown app {s['app']!r}")
        return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": app.object_id}
    if "group" in s:
        group = tenant.group_by_ref(str(s["group"]))
        if group is None:
            raise WorldError(f"{where}: unknown group {s['group']!r}")
        return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group.object_id}
    raise WorldError(f"{where}: a subject needs kind+name, or one of user/app/group")


def _binding(b: Any, where: str, tenant: Tenant, namespaced: bool) -> dict[str, Any]:
    if not isinstance(b, dict):
        raise WorldError(f"{where}: a binding is a mapping")
    role_ref = b.get("roleRef")
    if role_ref is None:
        role_name = str(_req(b, "role", where))
        role_ref = {"kind": str(b.get("roleKind", "ClusterRole")), "name": role_name}
    out: dict[str, Any] = {
        "metadata": {"name": str(b.get("name") or f"{role_ref['name']}-binding")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_ref["kind"], "name": role_ref["name"]},
        "subjects": [_subject(s, f"{where}.subjects[{k}]", tenant) for k, s in enumerate(b.get("subjects") or [])],
    }
    if namespaced:
        out["metadata"]["namespace"] = str(_req(b, "namespace", where))
    return out


def _cluster(c: Any, i: int, world: World) -> Cluster:
    where = f"clusters[{i}]"
    name = str(_req(c, "name", where))
    tenant_ref = str(c.get("tenant") or world.tenants[0].id)
    tenant = world.tenant(tenant_ref)
    if tenant is None:
        raise WorldError(f"{where}: unknown tenant {tenant_ref!r}")
    rbac = c.get("rbac") or {}
    role_bindings: list[dict[str, Any]] = []
    cluster_role_bindings: list[dict[str, Any]] = []
    for k, b in enumerate(rbac.get("bindings") or []):
        namespaced = isinstance(b, dict) and b.get("namespace") is not None
        target = role_bindings if namespaced else cluster_role_bindings
        target.append(_binding(b, f"{where}.rbac.bindings[{k}]", tenant, namespaced))
    namespaces = [str(n) for n in c.get("namespaces") or ["default", "kube-system", "kube-public"]]
    pods = {str(ns): [str(p) for p in names] for ns, names in (c.get("pods") or {}).items()}
    for ns in pods:
        if ns not in namespaces:
            namespaces.append(ns)
    audience = str(c.get("audience", "guid"))
    if audience not in ("guid", "spn", "both"):
        raise WorldError(f"{where}: audience must be guid, spn or both")
    return Cluster(
        name=name,
        tenant_id=tenant.id,
        resource_group=str(c.get("resource_group", "rg")),
        subscription=str(c.get("subscription", "00000000-0000-0000-0000-000000000000")),
        location=str(c.get("location", "eastus")),
        server_id=str(c.get("server_id", AKS_SERVER_APP_ID)),
        audience=audience,
        namespaces=namespaces,
        pods=pods,
        roles=list(rbac.get("roles") or []),
        cluster_roles=list(rbac.get("clusterRoles") or []),
        role_bindings=role_bindings,
        cluster_role_bindings=cluster_role_bindings,
        port=int(c.get("port", 0)),
    )
