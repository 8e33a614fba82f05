"""Proof-of-possession tokens for Azure Arc-enabled clusters, end to end.

Real kubectl → akslogin get-token --pop-enabled → emulated Entra ID (token bound to the key by req_cnf) →
emulated Arc API server, which accepts only a JWS signed by that key, with its own ARM id in ``u``, a fresh
``ts`` and an unused nonce. Each way of getting that wrong is refused with a 401 that says why.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import base64
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin import pop
from akslogin.emulator import Emulator
from akslogin.emulator.world import ARC_SERVER_APP_ID
from support import pop_arc as shared
from support.login_interactive import _browser_env, needs_chromium
from support.pop_arc import (
    APP_SECRET,
    ARC_ID,
    PASSWORD,
    PUBLIC_CLIENT,
    TENANT,
    USER,
    _call,
    _get_token,
    _segments,
    _spn,
)
from support.run import KubectlRun, clean_env, decode_jwt_payload, kubectl, write_kubeconfig


@pytest.fixture(scope='module')
def arc_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.arc_emu(tmp_path_factory)


@pytest.fixture
def emu(arc_emu: Emulator) -> Iterator[Emulator]:
    yield from shared.emu(arc_emu)


def test_kubectl_reaches_an_arc_cluster_with_a_pop_token_and_the_cache_serves_later_calls(
        tmp_path: Path, emu: Emulator) -> None:
    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=APP_SECRET)
    kc = write_kubeconfig(tmp_path / "config", emu, "edge1", _spn(emu, cache))
    result = kubectl(kc, "get", "pods", env=env)
    assert result.returncode == 0, result.stderr
    assert "sensor-1" in result.stdout
    requests_made = emu.request_log.token_requests()
    assert len(requests_made) == 1 and requests_made[0].extra["token_type"] == "pop"

    key_file = cache / "pop" / "rsa-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = pop.PopKey.from_pem(key_file.read_bytes())
    assert key is not None
    sent = json.loads(base64.urlsafe_b64decode(requests_made[0].extra["req_cnf"] + "=="))
    assert sent == {"kid": key.kid, "xms_ksl": "sw"}

    first = _get_token(_spn(emu, cache), env)
    second = _get_token(_spn(emu, cache), env)
    assert len(emu.request_log.token_requests()) == 1  # cached: no request, only a new signature
    assert first["token"] != second["token"]
    (h1, p1), (_, p2) = _segments(first["token"]), _segments(second["token"])
    assert h1 == {"typ": "pop", "alg": "RS256", "kid": key.kid}
    assert p1["at"] == p2["at"] and p1["nonce"] != p2["nonce"] and p1["u"] == ARC_ID
    assert p1["cnf"]["jwk"] == key.jwk and abs(p1["ts"] - time.time()) < 60
    assert decode_jwt_payload(p1["at"])["cnf"] == {"kid": key.kid}
    # kubectl re-runs the plugin before the server's 5-minute ts window closes, not after the token's hour.
    expires = time.mktime(time.strptime(first["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert expires - time.time() <= pop.PRESENTATION_LIFETIME + 5
    for token in (first["token"], second["token"], first["token"]):  # a client may reuse its credential
        assert _call(emu, token).status_code == 200


def test_the_arc_server_refuses_every_wrong_proof_and_says_why(tmp_path: Path, emu: Emulator) -> None:
    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=APP_SECRET)
    token = _get_token(_spn(emu, cache), env)["token"]
    _, payload = _segments(token)
    access = payload["at"]
    key = pop.PopKey.from_pem((cache / "pop" / "rsa-key.pem").read_bytes())
    assert key is not None
    now = time.time()

    bearer = _get_token(_spn(emu, tmp_path / "bearer-cache", pop_claims=None), env)["token"]
    cases = {
        "bearer": (bearer, "accepts only proof-of-possession"),
        "stale ts": (pop.present(access, key, ARC_ID, now - 600), "s old; it must be within 300s"),
        "wrong u": (pop.present(access, key, ARC_ID.replace("edge1", "edge2"), now), "u claim"),
        "other key": (pop.present(access, pop.PopKey.generate(), ARC_ID, now), "signed by another key"),
        "replayed nonce": (pop.present(access, key, ARC_ID, payload["ts"] - 1, nonce=payload["nonce"]),
                           "nonce was already used"),
        "bearer inside": (pop.present(bearer, key, ARC_ID, now), "not bound to a key"),
    }
    assert _call(emu, token).status_code == 200
    for name, (candidate, why) in cases.items():
        response = _call(emu, candidate)
        assert response.status_code == 401, name
        body = response.json()
        assert body["kind"] == "Status" and why in body["message"], (name, body)

    # A signature that does not match its payload (the at swapped after signing).
    head, body_part, sig = pop.present(access, key, ARC_ID, now).split(".")
    forged = json.loads(base64.urlsafe_b64decode(body_part + "=" * (-len(body_part) % 4)))
    forged["u"] = ARC_ID.upper()
    tampered = ".".join([head, base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode(), sig])
    assert "signature does not verify" in _call(emu, tampered).json()["message"]

    # kubectl with a bearer token: refused, while the same identity with PoP gets in.
    kc = write_kubeconfig(tmp_path / "config", emu, "edge1", _spn(emu, tmp_path / "bearer-cache", pop_claims=None))
    assert kubectl(kc, "get", "pods", env=env).returncode != 0


def test_spn_certificate_and_ropc_get_pop_tokens_too(tmp_path: Path, emu: Emulator) -> None:
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=USER, AAD_USER_PRINCIPAL_PASSWORD=PASSWORD)
    emu.entra.settings.access_token_lifetime = 200  # inside akslogin's 5-minute margin: each run renews it
    cert = ["get-token", "--login", "spn", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", "efefefef-0000-4000-8000-000000000002",
            "--client-certificate", str(emu.pem_path),  # type: ignore[attr-defined]
            "--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path),
            "--cache-dir", str(tmp_path / "c1"), "--pop-enabled", "--pop-claims", f"u={ARC_ID}"]
    ropc = ["get-token", "--login", "ropc", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", PUBLIC_CLIENT, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(tmp_path / "c2"),
            "--pop-enabled", "--pop-claims", f"u={ARC_ID},other=ignored"]
    for name, args in (("cert", cert), ("ropc", ropc)):
        kc = write_kubeconfig(tmp_path / f"config-{name}", emu, "edge1", args)
        result = kubectl(kc, "get", "pods", env=env)
        assert result.returncode == 0, (name, result.stderr)
        assert "sensor-1" in result.stdout
    grants = [(r.grant_type, r.extra.get("token_type")) for r in emu.request_log.token_requests()]
    assert grants == [("client_credentials", "pop"), ("password", "pop")]

    # ropc: an expired access token is renewed with the refresh token, still bound to the key.
    status = _get_token(ropc, env)
    last = emu.request_log.token_requests()[-1]
    assert (last.grant_type, last.extra.get("token_type")) == ("refresh_token", "pop")
    assert _call(emu, status["token"]).status_code == 200


@needs_chromium
def test_interactive_sign_in_gets_a_pop_token(tmp_path: Path, emu: Emulator) -> None:
    args = ["get-token", "--login", "interactive", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", PUBLIC_CLIENT, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(tmp_path / "cache"),
            "--pop-enabled", "--pop-claims", f"u={ARC_ID}"]
    env = _browser_env(tmp_path, emu, USER, PASSWORD)
    env.pop("DISPLAY", None)
    kc = write_kubeconfig(tmp_path / "config", emu, "edge1", args, interactive_mode="IfAvailable")
    result = KubectlRun(kc, "get", "pods", env=env, terminal=True).finish(timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sensor-1" in result.stdout
    grants = [(r.grant_type, r.extra.get("token_type")) for r in emu.request_log.token_requests()]
    assert grants == [("authorization_code", "pop")]
