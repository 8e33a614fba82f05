"""Reading a world file: YAML or JSON in, a checked :class:`~akslogin.emulator.world.World` out.

Every mistake in a world file is a :class:`~akslogin.emulator.world.WorldError` naming where it is
(``tenants[0].apps[2]``). Friendly references (``{app: ci-bot}``, ``{group: aks-viewers}``) in RBAC subjects are
resolved here to what AKS really puts in a binding: UPN for users, object id for service principals, managed
identities, guests and groups.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

from akslogin.emulator.world.model import (  # the model this module fills in
    AKS_CLIENT_APP_ID,
    AKS_SERVER_APP_ID,
    ARC_SERVER_APP_ID,
    ARM_RESOURCE,
    ARM_ROLES,
    AZURE_CLI_APP_ID,
    CA_ACTIONS,
    GRAPH_RESOURCE,
    HOST_KINDS,
    MG_PROVIDER,
    TOKEN_EXCHANGE_AUDIENCE,
    USER_FLOWS,
    App,
    Cluster,
    FederatedCredential,
    Federation,
    Group,
    Host,
    ManagedIdentity,
    ManagementGroup,
    RoleAssignment,
    RoleDefinition,
    Secret,
    Subscription,
    Tenant,
    TrustedSubject,
    User,
    World,
    WorldError,
)

#: Values a world file may expand to through YAML aliases: a hand-written world has a few thousand.
MAX_WORLD_VALUES = 1_000_000
#: Largest world file read (a generated estate of 10,000 subscriptions is a few MiB).
MAX_WORLD_BYTES = 64 << 20


def load_world(path: str | Path) -> World:
    """A world from a file; every mistake, a value of the wrong type included, is a WorldError naming the file."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            text = fh.read(MAX_WORLD_BYTES + 1).decode("utf-8")
    except OSError as exc:
        raise WorldError(f"cannot read world file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise WorldError(f"world file {path} is not UTF-8 text") from None
    if len(text) > MAX_WORLD_BYTES:
        raise WorldError(f"world file {path} is larger than {MAX_WORLD_BYTES >> 20} MiB")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:
        raise WorldError(f"world file {path} is not valid YAML/JSON: {str(exc)[:300]}") from None
    if _values(data, MAX_WORLD_VALUES) > MAX_WORLD_VALUES:
        raise WorldError(f"world file {path}: its YAML aliases expand to more than {MAX_WORLD_VALUES:,} values")
    try:
        return world_from_dict(data, base_dir=path.parent)
    except WorldError as exc:
        raise WorldError(f"world file {path}: {exc}") from None
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        # A value of the wrong type somewhere the checks above do not look (upn: 5, a list for a name, ...).
        raise WorldError(f"world file {path}: a value has the wrong type ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); check the entries against docs/emulator.md") from None


def packaged_world(name: str = "demo") -> World:
    """A world shipped in the wheel (``akslogin/emulator/worlds/<name>.yaml``): the demo's, and
    ``akslogin emulator``'s when no --world is given."""
    from importlib import resources

    text = resources.files("akslogin.emulator").joinpath(f"worlds/{name}.yaml").read_text(encoding="utf-8")
    return world_from_dict(yaml.safe_load(text))


def _values(data: Any, limit: int) -> int:
    """How many values ``data`` holds with every aliased part counted each time it is used (shared parts are
    measured once, so this is linear in the file); stops counting past ``limit``."""
    measured: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in measured:
            return measured[id(node)]
        if depth > 200:
            return limit + 1
        items = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for item in items:
            total += size(item, depth + 1)
            if total > limit:
                break
        measured[id(node)] = total
        return total

    return size(data, 0)


def world_from_dict(data: Any, base_dir: Path | None = None) -> World:
    if not isinstance(data, dict):
        raise WorldError("a world is a mapping with 'tenants' and 'clusters'")
    tenants = [_tenant(t, i, base_dir) for i, t in enumerate(_list(data, "tenants"))]
    if not tenants:
        raise WorldError("a world needs at least one tenant")
    world = World(tenants=tenants, clusters=[])
    world.clusters = [_cluster(c, i, world) for i, c in enumerate(_list(data, "clusters"))]
    world.management_groups = [_management_group(m, i, world) for i, m in enumerate(_list(data, "management_groups"))]
    world.subscriptions = [_subscription(s, i, world) for i, s in enumerate(_list(data, "subscriptions"))]
    for cluster in world.clusters:  # clusters may name subscriptions nobody declared: add them
        if world.subscription(cluster.subscription) is None:
            label = f"Subscription {cluster.subscription[:8]}"
            world.subscriptions.append(Subscription(cluster.subscription, label, cluster.tenant_id))
    for i, entry in enumerate(_list(data, "arm_custom_roles")):
        role = _custom_role(entry, i, world)
        world.custom_roles[role.key] = role
    world.role_assignments = [
        _role_assignment(a, i, world) for i, a in enumerate(_list(data, "arm_role_assignments"))
    ]
    delay = data.get("role_propagation_seconds", 0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise WorldError("role_propagation_seconds must be a number of seconds (0 or more)")
    world.role_propagation_seconds = float(delay)
    if data.get("estate") is not None:
        from akslogin.emulator.world.estate import generate

        generate(world, data["estate"])
    _check_unique(world)
    return world


def _check_unique(world: World) -> None:
    names: set[str] = set()
    arm_ids: set[str] = set()
    for cluster in world.clusters:
        if cluster.name in names:
            raise WorldError(f"two clusters are named {cluster.name!r}; give them distinct names and the same "
                             "arm_name if ARM should report the same name")
        if cluster.arm_id.lower() in arm_ids:
            raise WorldError(f"two clusters have the ARM id {cluster.arm_id}")
        names.add(cluster.name)
        arm_ids.add(cluster.arm_id.lower())
    groups = {m.id.lower() for m in world.management_groups} | {t.id.lower() for t in world.tenants}
    for sub in world.subscriptions:
        if sub.management_group and sub.management_group.lower() not in groups:
            raise WorldError(f"subscription {sub.id}: unknown management group {sub.management_group!r}")
    for group in world.management_groups:
        if group.parent and group.parent.lower() not in groups:
            raise WorldError(f"management group {group.id}: unknown parent {group.parent!r}")


def _management_group(m: Any, i: int, world: World) -> ManagementGroup:
    """``{id, display_name, tenant, parent}``: parent is another group's id (default: the tenant root group)."""
    where = f"management_groups[{i}]"
    group_id = str(_req(m, "id", where))
    tenant = _tenant_of(m, world, where)
    return ManagementGroup(group_id, str(m.get("display_name") or group_id), tenant.id, str(m.get("parent") or ""))


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
            federated_credentials=[_federated(f, f"{aw}.federated_credentials[{k}]")
                                   for k, f in enumerate(a.get("federated_credentials") or [])],
            trusted_certificate_subjects=[_trusted_subject(ts, base_dir, f"{aw}.trusted_certificate_subjects[{k}]")
                                          for k, ts in enumerate(a.get("trusted_certificate_subjects") or [])],
            consented=bool(a.get("consented", True)),
            assignment_required=bool(a.get("assignment_required", False)),
            assigned=[str(x) for x in a.get("assigned") or []],  # resolved once users exist
            redirect_uris=[str(u) for u in a.get("redirect_uris") or []],
            graph_read=bool(a.get("graph_read", False)),
        ))
    for well_known, name in ((AKS_CLIENT_APP_ID, "aks-client"), (AZURE_CLI_APP_ID, "azure-cli")):
        if not any(a.client_id == well_known for a in apps):
            apps.append(App(name=name, client_id=well_known, object_id=_new_id(), public_client=True))
    users = []
    for j, u in enumerate(_list(t, "users")):
        uw = f"{where}.users[{j}]"
        upn = _req(u, "upn", uw)
        if not isinstance(upn, str) or upn.count("@") != 1:
            raise WorldError(f"{uw}: upn must be text of the form name@domain, not {upn!r}")
        # A B2B guest's UPN in the resource tenant is <name>_<home domain>#EXT#@<tenant domain>.
        is_guest = "#EXT#" in upn.upper()
        if u.get("guest") and not is_guest:
            raise WorldError(f"{uw}: a guest's UPN has the form name_homedomain#EXT#@tenantdomain, not {upn!r}")
        users.append(User(
            upn=upn,
            object_id=str(u.get("object_id") or _new_id()),
            password=None if u.get("password") is None else str(u["password"]),
            display_name=str(u.get("display_name") or upn.split("@")[0]),
            groups=group_ids(u.get("groups"), uw),
            guest=is_guest,
            disabled=bool(u.get("disabled", False)),
            locked=bool(u.get("locked", False)),
            password_expired=bool(u.get("password_expired", False)),
            mfa=_choice(u.get("mfa") or "", ("", "required", "register"), f"{uw}.mfa"),
            conditional_access=_conditional_access(u.get("conditional_access"), uw),
            sign_in_frequency=None if u.get("sign_in_frequency") is None else int(u["sign_in_frequency"]),
            auto_approve=bool(u.get("auto_approve", False)),
        ))
    for app in apps:
        app.assigned = [_member_id(ref, users, groups, f"{where}.apps[{app.name}].assigned") for ref in app.assigned]
    federations = []
    for j, f in enumerate(_list(t, "federation")):
        fw = f"{where}.federation[{j}]"
        federations.append(Federation(
            domain=str(_req(f, "domain", fw)),
            token_type=_choice(str(f.get("token_type", "saml1.1")), ("saml1.1", "saml2.0"), f"{fw}.token_type"),
            mex=bool(f.get("mex", True)),
        ))
    domains = [str(d) for d in (t.get("domains") or [])]
    subscription = str(t.get("subscription", "00000000-0000-0000-0000-000000000000"))
    identities = [_user_assigned(m, subscription, f"{where}.managed_identities[{j}]")
                  for j, m in enumerate(_list(t, "managed_identities"))]
    hosts = []
    for j, h in enumerate(_list(t, "hosts")):
        host = _host(h, subscription, identities, f"{where}.hosts[{j}]")
        if host.system_identity is not None:
            identities.append(host.system_identity)
        hosts.append(host)
    return Tenant(
        id=tid,
        domains=domains,
        display_name=str(t.get("display_name") or (domains[0] if domains else tid)),
        apps=apps,
        users=users,
        groups=groups,
        resources=[AKS_SERVER_APP_ID, ARC_SERVER_APP_ID, ARM_RESOURCE, GRAPH_RESOURCE,
                   *[str(r) for r in t.get("resources") or []]],
        managed_identities=identities,
        hosts=hosts,
        federations=federations,
    )


