"""The CI recipes of docs/ci/ run as written, against the emulator: the GitLab job (an OIDC token from an
arbitrary issuer, minted through the control API, exchanged by --login workloadidentity) and the Jenkins job
(a service principal from AZURE_* variables), each from get-credentials to kubectl and a clean audit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.world import World
from support.run import KUBECTL, akslogin_bin, clean_env, run_akslogin

TENANT = "3e3e3e3e-1111-4222-8333-444444444444"
SUB = "4f4f4f4f-1111-4222-8333-444444444444"
GITLAB_APP = "5a5a5a5a-1111-4222-8333-444444444444"
JENKINS_APP = "6b6b6b6b-1111-4222-8333-444444444444"
JENKINS_SECRET = "jenkins-secret-Jj1~x"
SUBJECT = "project_path:contoso/shop:ref_type:branch:ref:main"

WORLD: dict[str, Any] = {
    "tenants": [{"id": TENANT, "domains": ["shop.example"], "apps": [
        {"name": "gitlab-shop", "client_id": GITLAB_APP, "object_id": "5a5a5a5a-0000-4000-8000-000000000001",
         "federated_credentials": [{"issuer": "gitlab", "subject": SUBJECT}]},
        {"name": "jenkins-shop", "client_id": JENKINS_APP, "object_id": "6b6b6b6b-0000-4000-8000-000000000001",
         "secrets": [JENKINS_SECRET]},
    ]}],
    "clusters": [{"name": "aks-prod", "resource_group": "rg-prod", "subscription": SUB,
                  "namespaces": ["default", "shop"], "pods": {"shop": ["shop-0"]},
                  "rbac": {"bindings": [{"name": "ci-edit", "role": "edit", "namespace": "shop",
                                         "subjects": [{"app": "gitlab-shop"}, {"app": "jenkins-shop"}]}]}}],
    "arm_role_assignments": [{"principal": {"app": name}, "role": "cluster-user", "scope": {"cluster": "aks-prod"}}
                             for name in ("gitlab-shop", "jenkins-shop")],
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(WORLD), tmp_path_factory.mktemp("ci-recipes")) as e:
        yield e


def _emulator_flags(emu: Emulator) -> list[str]:
    return ["--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path),
            "--arm-endpoint", emu.server_url("arm")]


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
