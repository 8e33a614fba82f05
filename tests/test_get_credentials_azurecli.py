"""get-credentials with --login azurecli: the Resource Manager token and the written exec blocks come from the az
sign-in (a stand-in az that signs in to the emulator; the real-CLI tier covers the real one)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import World
from support.armworld import DEPLOYER, TENANT, named, single_spec, sub_id
from support.machine_world import calls, install_fake_az
from support.run import akslogin_bin, clean_env, kubectl, run_akslogin

S1, S2 = sub_id(1), sub_id(2)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(single_spec()), tmp_path_factory.mktemp("getcred-az-emu")) as e:
        yield e


def _signed_in_az(tmp_path: Path, emu: Emulator, default: str = S1) -> dict[str, str]:
    """az signed in as the deployer service principal, ``default`` its current subscription."""
    config = tmp_path / "azure-config"
    install_fake_az(tmp_path / "bin", config, emu)
    (config / "service_principal_entries.json").write_text(json.dumps(
        [{"client_id": DEPLOYER.client_id, "tenant": TENANT, "client_secret": DEPLOYER.secret}]))
    user = {"name": DEPLOYER.client_id, "type": "servicePrincipal"}
    (config / "azureProfile.json").write_text(json.dumps({"installationId": "t", "subscriptions": [
        {"id": sub, "name": f"sub {sub[-2:]}", "state": "Enabled", "tenantId": TENANT, "isDefault": sub == default,
         "environmentName": "AzureCloud", "user": user} for sub in (S1, S2)]}))
    env = clean_env(tmp_path, AZURE_CONFIG_DIR=str(config))
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return env


def _get_credentials(emu: Emulator, env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return run_akslogin(["get-credentials", "--login", "azurecli", "--arm-endpoint", emu.server_url("arm"),
                         "--certificate-authority", str(emu.ca_path), "--exec-command", akslogin_bin(), *args],
                        env, timeout=120)


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