def _federated(f: Any, where: str) -> FederatedCredential:
    issuer = str(_req(f, "issuer", where))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", issuer):
        raise WorldError(f"{where}: issuer names an issuer the emulator hosts (e.g. kubernetes, github, "
                         f"azure-pipelines), not a URL: {issuer!r}")
    audiences = f.get("audiences") or [TOKEN_EXCHANGE_AUDIENCE]
    if not isinstance(audiences, list):
        raise WorldError(f"{where}: audiences must be a list")
    return FederatedCredential(name=str(f.get("name") or issuer), issuer=issuer,
                               subject=str(_req(f, "subject", where)), audiences=[str(a) for a in audiences])


def _trusted_subject(ts: Any, base_dir: Path | None, where: str) -> TrustedSubject:
    subject = str(_req(ts, "subject", where))
    ref = str(_req(ts, "issuer_ca", where))
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        pem = ref.encode() if "-----BEGIN CERTIFICATE-----" in ref else path.read_bytes()
        issuers = x509.load_pem_x509_certificates(pem)
    except OSError as exc:
        raise WorldError(f"{where}: cannot read issuer_ca {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise WorldError(f"{where}: issuer_ca is not a PEM certificate bundle: {exc}") from None
    return TrustedSubject(subject=subject, issuers=issuers)


def _identity_resource_id(subscription: str, resource_group: str, arm_type: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourcegroups/{resource_group}/providers/{arm_type}/{name}"


def _user_assigned(m: Any, subscription: str, where: str) -> ManagedIdentity:
    name = str(_req(m, "name", where))
    rg = str(m.get("resource_group", "rg"))
    return ManagedIdentity(
        name=name,
        client_id=str(m.get("client_id") or _new_id()),
        object_id=str(m.get("object_id") or _new_id()),
        resource_id=str(m.get("resource_id") or _identity_resource_id(
            subscription, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name)),
    )


def _host(h: Any, subscription: str, identities: list[ManagedIdentity], where: str) -> Host:
    name = str(_req(h, "name", where))
    kind = str(h.get("kind", "vm"))
    if kind not in HOST_KINDS:
        raise WorldError(f"{where}: kind must be one of {', '.join(HOST_KINDS)}, not {kind!r}")
    resource_id = str(h.get("resource_id") or _identity_resource_id(
        subscription, str(h.get("resource_group", "rg")), HOST_KINDS[kind], name))
    system = None
    spec = h.get("system_identity")
    if spec:
        spec = spec if isinstance(spec, dict) else {}
        system = ManagedIdentity(name=name, client_id=str(spec.get("client_id") or _new_id()),
                                 object_id=str(spec.get("object_id") or _new_id()), resource_id=resource_id,
                                 system_assigned=True)
    users = []
    for ref in h.get("user_identities") or []:
        found = next((m for m in identities if str(ref) in (m.name, m.client_id)), None)
        if found is None:
            raise WorldError(f"{where}: unknown user-assigned identity {ref!r} (declare it in managed_identities)")
        users.append(found)
    user = str(h.get("user") or "")
    if kind == "cloudshell" and (not user or system or users):
        raise WorldError(f"{where}: a cloudshell host names the signed-in user (user: <upn>) and no identities")
    return Host(name=name, kind=kind, resource_id=resource_id, system_identity=system, user_identities=users,
                identity_header=str(h.get("identity_header") or _new_id()), port=_port(h.get("port", 0), where),
                user=user)


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    text = str(value)
    if text not in allowed:
        raise WorldError(f"{where}: must be one of {', '.join(repr(a) for a in allowed)}, not {text!r}")
    return text


def _conditional_access(value: Any, where: str) -> dict[str, set[str]]:
    """``block`` (every flow), or a mapping action → list of flows."""
    if value in (None, "", {}):
        return {}
    if value == "block":
        return {"block": {"all"}}
    if not isinstance(value, dict):
        raise WorldError(f"{where}.conditional_access: 'block' or a mapping of {'/'.join(CA_ACTIONS)} to flows")
    out: dict[str, set[str]] = {}
    for action, flows in value.items():
        _choice(action, CA_ACTIONS, f"{where}.conditional_access")
        names = [flows] if isinstance(flows, str) else list(flows or [])
        for name in names:
            _choice(name, (*USER_FLOWS, "all"), f"{where}.conditional_access.{action}")
        out[str(action)] = {str(n) for n in names}
    return out


def _member_id(ref: str, users: list[User], groups: list[Group], where: str) -> str:
    user = next((u for u in users if ref.lower() in (u.upn.lower(), u.object_id.lower())), None)
    if user is not None:
        return user.object_id
    group = next((g for g in groups if ref in (g.name, g.object_id)), None)
    if group is None:
        raise WorldError(f"{where}: unknown user or group {ref!r}")
    return group.object_id


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
    if "managed_identity" in s:
        identity = tenant.managed_identity(str(s["managed_identity"]))
        if identity is None:
            raise WorldError(f"{where}: unknown managed identity {s['managed_identity']!r}")
        return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": identity.object_id}
    if "group" in s:
        group = tenant.group_by_ref(str(s["group"]))
        if group is None:
            raise WorldError(f"{where}: unknown group {s['group']!r}")
        return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group.object_id}
    raise WorldError(f"{where}: a subject needs kind+name, or one of user/app/managed_identity/group")


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


def _tenant_of(entry: Any, world: World, where: str) -> Tenant:
    """The tenant an entry names (``tenant``: id or domain), the world's first when it names none."""
    ref = str(entry.get("tenant") or world.tenants[0].id)
    tenant = world.tenant(ref)
    if tenant is None:
        raise WorldError(f"{where}: unknown tenant {ref!r}")
    return tenant


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise WorldError(f"{where}: port must be a number from 1 to 65535 (or 0 for a free one), not {value!r}")
    return value


def _cluster(c: Any, i: int, world: World) -> Cluster:
    where = f"clusters[{i}]"
    name = str(_req(c, "name", where))
    tenant = _tenant_of(c, world, where)
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
        server_id=str(c.get("server_id", ARC_SERVER_APP_ID if c.get("arc") else AKS_SERVER_APP_ID)),
        audience=audience,
        namespaces=namespaces,
        pods=pods,
        roles=list(rbac.get("roles") or []),
        cluster_roles=list(rbac.get("clusterRoles") or []),
        role_bindings=role_bindings,
        cluster_role_bindings=cluster_role_bindings,
        port=_port(c.get("port", 0), where),
        aad=bool(c.get("aad", True)),
        disable_local_accounts=bool(c.get("disable_local_accounts", False)),
        private=bool(c.get("private", False)),
        kubernetes_version=str(c.get("kubernetes_version", "1.32.4")),
        arm_name=str(c.get("arm_name") or name),
        arc=bool(c.get("arc", False)),
        # A fleet's hub authorizes with Azure RBAC (the Fleet Manager RBAC roles), always.
        azure_rbac=bool(c.get("azure_rbac", False) or c.get("fleet")),
        tags=_tags(c.get("tags"), where),
        served=bool(c.get("served", True)),
        fleet=str(c.get("fleet") or ""),
    )


