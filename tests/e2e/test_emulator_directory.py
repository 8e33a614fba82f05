"""The emulator's directory features: Graph endpoint, group overage, guests, RBAC writes, the server's clock.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support import emulator_directory as shared
from support.emulator_directory import _api, _binding, _client_token
from support.explainworld import APPS
from support.run import KUBECTL


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_kubectl_apply_creates_a_binding_that_then_allows_the_request(emu: Emulator, tmp_path: Path) -> None:
    admin = _client_token(emu, "admin", AKS_SERVER_APP_ID)
    nobody = _client_token(emu, "nobody", AKS_SERVER_APP_ID)
    assert _api(emu, nobody, "/api/v1/namespaces/default/pods").status_code == 403
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [emu.kubeconfig_cluster("aks1")], "users": [{"name": "u", "user": {"token": admin}}],
              "contexts": [{"name": "c", "context": {"cluster": "aks1", "user": "u"}}]}
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(config))
    manifest = _binding("nobody-view", "view", APPS["nobody"].object_id, "default")
    import subprocess

    for expected in ("created", "unchanged"):
        r = subprocess.run([KUBECTL, "--kubeconfig", str(kc), "apply", "--validate=false", "-f", "-"],
                           input=json.dumps(manifest), capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        assert f"rolebinding.rbac.authorization.k8s.io/nobody-view {expected}" in r.stdout
    assert _api(emu, nobody, "/api/v1/namespaces/default/pods").status_code == 200
    assert _api(emu, nobody, "/api/v1/namespaces/dev/pods").status_code == 403
