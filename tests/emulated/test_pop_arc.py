"""Proof-of-possession tokens for Azure Arc-enabled clusters, end to end.

Real kubectl → akslogin get-token --pop-enabled → emulated Entra ID (token bound to the key by req_cnf) →
emulated Arc API server, which accepts only a JWS signed by that key, with its own ARM id in ``u``, a fresh
``ts`` and an unused nonce. Each way of getting that wrong is refused with a 401 that says why.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import ARC_SERVER_APP_ID
from support import pop_arc as shared
from support.pop_arc import (
    APP_ID,
    APP_SECRET,
    ARC_ID,
    TENANT,
    _call,
    _get_token,
    _segments,
    _spn,
)
from support.run import clean_env, decode_jwt_payload, run_akslogin, write_kubeconfig


@pytest.fixture(scope='module')
def arc_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.arc_emu(tmp_path_factory)


@pytest.fixture
def emu(arc_emu: Emulator) -> Iterator[Emulator]:
    yield from shared.emu(arc_emu)


def test_the_key_survives_runs_and_a_lost_key_means_a_new_token(tmp_path: Path, emu: Emulator) -> None:
    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=APP_SECRET)
    first = _segments(_get_token(_spn(emu, cache), env)["token"])[0]["kid"]
    assert _segments(_get_token(_spn(emu, cache), env)["token"])[0]["kid"] == first
    (cache / "pop" / "rsa-key.pem").write_bytes(b"garbage")
    result = run_akslogin(_spn(emu, cache), env)
    assert result.returncode == 0, result.stderr
    assert "could not be read" in result.stderr
    header, payload = _segments(json.loads(result.stdout)["status"]["token"])
    assert header["kid"] != first and decode_jwt_payload(payload["at"])["cnf"]["kid"] == header["kid"]
    assert len(emu.request_log.token_requests()) == 2  # the old token is bound to the lost key: not reused
    assert _call(emu, json.loads(result.stdout)["status"]["token"]).status_code == 200


def test_parallel_first_runs_agree_on_one_key(tmp_path: Path, emu: Emulator) -> None:
    import subprocess

    from support.run import akslogin_bin

    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=APP_SECRET)
    procs = [subprocess.Popen([akslogin_bin(), *_spn(emu, cache)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    kids = set()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        kids.add(_segments(json.loads(out)["status"]["token"])[0]["kid"])
    assert len(kids) == 1
    assert len(emu.request_log.token_requests()) == 1


@pytest.mark.parametrize(("claims", "message"), [
    ("", "--pop-enabled and --pop-claims go together"),
    ("x=1", "no u claim"),
    ("u", "not key=value"),
    ("u=,x=1", "not key=value"),
    (f"u={ARC_ID},", "not key=value"),
])
def test_pop_claims_are_validated_as_kubelogin_does(tmp_path: Path, claims: str, message: str) -> None:
    args = ["get-token", "--login", "spn", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", APP_ID, "--pop-enabled", "--pop-claims", claims]
    result = run_akslogin(args, clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="x"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("login", ["devicecode", "msi", "workloadidentity", "azurecli"])
def test_modes_that_cannot_bind_a_key_refuse_pop(tmp_path: Path, login: str) -> None:
    args = ["get-token", "--login", login, "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", APP_ID, "--pop-enabled", "--pop-claims", f"u={ARC_ID}"]
    result = run_akslogin(args, clean_env(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"--login {login} cannot bind a token to a key" in result.stderr


def test_legacy_and_pop_do_not_mix(tmp_path: Path) -> None:
    args = ["get-token", "--login", "spn", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", APP_ID, "--legacy", "--pop-enabled", "--pop-claims", f"u={ARC_ID}"]
    result = run_akslogin(args, clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="x"))
    assert result.returncode == 2 and "--legacy" in result.stderr


def test_whoami_presents_the_pop_token_kubectl_would(tmp_path: Path, emu: Emulator) -> None:
    """The diagnostic commands get their token in process, from the same source as get-token: against an Arc
    cluster that is the signed PoP presentation, or the server refuses them where kubectl succeeds."""
    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=APP_SECRET)
    kc = write_kubeconfig(tmp_path / "config", emu, "edge1", _spn(emu, cache))
    for _ in range(2):  # the second run finds the bound token in the cache and signs a new presentation
        result = run_akslogin(["whoami", "--kubeconfig", str(kc)], env)
        assert result.returncode == 0, result.stderr
        assert "efefefef-0000-4000-8000-0000000000a1" in result.stdout, result.stdout  # arc-ci, as AKS maps it
        assert APP_ID in result.stdout  # the access token inside the proof was read (its appid)
    assert len(emu.request_log.token_requests()) == 1
    assert not [e for e in emu.request_log.entries("aks:edge1") if e.status == 401]
