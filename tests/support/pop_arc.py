"""What the tiers of test_pop_arc.py share: tests/{e2e,emulated,unit}/test_pop_arc.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.world import ARC_SERVER_APP_ID, world_from_dict
from support.run import run_akslogin

TENANT = "abababab-0000-4000-8000-00000000000a"


SUB = "cdcdcdcd-0000-4000-8000-00000000000c"


APP_ID = "efefefef-0000-4000-8000-000000000001"


APP_SECRET = "arc-secret-Uv5~pop"


PUBLIC_CLIENT = "3f4439ff-e698-4d6d-84fe-09c9d574f06b"  # Azure Arc's client app, as kubelogin's docs name it


USER = "arcdev@arc.example"


PASSWORD = "Arc-Passw0rd!"


ARC_ID = (f"/subscriptions/{SUB}/resourceGroups/arc-rg/providers/Microsoft.Kubernetes/"
          "connectedClusters/edge1")


def arc_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    directory = tmp_path_factory.mktemp("arc-world")
    from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed

    key = new_rsa_key()
    pem = directory / "arc-cert.pem"
    pem.write_bytes(key_pem(key) + cert_pem(self_signed("arc-cert.example", key)))
    pem.chmod(0o600)
    world = world_from_dict({
        "tenants": [{
            "id": TENANT, "domains": ["arc.example"],
            "apps": [
                {"name": "arc-ci", "client_id": APP_ID, "object_id": "efefefef-0000-4000-8000-0000000000a1",
                 "secrets": [APP_SECRET]},
                {"name": "arc-cert", "client_id": "efefefef-0000-4000-8000-000000000002",
                 "object_id": "efefefef-0000-4000-8000-0000000000a2", "certificates": [str(pem)]},
                {"name": "arc-cli", "client_id": PUBLIC_CLIENT, "public_client": True},
            ],
            "users": [{"upn": USER, "object_id": "efefefef-0000-4000-8000-0000000000b1", "password": PASSWORD}],
        }],
        "clusters": [{
            "name": "edge1", "tenant": TENANT, "arc": True, "subscription": SUB, "resource_group": "arc-rg",
            "pods": {"default": ["sensor-1"]},
            "rbac": {"bindings": [{"name": "ops", "role": "view", "subjects": [
                {"app": "arc-ci"}, {"app": "arc-cert"}, {"user": USER}]}]},
        }],
    })
    with Emulator(world, tmp_path_factory.mktemp("arc-emulator")) as emu:
        emu.pem_path = pem  # type: ignore[attr-defined]
        yield emu


def emu(arc_emu: Emulator) -> Iterator[Emulator]:
    yield arc_emu
    arc_emu.request_log.reset()
    arc_emu.clock.reset()
    arc_emu.entra.settings.access_token_lifetime = 3599


def _spn(emu: Emulator, cache: Path, *extra: str, pop_claims: str | None = f"u={ARC_ID}") -> list[str]:
    args = ["get-token", "--login", "spn", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", APP_ID, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache), "--cache-storage", "file"]
    if pop_claims is not None:
        args += ["--pop-enabled", "--pop-claims", pop_claims]
    return [*args, *extra]


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))),
            json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _get_token(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = run_akslogin(args, env)
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = json.loads(result.stdout)["status"]
    return status


def _call(emu: Emulator, token: str) -> requests.Response:
    return requests.get(emu.cluster_url("edge1") + "/api/v1/namespaces/default/pods",
                        headers={"Authorization": f"Bearer {token}"}, verify=str(emu.ca_path), timeout=10)
