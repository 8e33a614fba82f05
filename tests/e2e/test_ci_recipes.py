"""The CI recipes of docs/ci/ run as written, against the emulator: the GitLab job (an OIDC token from an
arbitrary issuer, minted through the control API, exchanged by --login workloadidentity) and the Jenkins job
(a service principal from AZURE_* variables), each from get-credentials to kubectl and a clean audit.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from akslogin.emulator import Emulator
from support import ci_recipes as shared
from support.ci_recipes import GITLAB_APP, JENKINS_APP, JENKINS_SECRET, SUB, SUBJECT, TENANT, _emulator_flags
from support.run import KUBECTL, akslogin_bin, clean_env, run_akslogin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def _job(emu: Emulator, env: dict[str, str], login: str) -> None:
    """get-credentials, kubectl, audit: the script part every recipe shares (akslogin installed on PATH)."""
    env["PATH"] = os.path.dirname(akslogin_bin()) + os.pathsep + env.get("PATH", "")
    done = run_akslogin(["get-credentials", "--login", login, "-g", "rg-prod", "-n", "aks-prod",
                         *_emulator_flags(emu)], env)
    assert done.returncode == 0, done.stderr
    pods = subprocess.run([KUBECTL, "get", "pods", "-n", "shop", "-o", "name"], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert pods.returncode == 0 and pods.stdout.strip() == "pod/shop-0", pods.stderr
    audit = run_akslogin(["audit", "--fail-on", "high"], env)
    assert audit.returncode == 0, audit.stdout


def test_gitlab_id_token_job(emu: Emulator, tmp_path: Path) -> None:
    # what GitLab puts in $AZURE_ID_TOKEN for `id_tokens: {AZURE_ID_TOKEN: {aud: api://AzureADTokenExchange}}`
    minted = requests.post(f"{emu.authority_host}_emulator/federation/token", verify=str(emu.ca_path), timeout=10,
                           headers={"Authorization": f"Bearer {emu.control_token}"},
                           json={"issuer": "gitlab", "subject": SUBJECT,
                                 "claims": {"project_path": "contoso/shop", "ref": "main"}})
    assert minted.status_code == 200, minted.text
    token_file = tmp_path / "azure-id-token"
    token_file.write_text(minted.json()["token"])
    env = clean_env(tmp_path, AZURE_CLIENT_ID=GITLAB_APP, AZURE_TENANT_ID=TENANT, AZURE_SUBSCRIPTION_ID=SUB,
                    AZURE_FEDERATED_TOKEN_FILE=str(token_file), KUBECONFIG=str(tmp_path / "kubeconfig"))
    _job(emu, env, "workloadidentity")
    grants = [e.client_id for e in emu.request_log.token_requests()]
    assert grants.count(GITLAB_APP) >= 2  # ARM and the AKS server app, both by federated assertion


def test_jenkins_azure_service_principal_binding(emu: Emulator, tmp_path: Path) -> None:
    # the variables withCredentials([azureServicePrincipal(...)]) sets
    env = clean_env(tmp_path, AZURE_CLIENT_ID=JENKINS_APP, AZURE_CLIENT_SECRET=JENKINS_SECRET,
                    AZURE_TENANT_ID=TENANT, AZURE_SUBSCRIPTION_ID=SUB, KUBECONFIG=str(tmp_path / "kubeconfig"),
                    KUBECACHEDIR=str(tmp_path / "cache"))
    _job(emu, env, "spn")
    assert JENKINS_SECRET not in (tmp_path / "kubeconfig").read_text()
    # outside withCredentials the plugin has no secret: a clear message, not a hang or a traceback
    without = {k: v for k, v in env.items() if k != "AZURE_CLIENT_SECRET"}
    run_akslogin(["logout", "--all"], env)
    failed = subprocess.run([KUBECTL, "get", "pods", "-n", "shop"], env=without, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert failed.returncode != 0 and "client secret" in failed.stderr.lower()
