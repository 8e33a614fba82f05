"""Federated sign-in end to end: workload identity (projected token file), GitHub Actions OIDC and Azure
Pipelines service connections, each exchanged at the emulated Entra ID against the app's federated
credentials, then used by real kubectl.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from akslogin.credentials.federated import TokenFileAssertion
from akslogin.emulator import Emulator
from akslogin.emulator.entra.federation import federation
from support.login_federated import _ado_args, _ado_job, _gh_args, _gh_env, _pod_env, _projected, _wi_args
from support.machine_world import ADO_APP, ADO_CONNECTION, TENANT, WI_APP
from support.run import clean_env, run_akslogin


def test_flags_work_without_the_webhook_variables(tmp_path: Path, machine_emulator: Emulator) -> None:
    token = federation(machine_emulator).service_account_token("deploy", "deployer", issuer="aks-west")
    path = tmp_path / "token"
    path.write_text(token + "\n")
    args = [*_wi_args(machine_emulator), "--client-id", WI_APP, "--tenant-id", TENANT, "--federated-token-file",
            str(path), "--authority-host", machine_emulator.authority_host]
    result = run_akslogin(args, clean_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_token_file_is_read_again_after_the_kubelet_rotates_it(tmp_path: Path, machine_emulator: Emulator) -> None:
    fed = federation(machine_emulator)
    link = _projected(tmp_path, fed.service_account_token("deploy", "deployer", lifetime=-3600))
    env = _pod_env(tmp_path, machine_emulator, link)
    expired = run_akslogin(_wi_args(machine_emulator), env)
    assert expired.returncode == 1
    assert "AADSTS700024" in expired.stderr and "projected token file is fresh" in expired.stderr
    _projected(tmp_path, fed.service_account_token("deploy", "deployer"))
    fresh = run_akslogin(_wi_args(machine_emulator), env)
    assert fresh.returncode == 0, fresh.stderr
    # Within one process, too, each exchange reads the file anew.
    assertion = TokenFileAssertion(str(link))
    first = assertion()
    _projected(tmp_path, fed.service_account_token("deploy", "deployer"))
    assert assertion() != first


@pytest.mark.parametrize(("mint", "code"), [
    (lambda f: f.service_account_token("deploy", "intruder"), "AADSTS700213"),
    (lambda f: f.service_account_token("deploy", "deployer", issuer="github"), "AADSTS70021"),
    (lambda f: f.service_account_token("deploy", "deployer", audience="api://SomethingElse"), "AADSTS700212"),
])
def test_tokens_that_match_no_federated_credential_are_refused(tmp_path: Path, machine_emulator: Emulator,
                                                               mint: object, code: str) -> None:
    token = mint(federation(machine_emulator))  # type: ignore[operator]
    result = run_akslogin(_wi_args(machine_emulator), _pod_env(tmp_path, machine_emulator, _projected(tmp_path, token)))
    assert result.returncode == 1 and code in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert token not in result.stderr


def test_forged_token_fails_signature_validation(tmp_path: Path, machine_emulator: Emulator) -> None:
    fed = federation(machine_emulator)
    claims = {"iss": fed.issuer("kubernetes").url, "sub": "system:serviceaccount:deploy:deployer",
              "aud": ["api://AzureADTokenExchange"], "iat": 0, "nbf": 0, "exp": 4_000_000_000}
    # Kubernetes' claims, signed with a key that is not Kubernetes' (the GitHub issuer's).
    forged = jwt.encode(claims, fed.issuer("github").key, algorithm="RS256",
                        headers={"kid": fed.issuer("kubernetes").kid})
    result = run_akslogin(_wi_args(machine_emulator), _pod_env(tmp_path, machine_emulator,
                                                               _projected(tmp_path, forged)))
    assert result.returncode == 1 and "AADSTS50013" in result.stderr


def test_missing_token_file_says_what_to_do(tmp_path: Path, machine_emulator: Emulator) -> None:
    env = _pod_env(tmp_path, machine_emulator, tmp_path / "nope")
    result = run_akslogin(_wi_args(machine_emulator), env)
    assert result.returncode == 1
    assert "cannot read the federated token file" in result.stderr and "azure.workload.identity/use" in result.stderr
    del env["AZURE_FEDERATED_TOKEN_FILE"]
    usage = run_akslogin(_wi_args(machine_emulator), env)
    assert usage.returncode == 2 and "needs a federated token" in usage.stderr


def test_github_job_on_another_branch_is_refused(tmp_path: Path, machine_emulator: Emulator) -> None:
    job = federation(machine_emulator).github_job("contoso/app", ref="refs/heads/feature")
    result = run_akslogin(_gh_args(machine_emulator), _gh_env(tmp_path, machine_emulator, job))
    assert result.returncode == 1 and "AADSTS700213" in result.stderr
    assert "repo:contoso/app:ref:refs/heads/feature" in result.stderr


def test_github_request_token_of_another_job_is_refused(tmp_path: Path, machine_emulator: Emulator) -> None:
    job = federation(machine_emulator).github_job("contoso/app")
    job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "token-of-another-job"
    result = run_akslogin(_gh_args(machine_emulator), _gh_env(tmp_path, machine_emulator, job))
    assert result.returncode == 1
    assert "GitHub Actions refused the OIDC token request" in result.stderr and "HTTP 401" in result.stderr
    assert "id-token: write" in result.stderr and "token-of-another-job" not in result.stderr
    assert machine_emulator.request_log.token_requests() == []


def test_azure_pipelines_with_flags(tmp_path: Path, machine_emulator: Emulator) -> None:
    args = _ado_args(machine_emulator, "--client-id", ADO_APP, "--tenant-id", TENANT,
                     "--azure-pipelines-service-connection-id", ADO_CONNECTION)
    result = run_akslogin(args, clean_env(tmp_path, **_ado_job(machine_emulator)))
    assert result.returncode == 0, result.stderr


def test_azure_pipelines_errors(tmp_path: Path, machine_emulator: Emulator) -> None:
    job = _ado_job(machine_emulator)
    base = _ado_args(machine_emulator, "--client-id", ADO_APP, "--tenant-id", TENANT,
                     "--azure-pipelines-service-connection-id")
    no_token = {k: v for k, v in job.items() if k != "SYSTEM_ACCESSTOKEN"}
    missing = run_akslogin([*base, ADO_CONNECTION], clean_env(tmp_path, **no_token))
    assert missing.returncode == 2 and "$(System.AccessToken)" in missing.stderr
    outside = run_akslogin([*base, ADO_CONNECTION], clean_env(tmp_path, SYSTEM_ACCESSTOKEN="x"))
    assert outside.returncode == 2 and "SYSTEM_OIDCREQUESTURI" in outside.stderr
    unknown = run_akslogin([*base, "00000000-0000-0000-0000-000000000000"], clean_env(tmp_path, **job))
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
    assert "authorized to use the service connection" in unknown.stderr
    wrong = run_akslogin([*base, ADO_CONNECTION], clean_env(tmp_path, **{**job, "SYSTEM_ACCESSTOKEN": "stale"}))
    assert wrong.returncode == 1 and "HTTP 401" in wrong.stderr and "TF400813" in wrong.stderr
    assert job["SYSTEM_ACCESSTOKEN"] not in wrong.stderr + unknown.stderr
