"""--login azurecli / azd end to end: kubectl → akslogin → a stand-in az/azd on PATH that speaks the real
CLIs' JSON contract and signs in to the emulator → the API server. The stand-ins log their arguments, so
the tests see exactly what akslogin asked for.

tests/{emulated,e2e}/test_real_az.py runs the real Azure CLI for everything it can do offline; the stand-ins stay for
what it cannot: an az that hangs (--timeout), one that prints garbage, the pre-2.54 output without expires_on, a profile
switched between two calls in microseconds, and azd (not on PyPI).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from pathlib import Path

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.login_cli_tools import _az_env, _azd_env
from support.machine_world import (
    OBJECT_IDS,
    TENANT,
    calls,
    token_args,
)
from support.run import kubectl, write_kubeconfig


def _whoami(tmp_path: Path, emu: Emulator, args: list[str], env: dict[str, str]) -> tuple[str, str]:
    kc = write_kubeconfig(tmp_path / "config", emu, "aks1", args)
    result = kubectl(kc, "auth", "whoami", "-o", "json", env=env)
    if result.returncode != 0:
        return "", result.stderr
    return json.loads(result.stdout)["status"]["userInfo"]["username"], result.stderr


def test_azurecli_through_kubectl_then_from_cache(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _az_env(tmp_path, machine_emulator)
    user, stderr = _whoami(tmp_path, machine_emulator, token_args("azurecli"), env)
    assert user == OBJECT_IDS["az"], stderr
    assert calls(config) == [["account", "get-access-token", "--output", "json", "--resource", AKS_SERVER_APP_ID]]
    kc = tmp_path / "config"
    again = kubectl(kc, "get", "pods", "-o", "name", env=env)
    assert again.returncode == 0 and "pod/web-1" in again.stdout, again.stderr
    assert len(calls(config)) == 1  # the second kubectl call did not start az


def test_azd_through_kubectl(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _azd_env(tmp_path, machine_emulator)
    user, stderr = _whoami(tmp_path, machine_emulator, token_args("azd", "--tenant-id", TENANT), env)
    assert user == OBJECT_IDS["az"], stderr
    assert calls(config) == [["auth", "token", "--output", "json", "--no-prompt", "--scope",
                              f"{AKS_SERVER_APP_ID}/.default", "--tenant-id", TENANT]]
