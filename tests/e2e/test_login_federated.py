"""Federated sign-in end to end: workload identity (projected token file), GitHub Actions OIDC and Azure
Pipelines service connections, each exchanged at the emulated Entra ID against the app's federated
credentials, then used by real kubectl.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.entra.federation import federation
from support.login_federated import _ado_args, _ado_job, _gh_args, _gh_env, _pod_env, _projected, _wi_args
from support.machine_world import ADO_APP, ADO_CONNECTION, OBJECT_IDS, TENANT, WI_APP
from support.run import clean_env, kubectl, write_kubeconfig


def _whoami(tmp_path: Path, emu: Emulator, args: list[str], env: dict[str, str]) -> tuple[str, str]:
    kc = write_kubeconfig(tmp_path / "config", emu, "aks1", args)
    result = kubectl(kc, "auth", "whoami", "-o", "json", env=env)
    if result.returncode != 0:
        return "", result.stderr
    return json.loads(result.stdout)["status"]["userInfo"]["username"], result.stderr


def test_pod_with_projected_token_reaches_the_cluster(tmp_path: Path, machine_emulator: Emulator) -> None:
    token = federation(machine_emulator).service_account_token("deploy", "deployer")
    env = _pod_env(tmp_path, machine_emulator, _projected(tmp_path, token))
    user, stderr = _whoami(tmp_path, machine_emulator, _wi_args(machine_emulator), env)
    assert user == OBJECT_IDS["wi"], stderr
    requests_ = machine_emulator.request_log.token_requests()
    assert [(r.grant_type, r.client_id, r.status) for r in requests_] == [("client_credentials", WI_APP, 200)]


@pytest.mark.parametrize("environment", [None, "prod"])
def test_github_actions_job_reaches_the_cluster(tmp_path: Path, machine_emulator: Emulator,
                                                environment: str | None) -> None:
    job = federation(machine_emulator).github_job("contoso/app", environment=environment)
    # A stale token file is ignored when the job's OIDC variables are present (kubelogin's rule).
    stale = tmp_path / "stale"
    stale.write_text("x.y.z")
    env = _gh_env(tmp_path, machine_emulator, job, AZURE_FEDERATED_TOKEN_FILE=str(stale))
    user, stderr = _whoami(tmp_path, machine_emulator, _gh_args(machine_emulator), env)
    assert user == OBJECT_IDS["gh"], stderr
    assert [e.status for e in machine_emulator.request_log.entries("github")] == [200]


def test_azure_pipelines_service_connection_reaches_the_cluster(tmp_path: Path, machine_emulator: Emulator) -> None:
    # As in an AzureCLI@2 step with 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'.
    env = clean_env(tmp_path, **_ado_job(machine_emulator), AZURESUBSCRIPTION_CLIENT_ID=ADO_APP,
                    AZURESUBSCRIPTION_TENANT_ID=TENANT, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=ADO_CONNECTION)
    user, stderr = _whoami(tmp_path, machine_emulator, _ado_args(machine_emulator), env)
    assert user == OBJECT_IDS["ado"], stderr
    assert [(e.method, e.status) for e in machine_emulator.request_log.entries("pipelines")] == [("POST", 200)]
