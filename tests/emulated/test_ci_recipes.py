"""The CI recipes of docs/ci/ run as written, against the emulator: the GitLab job (an OIDC token from an
arbitrary issuer, minted through the control API, exchanged by --login workloadidentity) and the Jenkins job
(a service principal from AZURE_* variables), each from get-credentials to kubectl and a clean audit.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from akslogin.emulator import Emulator
from support import ci_recipes as shared
from support.ci_recipes import GITLAB_APP, SUB, SUBJECT, TENANT, _emulator_flags
from support.run import clean_env, run_akslogin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_a_job_from_another_branch_is_refused(emu: Emulator, tmp_path: Path) -> None:
    minted = requests.post(f"{emu.authority_host}_emulator/federation/token", verify=str(emu.ca_path), timeout=10,
                           headers={"Authorization": f"Bearer {emu.control_token}"},
                           json={"issuer": "gitlab", "subject": SUBJECT.replace(":main", ":feature")}).json()
    token_file = tmp_path / "azure-id-token"
    token_file.write_text(minted["token"])
    env = clean_env(tmp_path, AZURE_CLIENT_ID=GITLAB_APP, AZURE_TENANT_ID=TENANT, AZURE_SUBSCRIPTION_ID=SUB,
                    AZURE_FEDERATED_TOKEN_FILE=str(token_file), KUBECONFIG=str(tmp_path / "kubeconfig"))
    refused = run_akslogin(["get-credentials", "--login", "workloadidentity", "-g", "rg-prod", "-n", "aks-prod",
                            *_emulator_flags(emu)], env)
    assert refused.returncode == 1 and "AADSTS700213" in refused.stderr
    unknown = requests.post(f"{emu.authority_host}_emulator/federation/token", verify=str(emu.ca_path), timeout=10,
                            headers={"Authorization": f"Bearer {emu.control_token}"},
                            json={"issuer": "nobody", "subject": "x"})
    assert unknown.status_code == 400 and "no issuer named 'nobody'" in unknown.json()["error"]
