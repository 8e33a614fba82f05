"""convert-kubeconfig: Azure/kubelogin's conversion rules (a table over login modes and inputs), then the
command end to end on files, with kubectl using the result.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import convert as shared
from support.armworld import Runner, named, sub_id
from support.convert import aks_exec_user, aks_kubeconfig, config_with, convert_cli
from support.run import akslogin_bin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_env_login_method_and_kubeconfig_list(emu: Emulator, tmp_path: Path) -> None:
    runner = Runner(emu, tmp_path)
    first = aks_kubeconfig(emu, tmp_path / "a.yaml", name="first")
    second = tmp_path / "b.yaml"
    second_cfg = yaml.safe_load(first.read_text())
    second_cfg["contexts"][0]["name"] = second_cfg["current-context"] = "second"
    second_cfg["users"][0]["name"] = "other-user"
    second_cfg["contexts"][0]["context"]["user"] = "other-user"
    second.write_text(yaml.safe_dump(second_cfg))
    env = runner.env(KUBECONFIG=os.pathsep.join([str(first), str(second)]), AAD_LOGIN_METHOD="azurecli")
    a_before = first.read_text()
    result = convert_cli(runner, "--context", "second", env=env)
    assert result.returncode == 0, result.stderr
    assert first.read_text() == a_before  # the context's user lives in the second file only
    args = named(yaml.safe_load(second.read_text()), "users", "other-user")["user"]["exec"]["args"]
    assert args[:3] == ["get-token", "--login", "azurecli"] and "--tenant-id" not in args
    unknown = convert_cli(runner, "--context", "nope", env=env)
    assert unknown.returncode == 2 and "no context exists with the name: 'nope'" in unknown.stderr
    assert sub_id(1)  # the world's subscriptions are irrelevant here


def test_exec_api_version_v1beta1_by_default_v1_when_asked_and_kept_when_converting_again(tmp_path: Path) -> None:
    """kubelogin writes v1beta1 (tools on client-go < 0.22 reject v1); --exec-api-version v1 asks for v1, and a
    block's own version survives a later conversion without the flag."""
    import subprocess

    from support.run import clean_env

    kc = tmp_path / "config"
    kc.write_text(yaml.safe_dump(config_with(aks_exec_user()).data))
    env = clean_env(tmp_path)

    def convert_cli(*extra: str) -> str:
        result = subprocess.run([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kc), *extra], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        version: str = yaml.safe_load(kc.read_text())["users"][0]["user"]["exec"]["apiVersion"]
        return version

    assert convert_cli() == "client.authentication.k8s.io/v1beta1"
    assert convert_cli("--exec-api-version", "v1") == "client.authentication.k8s.io/v1"
    assert convert_cli("-l", "spn") == "client.authentication.k8s.io/v1"  # kept
    assert convert_cli("--exec-api-version", "v1beta1") == "client.authentication.k8s.io/v1beta1"
    bad = subprocess.run([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kc), "--exec-api-version", "v2"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "v1beta1" in bad.stderr
