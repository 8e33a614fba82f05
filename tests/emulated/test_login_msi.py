"""--login msi end to end: real kubectl → akslogin → the emulated IMDS / App Service / Arc endpoint of a
"host" → an API server that authenticates the managed identity by object id.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from support.login_msi import _env
from support.machine_world import STRAY_CLIENT, UAMI_CLIENT, UAMI_OBJECT, UAMI_RESOURCE, token_args
from support.run import clean_env, decode_jwt_payload, run_akslogin


def test_azure_client_id_variable_selects_the_identity_as_in_kubelogin(tmp_path: Path,
                                                                       machine_emulator: Emulator) -> None:
    result = run_akslogin(token_args("msi"), _env(tmp_path, machine_emulator, "build-vm", AZURE_CLIENT_ID=UAMI_CLIENT))
    assert result.returncode == 0, result.stderr
    claims = decode_jwt_payload(json.loads(result.stdout)["status"]["token"])
    assert (claims["oid"], claims["appid"], claims["idtyp"]) == (UAMI_OBJECT, UAMI_CLIENT, "app")
    assert claims["xms_mirid"] == UAMI_RESOURCE


def test_second_call_is_served_from_cache_without_touching_imds(tmp_path: Path, machine_emulator: Emulator) -> None:
    env = _env(tmp_path, machine_emulator, "build-vm")
    first = run_akslogin(token_args("msi"), env)
    assert first.returncode == 0, first.stderr
    # IMDS tokens live 24 hours; the ExecCredential says so.
    stamp = json.loads(first.stdout)["status"]["expirationTimestamp"]
    expiry = time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expiry - (time.time() + 86399)) < 30
    second = run_akslogin(token_args("msi"), env)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert len(machine_emulator.request_log.entries("imds")) == 1


def test_identity_not_assigned_to_the_vm_is_one_clear_paragraph(tmp_path: Path, machine_emulator: Emulator) -> None:
    result = run_akslogin(token_args("msi", "--client-id", STRAY_CLIENT), _env(tmp_path, machine_emulator, "build-vm"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "IMDS managed identity endpoint refused the token request: Identity not found" in lines[0]
    assert f"client_id={STRAY_CLIENT}" in lines[0] and "VM, scale set or node pool" in lines[0]


def test_several_user_assigned_identities_need_a_choice(tmp_path: Path, machine_emulator: Emulator) -> None:
    result = run_akslogin(token_args("msi"), _env(tmp_path, machine_emulator, "multi-vm"))
    assert result.returncode == 1
    assert "Multiple user assigned identities exist" in result.stderr and "Pick one with --client-id" in result.stderr
    chosen = run_akslogin(token_args("msi", "--client-id", UAMI_CLIENT), _env(tmp_path, machine_emulator, "multi-vm"))
    assert chosen.returncode == 0, chosen.stderr


def test_app_service_with_wrong_identity_header_is_refused(tmp_path: Path, machine_emulator: Emulator) -> None:
    env = _env(tmp_path, machine_emulator, "web-app")
    env["IDENTITY_HEADER"] = "not-the-header"
    result = run_akslogin(token_args("msi"), env)
    assert result.returncode == 1
    assert "App Service managed identity endpoint refused the token request" in result.stderr
    assert "not-the-header" not in result.stderr


def test_transient_imds_errors_are_retried(tmp_path: Path, machine_emulator: Emulator) -> None:
    machine_emulator.faults.add(Fault(service="imds:build-vm", path="/metadata", kind="status", status=503, times=1))
    machine_emulator.faults.add(Fault(service="imds:build-vm", path="/metadata", kind="status", status=429,
                                      retry_after=1, times=1))
    started = time.monotonic()
    result = run_akslogin(token_args("msi"), _env(tmp_path, machine_emulator, "build-vm"))
    assert result.returncode == 0, result.stderr
    assert [e.status for e in machine_emulator.request_log.entries("imds")] == [503, 429, 200]
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_no_endpoint_fails_fast_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    env = clean_env(tmp_path, AZURE_POD_IDENTITY_AUTHORITY_HOST=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    result = run_akslogin(token_args("msi"), env)
    assert result.returncode == 1 and time.monotonic() - started < 15
    assert f"cannot connect to the managed identity endpoint http://127.0.0.1:{port}" in result.stderr
    assert "Azure VM or scale set" in result.stderr


def test_unknown_resource_reports_the_aadsts_code(tmp_path: Path, machine_emulator: Emulator) -> None:
    args = ["get-token", "--login", "msi", "--server-id", "11111111-0000-0000-0000-000000000000"]
    result = run_akslogin(args, _env(tmp_path, machine_emulator, "build-vm"))
    assert result.returncode == 1 and "AADSTS500011" in result.stderr


def test_unreadable_arc_key_dir_explains_the_himds_group(tmp_path: Path, machine_emulator: Emulator) -> None:
    env = _env(tmp_path, machine_emulator, "arc-server", AKSLOGIN_ARC_KEY_DIR=str(tmp_path / "no-such-dir"))
    result = run_akslogin(token_args("msi"), env)
    assert result.returncode == 1
    assert "cannot read the Azure Arc key file" in result.stderr and "himds" in result.stderr


@pytest.mark.parametrize("variable", ["AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AZURE_CLIENT_ID"])
def test_an_identity_not_found_names_the_variable_the_client_id_came_from(tmp_path: Path, machine_emulator: Emulator,
                                                                           variable: str) -> None:
    """Issue 24.13: kubelogin's variables override --client-id for msi too; a leftover one picks another identity,
    and the error must say where the id came from."""
    env = _env(tmp_path, machine_emulator, "build-vm", **{variable: STRAY_CLIENT})
    result = run_akslogin(token_args("msi", "--client-id", UAMI_CLIENT), env)
    assert result.returncode == 1
    assert f"client_id={STRAY_CLIENT}, taken from the variable {variable}, which overrides --client-id" in result.stderr
