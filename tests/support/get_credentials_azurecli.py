"""What the tiers of test_get_credentials_azurecli.py share: tests/{e2e,emulated}/test_get_credentials_azurecli.py."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import DEPLOYER, TENANT, single_spec, sub_id
from support.machine_world import install_fake_az
from support.run import akslogin_bin, clean_env, run_akslogin

S1, S2 = sub_id(1), sub_id(2)


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("getcred-az-emu")) as e:
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
