"""--login msi end to end: real kubectl → akslogin → the emulated IMDS / App Service / Arc endpoint of a
"host" → an API server that authenticates the managed identity by object id.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.login_msi import _env
from support.machine_world import OBJECT_IDS, UAMI_CLIENT, UAMI_OBJECT, UAMI_RESOURCE, token_args
from support.run import kubectl, run_akslogin, write_kubeconfig


def _kubectl_as(tmp_path: Path, emu: Emulator, host: str, *flags: str) -> tuple[str, str]:
    """Run 'kubectl auth whoami' on ``host``; returns (username, stderr)."""
    kc = write_kubeconfig(tmp_path / "config", emu, "aks1", token_args("msi", *flags))
    result = kubectl(kc, "auth", "whoami", "-o", "json", env=_env(tmp_path, emu, host))
    if result.returncode != 0:
        return "", result.stderr
    return json.loads(result.stdout)["status"]["userInfo"]["username"], result.stderr


@pytest.mark.parametrize(("host", "service"), [("build-vm", "imds:build-vm"), ("web-app", "appservice:web-app"),
                                                ("arc-server", "arc:arc-server")])
def test_system_assigned_identity_through_kubectl(tmp_path: Path, machine_emulator: Emulator, host: str,
                                                  service: str) -> None:
    user, stderr = _kubectl_as(tmp_path, machine_emulator, host)
    assert user == OBJECT_IDS[host], stderr
    statuses = [e.status for e in machine_emulator.request_log.entries(service)]
    # Arc answers the first request with its key-file challenge; the others need one request.
    assert statuses == ([401, 200] if host == "arc-server" else [200])
    assert machine_emulator.request_log.token_requests() == []  # no Entra token endpoint involved


@pytest.mark.parametrize("host", ["build-vm", "web-app"])
@pytest.mark.parametrize("flag", ["--client-id", "--identity-resource-id"])
def test_user_assigned_identity_by_client_id_or_resource_id(tmp_path: Path, machine_emulator: Emulator, host: str,
                                                            flag: str) -> None:
    value = UAMI_CLIENT if flag == "--client-id" else UAMI_RESOURCE
    user, stderr = _kubectl_as(tmp_path, machine_emulator, host, flag, value)
    assert user == UAMI_OBJECT, stderr


def test_imds_answers_system_request_with_the_only_user_assigned_identity(tmp_path: Path,
                                                                          machine_emulator: Emulator) -> None:
    user, stderr = _kubectl_as(tmp_path, machine_emulator, "lone-vm")
    assert user == UAMI_OBJECT, stderr


def test_cloud_shell_gets_the_signed_in_users_token_through_kubectl(tmp_path: Path,
                                                                     machine_emulator: Emulator) -> None:
    """Azure Cloud Shell sets MSI_ENDPOINT (no MSI_SECRET): --login msi there is the user signed in to the shell,
    as with kubelogin (azidentity). The emulated shell's endpoint answers only a POST with Metadata: true."""
    from support.machine_world import CLOUD_SHELL_USER

    user, stderr = _kubectl_as(tmp_path, machine_emulator, "shell")
    assert user == CLOUD_SHELL_USER, stderr
    assert [(e.method, e.status) for e in machine_emulator.request_log.entries("cloudshell:shell")] == [("POST", 200)]
    # No user-assigned identities in Cloud Shell: asking for one is refused, not silently ignored.
    refused = run_akslogin(token_args("msi", "--client-id", UAMI_CLIENT), _env(tmp_path, machine_emulator, "shell"))
    assert refused.returncode == 2 and "Cloud Shell has no user-assigned managed identities" in refused.stderr
    assert len(machine_emulator.request_log.entries("cloudshell:shell")) == 1
