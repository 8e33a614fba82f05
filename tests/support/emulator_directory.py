"""What the tiers of test_emulator_directory.py share: tests/{e2e,emulated,unit}/test_emulator_directory.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from akslogin.emulator import Emulator
from support.explainworld import APPS, TENANT, start


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def _client_token(emu: Emulator, app: str, resource: str) -> str:
    a = APPS[app]
    r = requests.post(f"{emu.authority_host}{TENANT}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": a.client_id, "client_secret": a.secret,
        "scope": resource.rstrip("/") + "/.default"}, verify=str(emu.ca_path), timeout=10)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def _api(emu: Emulator, token: str, path: str, method: str = "GET", body: Any = None) -> requests.Response:
    return requests.request(method, emu.cluster_url("aks1") + path, json=body, verify=str(emu.ca_path), timeout=10,
                            headers={"Authorization": f"Bearer {token}"})


def _binding(name: str, role: str, subject: str, namespace: str = "", kind: str = "User") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
            "metadata": meta, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}]}
