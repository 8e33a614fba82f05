"""The world behind the whoami / explain-forbidden / rbac / doctor tests, and helpers to build kubeconfigs for it.

Each test module starts its own emulator on this world (module scope), so RBAC writes made by one module
never leak into another, and the session world of conftest.py is left alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID, world_from_dict
from support.run import akslogin_bin, clean_env

TENANT = "3f1c2b4a-0000-4000-8000-00000000a001"
OTHER_TENANT = "3f1c2b4a-0000-4000-8000-00000000b002"
CUSTOM_SERVER_ID = "c0ffee00-0000-4000-8000-00000000c0de"
DEVS = "6d6d6d6d-0000-4000-8000-000000000001"
BULK = [f"6b6b6b6b-0000-4000-8000-{i:012d}" for i in range(250)]
GUEST_UPN = "erin_fabrikam.example#EXT#@contoso.example"


@dataclass(frozen=True)
class App:
    name: str
    client_id: str
    object_id: str
    secret: str


def _app(n: int, name: str) -> App:
    return App(name, f"aaaa5555-0000-4000-8000-{n:012d}", f"0b5b0b5b-0000-4000-8000-{n:012d}", f"{name}-secret-~{n}x")


APPS = {
    "viewer": _app(1, "viewer-bot"),
    "nobody": _app(2, "nobody-bot"),
    "admin": _app(3, "rbac-admin"),
    "reader": _app(4, "rbac-reader-bot"),
    "nsadmin": _app(5, "ns-admin-bot"),
    "overage": _app(6, "overage-bot"),
    "graphless": _app(7, "graphless-bot"),
}
FOREIGN = App("foreign-bot", "aaaa5555-0000-4000-8000-0000000000ff", "0b5b0b5b-0000-4000-8000-0000000000ff",
              "foreign-secret-~ff")
USERS = {
    "dana": ("dana@contoso.example", "5e5e5e5e-0000-4000-8000-000000000001"),
    "erin": (GUEST_UPN, "5e5e5e5e-0000-4000-8000-000000000002"),
    "olga": ("olga@contoso.example", "5e5e5e5e-0000-4000-8000-000000000003"),
}


def world_spec() -> dict[str, Any]:
    def app_entry(a: App, **extra: Any) -> dict[str, Any]:
        return {"name": a.name, "client_id": a.client_id, "object_id": a.object_id, "secrets": [a.secret], **extra}

    return {
        "tenants": [
            {
                "id": TENANT,
                "domains": ["contoso.example"],
                "resources": [CUSTOM_SERVER_ID],
                "groups": [{"name": "aks-devs", "object_id": DEVS},
                           *[{"name": f"bulk-{i:03d}", "object_id": oid} for i, oid in enumerate(BULK)]],
                "apps": [
                    app_entry(APPS["viewer"]),
                    app_entry(APPS["nobody"]),
                    app_entry(APPS["admin"], graph_read=True),
                    app_entry(APPS["reader"], groups=["aks-devs"]),
                    app_entry(APPS["nsadmin"]),
                    app_entry(APPS["overage"], groups=["aks-devs", *BULK]),
                    app_entry(APPS["graphless"]),
                ],
                "users": [
                    {"upn": USERS["dana"][0], "object_id": USERS["dana"][1], "groups": ["aks-devs"]},
                    {"upn": USERS["erin"][0], "object_id": USERS["erin"][1], "guest": True,
                     "display_name": "Erin Guest"},
                    {"upn": USERS["olga"][0], "object_id": USERS["olga"][1], "groups": ["aks-devs", *BULK]},
                ],
            },
            {"id": OTHER_TENANT, "domains": ["fabrikam.example"], "apps": [app_entry(FOREIGN)]},
        ],
        "clusters": [
            {
                "name": "aks1",
                "tenant": TENANT,
                "namespaces": ["default", "dev", "kube-system"],
                "pods": {"default": ["web-1"], "dev": ["api-1", "api-2"]},
                "rbac": {
                    "clusterRoles": [{"metadata": {"name": "rbac-reader"}, "rules": [
                        {"apiGroups": ["rbac.authorization.k8s.io"],
                         "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
                         "verbs": ["get", "list", "watch"]}]}],
                    "bindings": [
                        {"name": "viewer-bot-view", "role": "view", "subjects": [{"app": "viewer-bot"}]},
                        {"name": "rbac-admin", "role": "cluster-admin", "subjects": [{"app": "rbac-admin"}]},
                        {"name": "rbac-readers", "role": "rbac-reader", "subjects": [{"app": "rbac-reader-bot"}]},
                        {"name": "reader-dev-view", "role": "view", "namespace": "dev",
                         "subjects": [{"app": "rbac-reader-bot"}]},
                        {"name": "ns-admin", "role": "admin", "namespace": "dev",
                         "subjects": [{"app": "ns-admin-bot"}]},
                        {"name": "devs-edit", "role": "edit", "namespace": "dev", "subjects": [{"group": "aks-devs"}]},
                        {"name": "guest-view", "role": "view", "subjects": [{"user": GUEST_UPN}]},
                    ],
                },
            },
            {"name": "aks-other", "tenant": OTHER_TENANT,
             "rbac": {"bindings": [{"name": "v", "role": "view", "subjects": [{"app": "foreign-bot"}]}]}},
        ],
    }


def start(tmp_path_factory: Any) -> Iterator[Emulator]:
    with Emulator(world_from_dict(world_spec()), tmp_path_factory.mktemp("emu5")) as emu:
        yield emu


def exec_args(emu: Emulator, app: App, cache: Path, *, tenant: str = TENANT, server_id: str = AKS_SERVER_APP_ID,
              authority: str | None = None, ca: bool = True) -> list[str]:
    args = ["get-token", "--login", "spn", "--server-id", server_id, "--tenant-id", tenant,
            "--client-id", app.client_id, "--authority-host", authority or emu.authority_host,
            "--cache-dir", str(cache)]
    if ca:
        args += ["--certificate-authority", str(emu.ca_path)]
    return args


def kubeconfig(path: Path, emu: Emulator, cluster: str = "aks1", *, user: dict[str, Any] | None = None,
               app: App | None = None, secret: str | None = None, args: list[str] | None = None,
               command: str | None = None, cluster_entry: dict[str, Any] | None = None,
               namespace: str | None = None, context: str = "ctx") -> Path:
    """A one-context kubeconfig for ``cluster``: an akslogin spn exec user for ``app`` unless ``user`` is given."""
    if user is None:
        assert app is not None
        env = [{"name": "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "value": secret if secret is not None else app.secret}]
        user = {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": command or akslogin_bin(),
            "args": args if args is not None else exec_args(emu, app, path.parent / "cache"),
            "env": env if secret != "" else None, "interactiveMode": "Never", "provideClusterInfo": False,
        }}
    ctx: dict[str, Any] = {"cluster": cluster, "user": "u"}
    if namespace:
        ctx["namespace"] = namespace
    cfg = {
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [cluster_entry or emu.kubeconfig_cluster(cluster)],
        "contexts": [{"name": context, "context": ctx}],
        "users": [{"name": "u", "user": user}],
    }
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


def user_token(emu: Emulator, who: str, *, audience: str = AKS_SERVER_APP_ID, lifetime: int = 3600) -> str:
    """An access token for a world user, minted as the emulated Entra ID would for the AKS client app."""
    upn, oid = USERS[who]
    tenant = emu.world.tenant(TENANT)
    assert tenant is not None
    user = tenant.user_by_upn(upn)
    assert user is not None
    return emu.issuer.access_token(tenant_id=TENANT, audience=audience, lifetime=lifetime, subject_oid=oid,
                                   app_id=AKS_CLIENT_APP_ID, app_only=False, upn=upn, name=user.display_name,
                                   groups=user.groups)


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(tmp_path, **extra)


class Streams:
    """stdout/stderr for in-process runs."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()

    @property
    def stdout(self) -> str:
        return self.out.getvalue()

    @property
    def stderr(self) -> str:
        return self.err.getvalue()


def client_cert(cn: str, orgs: tuple[str, ...] = (), days: float = 365, issuer_key: Any = None) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for a kubeconfig client certificate; negative ``days`` gives an expired one."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key

    key = new_rsa_key()
    now = dt.datetime.now(dt.timezone.utc)
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    start_at = now - dt.timedelta(days=400) if days < 0 else now - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start_at)
            .not_valid_after(now + dt.timedelta(days=days))
            .sign(issuer_key or key, hashes.SHA256()))
    return cert_pem(cert), key_pem(key)


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def flat(text: str) -> str:
    """Text with line wrapping undone, so assertions do not depend on where paragraphs break."""
    return " ".join(text.split())
