"""Who exists in the test worlds: tenant ids, domains, apps and users the fixtures build the emulator from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed

TENANT_ID = "11111111-2222-4333-8444-555555555555"


TENANT_DOMAIN = "contoso.example"


OTHER_TENANT_ID = "99999999-8888-4777-8666-555555555555"


@dataclass
class AppInfo:
    name: str
    client_id: str
    object_id: str
    secret: str | None = None
    pem_path: Path | None = None  # certificate + key
    pfx_path: Path | None = None
    pfx_password: str | None = None
    key_pem: bytes = b""
    cert_pem: bytes = b""


@dataclass
class WorldInfo:
    apps: dict[str, AppInfo] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


def _make_cert_app(directory: Path, name: str, client_id: str, object_id: str) -> AppInfo:
    key = new_rsa_key()
    cert = self_signed(f"{name}.contoso.example", key)
    pem = directory / f"{name}.pem"
    pem.write_bytes(key_pem(key) + cert_pem(cert))
    pem.chmod(0o600)
    password = f"pfx-pass-{name}"
    pfx = directory / f"{name}.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, serialization.BestAvailableEncryption(password.encode())
    ))
    return AppInfo(name, client_id, object_id, pem_path=pem, pfx_path=pfx, pfx_password=password,
                   key_pem=key_pem(key), cert_pem=cert_pem(cert))


USER_TENANT_ID = "22222222-3333-4444-8555-666666666666"


USER_DOMAIN = "users.example"


FED_DOMAIN = "corp.example"  # federated, SAML 1.1 via MEX + WS-Trust 1.3


FED2_DOMAIN = "corp2.example"  # federated, SAML 2.0, no MEX (WS-Trust 2005 endpoint from user realm)


AKS_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


UNCONSENTED_CLIENT_ID = "cccccccc-0000-4000-8000-000000000001"


ASSIGNED_CLIENT_ID = "cccccccc-0000-4000-8000-000000000002"


CONFIDENTIAL_CLIENT_ID = "cccccccc-0000-4000-8000-000000000003"


DEVS_GROUP_ID = "9d9d9d9d-0000-4000-8000-000000000001"


PASSWORD = "Passw0rd!-user"


def _user(name: str, domain: str = USER_DOMAIN, **extra: Any) -> dict[str, Any]:
    return {"upn": f"{name}@{domain}", "password": PASSWORD, **extra}