def _tags(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WorldError(f"{where}: tags is a mapping of names to values")
    return {str(k): str(v) for k, v in value.items()}


def _subscription(s: Any, i: int, world: World) -> Subscription:
    where = f"subscriptions[{i}]"
    sub_id = str(_req(s, "id", where))
    tenant = _tenant_of(s, world, where)
    return Subscription(sub_id, str(s.get("display_name") or f"Subscription {sub_id[:8]}"), tenant.id,
                        str(s.get("management_group") or ""))


def _arm_principal_id(p: Any, where: str, world: World) -> str:
    if not isinstance(p, dict) or len(p) != 1:
        raise WorldError(f"{where}: principal is one of {{app: ...}}, {{user: ...}}, {{group: ...}}, "
                         "{managed_identity: ...}, {object_id: ...}")
    kind, ref = next(iter(p.items()))
    ref = str(ref)
    if kind == "object_id":
        return ref
    for tenant in world.tenants:
        if kind == "app":
            app = next((a for a in tenant.apps if ref in (a.name, a.client_id)), None)
            if app is not None:
                return app.object_id
        elif kind == "user":
            user = tenant.user_by_upn(ref)
            if user is not None:
                return user.object_id
        elif kind == "group":
            group = tenant.group_by_ref(ref)
            if group is not None:
                return group.object_id
        elif kind == "managed_identity":
            identity = tenant.managed_identity(ref)
            if identity is not None:
                return identity.object_id
        else:
            raise WorldError(f"{where}: unknown principal kind {kind!r}")
    raise WorldError(f"{where}: unknown {kind} {ref!r}")


def _role_key(role: str, where: str, world: World) -> str:
    for key, (full_name, _) in ARM_ROLES.items():
        if role.lower() in (key, full_name.lower()):
            return key
    for key, custom in world.custom_roles.items():
        if role.lower() in (key, custom.name.lower(), custom.guid.lower()):
            return key
    raise WorldError(f"{where}: unknown role {role!r}; use one of " + ", ".join(ARM_ROLES)
                     + " or a custom role of arm_custom_roles")


def _custom_role(c: Any, i: int, world: World) -> RoleDefinition:
    """``{name, id (a GUID, optional), actions: [], data_actions: [], not_data_actions: []}``: e.g. a role that
    reads a CRD's objects on an Azure RBAC cluster
    (``Microsoft.ContainerService/managedClusters/<group>/<resource>/read``)."""
    where = f"arm_custom_roles[{i}]"
    name = str(_req(c, "name", where))
    guid = str(c.get("id") or uuid.uuid5(uuid.NAMESPACE_URL, f"akslogin-emulator-role:{name}"))
    try:
        uuid.UUID(guid)
    except ValueError:
        raise WorldError(f"{where}: id must be a GUID, not {guid!r}") from None
    if any(r.name.lower() == name.lower() for r in world.roles()):
        raise WorldError(f"{where}: a role named {name!r} exists already")

    def actions(field_name: str) -> frozenset[str]:
        values = c.get(field_name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise WorldError(f"{where}: {field_name} must be a list of action strings")
        return frozenset(values)

    return RoleDefinition(f"custom:{guid.lower()}", name, guid.lower(), actions("actions"), actions("not_actions"),
                          actions("data_actions"), actions("not_data_actions"), custom=True)


def _scope(scope: Any, where: str, world: World) -> str:
    if isinstance(scope, str) and (scope.startswith("/subscriptions/") or scope.lower().startswith(
            MG_PROVIDER.lower() + "/")):
        return scope
    if isinstance(scope, dict):
        if "management_group" in scope:
            return f"{MG_PROVIDER}/{scope['management_group']}"
        if "cluster" in scope:
            try:
                cluster_id = world.cluster(str(scope["cluster"])).arm_id
            except KeyError:
                raise WorldError(f"{where}: unknown cluster {scope['cluster']!r}") from None
            namespace = scope.get("namespace")
            return f"{cluster_id}/namespaces/{namespace}" if namespace else cluster_id
        if "subscription" in scope:
            base = f"/subscriptions/{scope['subscription']}"
            return base + (f"/resourceGroups/{scope['resource_group']}" if "resource_group" in scope else "")
    raise WorldError(f"{where}: scope is an ARM id (/subscriptions/... or {MG_PROVIDER}/...) or "
                     "{cluster: name[, namespace: ns]} or {subscription: id[, resource_group: rg]} or "
                     "{management_group: id}")


def _role_assignment(a: Any, i: int, world: World) -> RoleAssignment:
    where = f"arm_role_assignments[{i}]"
    return RoleAssignment(
        principal_id=_arm_principal_id(_req(a, "principal", where), where, world),
        role=_role_key(str(_req(a, "role", where)), where, world),
        scope=_scope(_req(a, "scope", where), where, world),
    )
