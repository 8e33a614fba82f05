"""--login msi end to end: real kubectl → akslogin → the emulated IMDS / App Service / Arc endpoint of a
"host" → an API server that authenticates the managed identity by object id."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from akslogin.credentials.arc import MAX_KEY_SIZE, ArcClient, read_key_file
from akslogin.emulator import Emulator
from akslogin.emulator.faults import Fault
from akslogin.emulator.managed_identity import managed_identities
from akslogin.errors import AuthenticationError, ConfigError
from support.machine_world import OBJECT_IDS, STRAY_CLIENT, UAMI_CLIENT, UAMI_OBJECT, UAMI_RESOURCE, token_args
from support.run import clean_env, decode_jwt_payload, kubectl, run_akslogin, write_kubeconfig


def _env(tmp_path: Path, emu: Emulator, host: str, **extra: str) -> dict[str, str]:
    return clean_env(tmp_path, **{**managed_identities(emu).environment(host), **extra})


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


def test_azure_client_id_variable_selects_the_identity_as_in_kubelogin(tmp_path: Path,
                                                                       machine_emulator: Emulator) -> None:
    result = run_akslogin(token_args("msi"), _env(tmp_path, machine_emulator, "build-vm", AZURE_CLIENT_ID=UAMI_CLIENT))
    assert result.returncode == 0, result.stderr
    claims = decode_jwt_payload(json.loads(result.stdout)["status"]["token"])
    assert (claims["oid"], claims["appid"], claims["idtyp"]) == (UAMI_OBJECT, UAMI_CLIENT, "app")
    assert claims["xms_mirid"] == UAMI_RESOURCE


def test_imds_answers_system_request_with_the_only_user_assigned_identity(tmp_path: Path,
                                                                          machine_emulator: Emulator) -> None:
    user, stderr = _kubectl_as(tmp_path, machine_emulator, "lone-vm")
    assert user == UAMI_OBJECT, stderr


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


# -- the Arc key file: read only what the agent wrote, where it writes it ---------------------------------

class _Challenge:
    def __init__(self, realm: str) -> None:
        self.status_code = 401
        self.headers = {"WWW-Authenticate": f"Basic realm={realm}"}


class _NoSecondCall:
    def __init__(self, realm: str) -> None:
        self.realm = realm
        self.calls = 0

    def get(self, url: str, **kwargs: object) -> _Challenge:
        self.calls += 1
        if self.calls > 1:
            raise AssertionError("the key must not be sent")
        return _Challenge(self.realm)


def _arc(key_dir: Path, realm: str) -> ArcClient:
    return ArcClient("http://127.0.0.1:1/metadata/identity/oauth2/token", str(key_dir), _NoSecondCall(realm), None,
                     time.time)


def test_arc_key_file_must_be_a_small_regular_file_inside_the_key_dir(tmp_path: Path) -> None:
    keys = tmp_path / "tokens"
    keys.mkdir()
    (keys / "big.key").write_bytes(b"k" * (MAX_KEY_SIZE + 1))
    (tmp_path / "elsewhere.key").write_text("secret")
    os.symlink(tmp_path / "elsewhere.key", keys / "link.key")
    (keys / "dir.key").mkdir()
    with pytest.raises(ConfigError, match="larger than 4096 bytes"):
        _arc(keys, "/var/opt/azcmagent/tokens/big.key").get_token("r")
    with pytest.raises(ConfigError, match="symbolic link"):
        _arc(keys, "/var/opt/azcmagent/tokens/link.key").get_token("r")
    with pytest.raises(ConfigError, match="not a regular file"):
        _arc(keys, "/var/opt/azcmagent/tokens/dir.key").get_token("r")
    with pytest.raises(ConfigError, match="No such file"):
        _arc(keys, "/var/opt/azcmagent/tokens/missing.key").get_token("r")
    # Only the base name of the realm counts: a path pointing elsewhere still reads inside the key dir.
    with pytest.raises(ConfigError, match=str(keys / "elsewhere.key")):
        _arc(keys, str(tmp_path / "elsewhere.key")).get_token("r")
    with pytest.raises(AuthenticationError, match="unusable key file"):
        _arc(keys, "/var/opt/azcmagent/tokens/..").get_token("r")
    (keys / "ok.key").write_text("  s3cret \n")
    assert read_key_file(str(keys / "ok.key")) == "s3cret"


def test_unreadable_arc_key_dir_explains_the_himds_group(tmp_path: Path, machine_emulator: Emulator) -> None:
    env = _env(tmp_path, machine_emulator, "arc-server", AKSLOGIN_ARC_KEY_DIR=str(tmp_path / "no-such-dir"))
    result = run_akslogin(token_args("msi"), env)
    assert result.returncode == 1
    assert "cannot read the Azure Arc key file" in result.stderr and "himds" in result.stderr


@pytest.mark.parametrize(("environ", "name", "endpoint"), [
    ({}, "IMDS", "http://169.254.169.254/metadata/identity/oauth2/token"),
    ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.4:2579/"}, "IMDS",
     "http://10.0.0.4:2579/metadata/identity/oauth2/token"),
    ({"IDENTITY_ENDPOINT": "http://127.0.0.1:41000/msi/token", "IDENTITY_HEADER": "h"}, "App Service",
     "http://127.0.0.1:41000/msi/token"),
    ({"IDENTITY_ENDPOINT": "https://10.0.0.5:2377/token", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "t"},
     "Service Fabric", "https://10.0.0.5:2377/token"),
    ({"MSI_ENDPOINT": "http://127.0.0.1:46808/msi/token", "MSI_SECRET": "s"}, "Azure Machine Learning",
     "http://127.0.0.1:46808/msi/token"),
    ({"IDENTITY_ENDPOINT": "http://localhost:40342/metadata/identity/oauth2/token",
      "IMDS_ENDPOINT": "http://localhost:40342"}, "Azure Arc", "http://localhost:40342/metadata/identity/oauth2/token"),
    ({"MSI_ENDPOINT": "http://localhost:50342/oauth2/token", "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"},
     "Cloud Shell", "http://localhost:50342/oauth2/token"),
])
def test_endpoint_detection_follows_msal_order(environ: dict[str, str], name: str, endpoint: str) -> None:
    from akslogin.credentials.managed_identity import detect_source

    source = detect_source(environ)
    assert (source.name, source.endpoint, source.via_msal) == (name, endpoint,
                                                               name not in ("Azure Arc", "Cloud Shell"))


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


@pytest.mark.parametrize("variable", ["AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AZURE_CLIENT_ID"])
def test_an_identity_not_found_names_the_variable_the_client_id_came_from(tmp_path: Path, machine_emulator: Emulator,
                                                                           variable: str) -> None:
    """Issue 24.13: kubelogin's variables override --client-id for msi too; a leftover one picks another identity,
    and the error must say where the id came from."""
    env = _env(tmp_path, machine_emulator, "build-vm", **{variable: STRAY_CLIENT})
    result = run_akslogin(token_args("msi", "--client-id", UAMI_CLIENT), env)
    assert result.returncode == 1
    assert f"client_id={STRAY_CLIENT}, taken from the variable {variable}, which overrides --client-id" in result.stderr
