"""akslogin doctor: every link of the chain, and every way it breaks, against the emulator.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akslogin.credentials.base import LOGIN_MODES
from akslogin.emulator import Emulator
from akslogin.options import LOGIN_MODES as ALL_MODES
from akslogin.usecases.doctor import DoctorRequest, run
from support.doctor import doctor, failed
from support.explainworld import (
    APPS,
    CUSTOM_SERVER_ID,
    OTHER_TENANT,
    TENANT,
    Streams,
    b64,
    client_cert,
    env_for,
    exec_args,
    flat,
    kubeconfig,
    start,
)
from support.run import run_akslogin


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["status"] for s in report["steps"]}


@pytest.fixture(autouse=True)
def _real_clock(emu: Emulator) -> Iterator[None]:
    yield
    emu.clock.reset()


def test_healthy_chain_passes_every_step(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    code, report, _ = doctor(env_for(tmp_path), kc)
    assert code == 0 and report["ok"] is True
    assert statuses(report) == dict.fromkeys(
        ("kubeconfig", "context", "credential", "login", "authority", "token", "apiserver", "authenticated",
         "authorized"), "ok")
    steps = {s["name"]: s for s in report["steps"]}
    assert steps["authenticated"]["details"]["username"] == APPS["viewer"].object_id
    assert "reachable, TLS trusted" in steps["authority"]["message"]
    assert "verified with certificate-authority-data" in steps["apiserver"]["message"]
    assert APPS["viewer"].secret not in json.dumps(report)


def test_no_such_context(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    step = failed(doctor(env_for(tmp_path), kc, context="prod")[1])
    assert step["name"] == "context" and "no context named 'prod'" in step["message"]
    assert "Known contexts: ctx" in step["fix"]


def test_exec_command_not_on_path(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], command="akslogin")
    env = env_for(tmp_path, PATH="/usr/bin:/bin")
    step = failed(doctor(env, kc)[1])
    assert step["name"] == "credential"
    assert "'akslogin' is not on PATH" in step["message"] and "executable akslogin not found" in step["message"]


def test_spn_without_secret(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], secret="")
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "login" and "neither a client secret nor a client certificate" in step["message"]
    assert "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET" in step["fix"]


def test_unknown_login_mode(emu: Emulator, tmp_path: Path) -> None:
    assert set(ALL_MODES) <= set(LOGIN_MODES)  # every kubelogin mode is implemented
    args = exec_args(emu, APPS["viewer"], tmp_path / "cache")
    args[args.index("spn")] = "kerberos"
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], args=args)
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert "unknown login mode" in step["message"], step


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_authority_unreachable(emu: Emulator, tmp_path: Path) -> None:
    args = exec_args(emu, APPS["viewer"], tmp_path / "cache", authority=f"https://127.0.0.1:{_closed_port()}/")
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], args=args)
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "authority" and "connection refused" in step["message"]


def test_authority_tls_not_trusted(emu: Emulator, tmp_path: Path) -> None:
    args = exec_args(emu, APPS["viewer"], tmp_path / "cache", ca=False)
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], args=args)
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "authority" and "is not trusted" in step["message"]
    assert "--certificate-authority" in step["fix"]


def test_unknown_tenant_at_the_authority(emu: Emulator, tmp_path: Path) -> None:
    args = exec_args(emu, APPS["viewer"], tmp_path / "cache", tenant="no-such-tenant.example")
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], args=args)
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "authority" and "AADSTS90002" in step["message"]


def test_wrong_secret_fails_at_the_token_step(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], secret="not-the-secret")
    _, report, _ = doctor(env_for(tmp_path), kc)
    step = failed(report)
    assert step["name"] == "token" and "AADSTS7000215" in step["message"]
    assert "not-the-secret" not in json.dumps(report)


def test_cluster_in_another_tenant(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, "aks-other", app=APPS["viewer"])
    _, report, _ = doctor(env_for(tmp_path), kc)
    step = failed(report)
    assert step["name"] == "authenticated" and "401 Unauthorized" in step["message"]
    assert f"trusts another Entra tenant than {TENANT}" in step["message"]
    assert "aadProfile.tenantId" in step["fix"]
    assert OTHER_TENANT not in step["message"]  # doctor cannot know it; it says how to find it


def test_wrong_server_id(emu: Emulator, tmp_path: Path) -> None:
    args = exec_args(emu, APPS["viewer"], tmp_path / "cache", server_id=CUSTOM_SERVER_ID)
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"], args=args)
    _, report, _ = doctor(env_for(tmp_path), kc)
    step = failed(report)
    assert statuses(report)["token"] == "warn"
    assert step["name"] == "authenticated" and "(wrong server id)" in step["message"]
    assert "--server-id 6dae42f8-4368-4678-94ff-3960e28e3630" in step["fix"]


def test_clock_skew_token_expired_at_the_api_server(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    env = env_for(tmp_path)
    assert doctor(env, kc)[0] == 0  # caches a token
    emu.clock.advance(2 * 3600)  # this machine is now two hours behind the cloud
    _, report, _ = doctor(env, kc)
    step = failed(report)
    assert statuses(report)["apiserver"] == "warn"
    assert step["name"] == "authenticated" and "(clock skew)" in step["message"]
    assert "ahead of this machine's" in step["message"] and "NTP" in step["fix"]
    _, _, text = doctor_table(env, kc)
    assert "[FAIL] authenticated" in text and "clock skew" in flat(text)


def test_clock_skew_token_not_yet_valid_at_the_api_server(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    env = env_for(tmp_path)
    assert doctor(env, kc)[0] == 0
    emu.clock.advance(-2 * 3600)  # this machine is two hours ahead
    step = failed(doctor(env, kc)[1])
    assert step["name"] == "authenticated" and "not valid for another" in step["message"]
    assert "(clock skew)" in step["message"]


def test_clock_skew_seen_on_a_fresh_token(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    emu.clock.advance(-3 * 3600)  # Entra and the API server are 3h behind this machine; nothing cached
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "token" and "clock skew" in step["message"]


def test_missing_binding_is_explained(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["nobody"], namespace="dev")
    _, report, _ = doctor(env_for(tmp_path), kc)
    step = failed(report)
    oid = APPS["nobody"].object_id
    assert step["name"] == "authorized"
    assert f'User "{oid}" cannot list resource "pods" in API group "" in the namespace "dev"' in step["message"]
    assert f"akslogin rbac bind --service-principal {oid} --role view --namespace dev --apply" in step["fix"]
    explanation = step["details"]["explanation"]
    assert explanation["allowed"] is False and explanation["suggestion"]["role"] == "view"
    _, _, text = doctor_table(env_for(tmp_path), kc)
    assert "Why the read was denied:" in text and "Missing: a RoleBinding in namespace dev" in text


def test_expired_client_certificate(emu: Emulator, tmp_path: Path) -> None:
    cert, key = client_cert("masterclient", ("system:masters",), days=-1)
    kc = kubeconfig(tmp_path / "config", emu,
                    user={"client-certificate-data": b64(cert), "client-key-data": b64(key)})
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "credential" and "expired" in step["message"] and "system:masters" in step["message"]


def test_legacy_azure_auth_provider(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, user={"auth-provider": {"name": "azure", "config": {
        "apiserver-id": "x", "client-id": "y", "tenant-id": TENANT}}})
    step = failed(doctor(env_for(tmp_path), kc)[1])
    assert step["name"] == "credential" and "removed in 1.26" in step["message"]
    assert "convert-kubeconfig" in step["fix"]


def doctor_table(env: dict[str, str], kc: Path) -> tuple[int, None, str]:
    streams = Streams()
    code = run(DoctorRequest(kubeconfig=str(kc)), env, streams.out, streams.err)
    return code, None, streams.stdout


def test_cli_table_and_json(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["viewer"])
    env = env_for(tmp_path, KUBECONFIG=os.fspath(kc))
    table = run_akslogin(["doctor"], env)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "[ok]   authorized" in table.stdout and "All checks passed." in table.stdout
    broken = run_akslogin(["doctor", "--context", "nope", "-o", "json"], env)
    assert broken.returncode == 2 and json.loads(broken.stdout)["ok"] is False  # no such context: exit 2
    assert "Traceback" not in broken.stderr
    helptext = run_akslogin(["doctor", "--help"], env)
    assert helptext.returncode == 0 and "clock skew" in helptext.stdout
