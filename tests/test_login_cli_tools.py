"""--login azurecli / azd end to end: kubectl → akslogin → a stand-in az/azd on PATH that speaks the real
CLIs' JSON contract and signs in to the emulator → the API server. The stand-ins log their arguments, so
the tests see exactly what akslogin asked for.

tests/test_real_az.py runs the real Azure CLI for everything it can do offline; the stand-ins stay for what it
cannot: an az that hangs (--timeout), one that prints garbage, the pre-2.54 output without expires_on, a profile
switched between two calls in microseconds, and azd (not on PyPI)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from akslogin.credentials.azd import parse_azd_output, parse_rfc3339
from akslogin.credentials.azure_cli import parse_az_output
from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.errors import AuthenticationError
from support.machine_world import (
    OBJECT_IDS,
    TENANT,
    az_login,
    az_logout,
    calls,
    install_fake_az,
    install_fake_azd,
    token_args,
)
from support.run import clean_env, kubectl, run_akslogin, write_kubeconfig


def _az_env(tmp_path: Path, emu: Emulator, signed_in: bool = True, **extra: str) -> tuple[dict[str, str], Path]:
    config = tmp_path / "azure-config"
    install_fake_az(tmp_path / "bin", config, emu, signed_in)
    env = clean_env(tmp_path, AZURE_CONFIG_DIR=str(config), **extra)
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return env, config


def _azd_env(tmp_path: Path, emu: Emulator, signed_in: bool = True) -> tuple[dict[str, str], Path]:
    config = tmp_path / "azd-config"
    install_fake_azd(tmp_path / "bin", config, emu, signed_in)
    env = clean_env(tmp_path, AZD_CONFIG_DIR=str(config))
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return env, config


def _whoami(tmp_path: Path, emu: Emulator, args: list[str], env: dict[str, str]) -> tuple[str, str]:
    kc = write_kubeconfig(tmp_path / "config", emu, "aks1", args)
    result = kubectl(kc, "auth", "whoami", "-o", "json", env=env)
    if result.returncode != 0:
        return "", result.stderr
    return json.loads(result.stdout)["status"]["userInfo"]["username"], result.stderr


# -- azurecli ---------------------------------------------------------------------------------------

def test_azurecli_through_kubectl_then_from_cache(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _az_env(tmp_path, machine_emulator)
    user, stderr = _whoami(tmp_path, machine_emulator, token_args("azurecli"), env)
    assert user == OBJECT_IDS["az"], stderr
    assert calls(config) == [["account", "get-access-token", "--output", "json", "--resource", AKS_SERVER_APP_ID]]
    kc = tmp_path / "config"
    again = kubectl(kc, "get", "pods", "-o", "name", env=env)
    assert again.returncode == 0 and "pod/web-1" in again.stdout, again.stderr
    assert len(calls(config)) == 1  # the second kubectl call did not start az


def test_azurecli_logout_or_account_switch_bypasses_the_cache(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _az_env(tmp_path, machine_emulator)
    assert run_akslogin(token_args("azurecli"), env).returncode == 0
    az_logout(config)
    after_logout = run_akslogin(token_args("azurecli"), env)
    assert after_logout.returncode == 1, "a token cached before 'az logout' must not be handed out"
    assert "the Azure CLI is not signed in" in after_logout.stderr
    assert f"Run 'az login' with AZURE_CONFIG_DIR={config}" in after_logout.stderr
    az_login(config, subscription="00000000-0000-0000-0000-0000000000c3")
    assert run_akslogin(token_args("azurecli"), env).returncode == 0
    assert len(calls(config)) == 3


def test_azurecli_passes_tenant_and_subscription(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _az_env(tmp_path, machine_emulator)
    result = run_akslogin(token_args("azurecli", "--tenant-id", TENANT, "--subscription", "Contoso Prod"), env)
    assert result.returncode == 0, result.stderr
    assert calls(config)[-1][-4:] == ["--tenant", TENANT, "--subscription", "Contoso Prod"]


def test_azurecli_reads_the_older_expires_on_local_time(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, _ = _az_env(tmp_path, machine_emulator, FAKE_AZ_MODE="old")
    result = run_akslogin(token_args("azurecli"), env)
    assert result.returncode == 0, result.stderr
    stamp = json.loads(result.stdout)["status"]["expirationTimestamp"]
    expiry = time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expiry - (time.time() + 3599)) < 30


def test_azurecli_missing_timeout_and_garbage(tmp_path: Path, machine_emulator: Emulator) -> None:
    missing = run_akslogin(token_args("azurecli"), clean_env(tmp_path, PATH=str(tmp_path / "empty")))
    assert missing.returncode == 1
    assert "the Azure CLI ('az') is not installed or not on PATH" in missing.stderr

    env, _ = _az_env(tmp_path, machine_emulator, FAKE_AZ_MODE="hang")
    started = time.monotonic()
    hung = run_akslogin(token_args("azurecli", "--timeout", "2s"), env)
    assert hung.returncode == 1 and time.monotonic() - started < 10
    assert "did not finish within 2s and was stopped" in hung.stderr

    env["FAKE_AZ_MODE"] = "garbage"
    garbage = run_akslogin(token_args("azurecli"), env)
    assert garbage.returncode == 1 and "az printed output that is not JSON" in garbage.stderr


def test_azurecli_reports_aadsts_errors_from_az(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, _ = _az_env(tmp_path, machine_emulator)
    result = run_akslogin(token_args("azurecli", "--tenant-id", "nobody.example"), env)
    assert result.returncode == 1
    assert "AADSTS90002" in result.stderr and "tenant does not exist" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_azurecli_refuses_flag_like_values(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _az_env(tmp_path, machine_emulator)
    result = run_akslogin(token_args("azurecli", "--subscription=--debug"), env)
    assert result.returncode == 2 and "is not a subscription id or name" in result.stderr
    server = run_akslogin(["get-token", "-l", "azurecli", "--server-id=--debug"], env)
    assert server.returncode == 2 and "is not an application id" in server.stderr
    assert calls(config) == []


def test_az_output_contract() -> None:
    now = time.time()
    assert parse_az_output('{"accessToken": "t", "expires_on": 1900000000}', now).expires_on == 1900000000
    assert parse_az_output('{"accessToken": "t", "expires_on": "1900000000"}', now).expires_on == 1900000000
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now + 600))
    assert abs(parse_az_output(json.dumps({"accessToken": "t", "expiresOn": local + ".000000"}), now).expires_on
               - (now + 600)) < 2
    for bad in ('{"expires_on": 1900000000}', '{"accessToken": "t"}', "[]", '{"accessToken": "t", "expires_on": 1}'):
        with pytest.raises(AuthenticationError):
            parse_az_output(bad, now)


# -- azd --------------------------------------------------------------------------------------------

def test_azd_through_kubectl(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _azd_env(tmp_path, machine_emulator)
    user, stderr = _whoami(tmp_path, machine_emulator, token_args("azd", "--tenant-id", TENANT), env)
    assert user == OBJECT_IDS["az"], stderr
    assert calls(config) == [["auth", "token", "--output", "json", "--no-prompt", "--scope",
                              f"{AKS_SERVER_APP_ID}/.default", "--tenant-id", TENANT]]


def test_azd_not_signed_in(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, _ = _azd_env(tmp_path, machine_emulator, signed_in=False)
    result = run_akslogin(token_args("azd"), env)
    assert result.returncode == 1
    assert "the Azure Developer CLI is not signed in" in result.stderr and "Run 'azd auth login'" in result.stderr


def test_azd_logout_bypasses_the_cache(tmp_path: Path, machine_emulator: Emulator) -> None:
    env, config = _azd_env(tmp_path, machine_emulator)
    assert run_akslogin(token_args("azd"), env).returncode == 0
    install_fake_azd(tmp_path / "bin", config, machine_emulator, signed_in=False)  # 'azd auth logout'
    assert run_akslogin(token_args("azd"), env).returncode == 1


def test_azd_output_contract() -> None:
    now = time.time()
    assert parse_rfc3339("2030-01-02T03:04:05Z") == 1893553445
    assert parse_rfc3339("2030-01-02T04:04:05.123456789+01:00") == pytest.approx(1893553445.123456)
    assert parse_rfc3339("2030-01-02T03:04:05") is None  # no offset: ambiguous
    token = parse_azd_output('{"token": "t", "expiresOn": "2030-01-02T03:04:05Z"}', now)
    assert (token.token, token.expires_on) == ("t", 1893553445)
    for bad in ('{"token": "t"}', '{"expiresOn": "2030-01-02T03:04:05Z"}', "nope"):
        with pytest.raises(AuthenticationError):
            parse_azd_output(bad, now)
