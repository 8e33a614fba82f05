"""get-credentials with --login azurecli: the Resource Manager token and the written exec blocks come from the az
sign-in (a stand-in az that signs in to the emulator; the real-CLI tier covers the real one).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import get_credentials_azurecli as shared
from support.armworld import named
from support.get_credentials_azurecli import _get_credentials, _signed_in_az
from support.machine_world import calls
from support.run import kubectl


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_one_cluster_without_subscription_uses_az_current_subscription(tmp_path: Path, emu: Emulator) -> None:
    env = _signed_in_az(tmp_path, emu)
    result = _get_credentials(emu, env, "-g", "rg-apps", "-n", "aks1")
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    kc = tmp_path / ".kube" / "config"
    block = named(yaml.safe_load(kc.read_text()), "users", "clusterUser_rg-apps_aks1")["user"]["exec"]
    assert block["args"][:3] == ["get-token", "--login", "azurecli"]
    pods = kubectl(kc, "get", "pods", "-o", "name", env=env)
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/web-1", "pod/web-2"]
    config = Path(env["AZURE_CONFIG_DIR"])
    assert all(call[:2] == ["account", "get-access-token"] for call in calls(config))
