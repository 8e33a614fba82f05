"""No secret ever reaches stdout (other than the ExecCredential itself) or stderr, at the highest verbosity,
in every login mode, on success and on failure. The test collects every secret its worlds and runs contain
(client secrets, passwords, certificate keys and passwords, federated and CI tokens, refresh and access
tokens) and greps all output for each of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.entra.federation import federation
from support.login_cli_tools import _az_env
from support.login_msi import _env as msi_env
from support.machine_world import ADO_APP, ADO_CONNECTION, AZ_SECRET, GH_APP, TENANT, WI_APP, token_args
from support.run import clean_env, run_akslogin, spn_args, user_args
from support.worlds import PASSWORD, USER_DOMAIN, AppInfo

VERBOSE = ["-v", "10"]
Scenario = Callable[[Path, dict[str, Any]], tuple[list[str], dict[str, str], list[str]]]


def _spn_secret(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    app: AppInfo = fx["apps"]["viewer"]
    return spn_args(fx["emulator"], app), clean_env(tmp, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""), \
        [app.secret or ""]


def _spn_pfx(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    app: AppInfo = fx["apps"]["cert"]
    key_lines = [line for line in app.key_pem.decode().splitlines() if "PRIVATE KEY" not in line][:3]
    env = clean_env(tmp, AZURE_CLIENT_CERTIFICATE_PATH=str(app.pfx_path),
                    AZURE_CLIENT_CERTIFICATE_PASSWORD=app.pfx_password or "")
    return spn_args(fx["emulator"], app), env, [app.pfx_password or "", *key_lines]


def _ropc(upn: str) -> Scenario:
    def scenario(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
        env = clean_env(tmp, AAD_USER_PRINCIPAL_NAME=upn, AAD_USER_PRINCIPAL_PASSWORD=PASSWORD,
                        AKSLOGIN_CACHE_STORAGE="file")
        return user_args(fx["user_emu"], "ropc", tmp / "cache"), env, [PASSWORD]
    return scenario


def _msi(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    env = msi_env(tmp, fx["machine_emulator"], "web-app")
    return token_args("msi"), env, [env["IDENTITY_HEADER"]]


def _workload_identity(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    emu: Emulator = fx["machine_emulator"]
    token = federation(emu).service_account_token("deploy", "deployer")
    path = tmp / "sa-token"
    path.write_text(token)
    env = clean_env(tmp, AZURE_CLIENT_ID=WI_APP, AZURE_TENANT_ID=TENANT, AZURE_FEDERATED_TOKEN_FILE=str(path),
                    AZURE_AUTHORITY_HOST=emu.authority_host)
    return token_args("workloadidentity", "--certificate-authority", str(emu.ca_path)), env, [token]


def _github(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    emu: Emulator = fx["machine_emulator"]
    job = federation(emu).github_job("contoso/app")
    env = clean_env(tmp, AZURE_CLIENT_ID=GH_APP, AZURE_TENANT_ID=TENANT, **job)
    args = token_args("workloadidentity", "--authority-host", emu.authority_host,
                      "--certificate-authority", str(emu.ca_path))
    return args, env, [job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]]


def _pipelines(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    emu: Emulator = fx["machine_emulator"]
    job = federation(emu).pipelines_job("contoso", "aks", {ADO_CONNECTION: "aks-prod"})
    env = clean_env(tmp, **job, AZURESUBSCRIPTION_CLIENT_ID=ADO_APP, AZURESUBSCRIPTION_TENANT_ID=TENANT,
                    AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=ADO_CONNECTION)
    args = token_args("azurepipelines", "--authority-host", emu.authority_host,
                      "--certificate-authority", str(emu.ca_path))
    return args, env, [job["SYSTEM_ACCESSTOKEN"]]


def _azurecli(tmp: Path, fx: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    env, _ = _az_env(tmp, fx["machine_emulator"])
    return token_args("azurecli"), env, [AZ_SECRET]


SCENARIOS: dict[str, Scenario] = {
    "spn-secret": _spn_secret,
    "spn-pfx": _spn_pfx,
    "ropc-managed": _ropc(f"viewer@{USER_DOMAIN}"),
    "msi": _msi,
    "workloadidentity": _workload_identity,
    "github-actions": _github,
    "azurepipelines": _pipelines,
    "azurecli": _azurecli,
}
#: How each scenario is broken for the failure run: a flag that makes the sign-in itself fail.
BREAK = ["--tenant-id", "00000000-dead-4bad-8bad-000000000000", "--client-id", "00000000-dead-4bad-8bad-0000000000cc"]


def _refresh_tokens(cache_dirs: list[Path]) -> list[str]:
    found = []
    for directory in cache_dirs:
        for path in directory.glob("**/msal/*.json"):
            try:
                data = json.loads(path.read_text())
            except ValueError:
                continue
            found += [rt["secret"] for rt in data.get("RefreshToken", {}).values()]
    return found


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_secret_in_any_output_at_top_verbosity(name: str, tmp_path: Path, emulator: Emulator,
                                                  user_emu: Emulator, machine_emulator: Emulator,
                                                  apps: dict[str, AppInfo]) -> None:
    fixtures = {"emulator": emulator, "user_emu": user_emu, "machine_emulator": machine_emulator, "apps": apps}
    args, env, secrets = SCENARIOS[name](tmp_path, fixtures)
    ok = run_akslogin([*args, *VERBOSE], env)
    assert ok.returncode == 0, ok.stderr
    assert "akslogin [" in ok.stderr  # verbose diagnostics really were produced
    lines = ok.stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["kind"] == "ExecCredential"
    access_token = json.loads(lines[0])["status"]["token"]
    # Environment variables win over flags (kubelogin's rule), so break those too where the scenario sets them.
    broken_env = {**env, **{k: BREAK[1] if "TENANT" in k else BREAK[3] for k in env
                            if k in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURESUBSCRIPTION_CLIENT_ID")}}
    failed = run_akslogin([*args, *VERBOSE, *BREAK, "--cache-dir", str(tmp_path / "other")], broken_env)
    assert failed.returncode != 0 and failed.stdout == ""
    everything = [s for s in [*secrets, access_token, *_refresh_tokens([tmp_path])] if len(s) >= 6]
    assert len(everything) >= 2
    for secret in everything:
        for label, text in (("stderr", ok.stderr), ("stderr of the failure", failed.stderr)):
            assert secret not in text, f"a secret reached {label} in scenario {name}"
    # stdout carries the access token and nothing else secret.
    for secret in everything:
        if secret != access_token:
            assert secret not in ok.stdout
