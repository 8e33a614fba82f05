"""Issue 23.13: the emulator as users run it on shared CI hosts. Bodies are capped for every Content-Length, the
request log is a ring, idle connections time out, the control API needs the run's token, and a world file with a
value of the wrong type is reported with its path."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.run import akslogin_bin, clean_env

TENANT = "7a7a7a7a-0000-4000-8000-000000000001"


def _spec() -> dict[str, object]:
    return {"tenants": [{"id": TENANT, "domains": ["edges.example"],
                         "users": [{"upn": "ann@edges.example", "password": "Ann-Passw0rd!"}]}],
            "clusters": [{"name": "c1", "tenant": TENANT}]}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(_spec()), tmp_path_factory.mktemp("edges-emulator"), request_log_size=50,
                  idle_timeout=1.0) as emu:
        yield emu


def _tls(emu: Emulator) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(emu.ca_path))
    port = int(emu.authority_host.rstrip("/").rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.mark.parametrize("length", ["-1", "-100", "abc", str(10 << 20)])
def test_a_body_length_that_is_negative_odd_or_huge_is_refused_before_reading(small: Emulator, length: str) -> None:
    """Only the head is sent: the answer comes at once, so the server did not wait for (or read) the body it was
    promised. (Sending body bytes too would race the server's close and fail the write, not the server.)"""
    with _tls(small) as sock:
        sock.settimeout(10)
        sock.sendall(f"POST /{TENANT}/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode())
        answer = sock.recv(4096).decode("latin-1")
    status = int(answer.split()[1])
    assert status in (400, 413), answer


def test_the_request_log_is_a_ring(small: Emulator) -> None:
    small.request_log.reset()
    url = small.authority_host + f"{TENANT}/v2.0/.well-known/openid-configuration"
    for _ in range(80):
        assert requests.get(url, verify=str(small.ca_path), timeout=10).status_code == 200
    entries = small.request_log.entries()
    assert len(entries) == 50
    assert small.request_log.dropped == 30


def test_an_idle_connection_is_closed(small: Emulator) -> None:
    with _tls(small) as sock:
        sock.settimeout(10)
        start = time.monotonic()
        assert sock.recv(1) == b""  # the server hung up on a connection that sent nothing
        assert time.monotonic() - start < 5


def test_the_control_api_needs_the_runs_token(small: Emulator) -> None:
    url = small.authority_host + "_emulator/requests"
    refused = requests.get(url, verify=str(small.ca_path), timeout=10)
    assert refused.status_code == 401 and "control token" in refused.json()["error"]
    wrong = requests.get(url, verify=str(small.ca_path), timeout=10, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = requests.get(url, verify=str(small.ca_path), timeout=10,
                      headers={"Authorization": f"Bearer {small.control_token}"})
    assert ok.status_code == 200
    approve = requests.post(small.authority_host + "_emulator/devicecodes/ABCD/approve", json={"upn": "ann@x"},
                            verify=str(small.ca_path), timeout=10)
    assert approve.status_code == 401
    token_file = small.state_dir / "control-token"
    assert token_file.read_text().strip() == small.control_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    state = small.state_dir / "emulator.json"
    assert json.loads(state.read_text())["control_token"] == small.control_token
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_the_command_prints_the_control_token_with_o_json(tmp_path: Path) -> None:
    proc = subprocess.Popen([akslogin_bin(), "emulator", "--state-dir", str(tmp_path / "state"), "-o", "json"],
                            env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        text = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text += proc.stdout.readline()
            try:
                data = json.loads(text)
                break
            except ValueError:
                continue
        else:
            raise AssertionError(f"no JSON from the emulator: {text}")
        token = data["control_token"]
        assert token == (tmp_path / "state" / "control-token").read_text().strip()
        ok = requests.get(data["control"] + "requests", verify=data["ca"], timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(("patch", "needle"), [
    ({"users": [{"upn": 5, "password": "x"}]}, "upn"),
    ({"users": [{"upn": ["a@b"], "password": "x"}]}, "upn"),
])
def test_a_world_file_with_a_wrong_type_is_reported_with_its_path(tmp_path: Path, patch: dict[str, object],
                                                                  needle: str) -> None:
    spec = _spec()
    spec["tenants"][0].update(patch)  # type: ignore[index]
    world = tmp_path / "bad-world.yaml"
    world.write_text(yaml.safe_dump(spec))
    result = subprocess.run([akslogin_bin(), "emulator", "--world", str(world), "--state-dir", str(tmp_path / "s")],
                            env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    assert str(world) in result.stderr and needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("port", [99999, -1, "http"])
def test_a_cluster_port_out_of_range_is_reported_with_its_path(tmp_path: Path, port: object) -> None:
    spec = _spec()
    spec["clusters"][0]["port"] = port  # type: ignore[index]
    world = tmp_path / "bad-port.yaml"
    world.write_text(yaml.safe_dump(spec))
    result = subprocess.run([akslogin_bin(), "emulator", "--world", str(world), "--state-dir", str(tmp_path / "s")],
                            env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    assert str(world) in result.stderr and "port" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_world_file_alias_bomb_is_refused(tmp_path: Path) -> None:
    from support.edges_yaml import BOMB

    world = tmp_path / "bomb.yaml"
    world.write_text(BOMB.replace("apiVersion: v1\nkind: Config\n", "tenants: []\n"))
    start = time.monotonic()
    result = subprocess.run([akslogin_bin(), "emulator", "--world", str(world), "--state-dir", str(tmp_path / "s")],
                            env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert time.monotonic() - start < 20
    assert result.returncode == 1 and str(world) in result.stderr and "alias" in result.stderr, result.stderr
    assert os.path.exists(tmp_path) and "Traceback" not in result.stderr
