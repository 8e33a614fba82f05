"""get-credentials with --login azurecli: the Resource Manager token and the written exec blocks come from the az
sign-in (a stand-in az that signs in to the emulator; the real-CLI tier covers the real one).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import get_credentials_azurecli as shared
from support.get_credentials_azurecli import S2, _get_credentials, _signed_in_az
from support.machine_world import calls


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_all_across_two_subscriptions(tmp_path: Path, emu: Emulator) -> None:
    env = _signed_in_az(tmp_path, emu)
    result = _get_credentials(emu, env, "--all")
    assert result.returncode == 0, result.stderr + result.stdout
    contexts = {c["name"] for c in yaml.safe_load((tmp_path / ".kube" / "config").read_text())["contexts"]}
    assert {"aks1", "aks-prod"} <= contexts, contexts


def test_one_cluster_in_the_other_subscription(tmp_path: Path, emu: Emulator) -> None:
    env = _signed_in_az(tmp_path, emu)
    result = _get_credentials(emu, env, "-g", "rg-prod", "-n", "aks-prod", "--subscription", S2)
    assert result.returncode == 0, result.stderr
    config = Path(env["AZURE_CONFIG_DIR"])
    assert any("--subscription" in call and S2 in call for call in calls(config))
