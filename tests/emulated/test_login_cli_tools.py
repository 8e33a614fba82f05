"""--login azurecli / azd end to end: kubectl → akslogin → a stand-in az/azd on PATH that speaks the real
CLIs' JSON contract and signs in to the emulator → the API server. The stand-ins log their arguments, so
the tests see exactly what akslogin asked for.

tests/{emulated,e2e}/test_real_az.py runs the real Azure CLI for everything it can do offline; the stand-ins stay for
what it cannot: an az that hangs (--timeout), one that prints garbage, the pre-2.54 output without expires_on, a profile
switched between two calls in microseconds, and azd (not on PyPI).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from akslogin.emulator import Emulator
from support.login_cli_tools import _az_env, _azd_env
from support.machine_world import (
    TENANT,
    az_login,
    az_logout,
    calls,
    install_fake_azd,
    token_args,
)
from support.run import clean_env, run_akslogin


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
