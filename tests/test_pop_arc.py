"""Proof-of-possession tokens for Azure Arc-enabled clusters, end to end.

Real kubectl → akslogin get-token --pop-enabled → emulated Entra ID (token bound to the key by req_cnf) →
emulated Arc API server, which accepts only a JWS signed by that key, with its own ARM id in ``u``, a fresh
``ts`` and an unused nonce. Each way of getting that wrong is refused with a 401 that says why.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from akslogin import pop
from akslogin.emulator import Emulator
from akslogin.emulator.world import ARC_SERVER_APP_ID, World
from support.run import KubectlRun, clean_env, decode_jwt_payload, kubectl, run_akslogin, write_kubeconfig
from test_login_interactive import _browser_env, needs_chromium

TENANT = "abababab-0000-4000-8000-00000000000a"
SUB = "cdcdcdcd-0000-4000-8000-00000000000c"
APP_ID = "efefefef-0000-4000-8000-000000000001"
APP_SECRET = "arc-secret-Uv5~pop"
PUBLIC_CLIENT = "3f4439ff-e698-4d6d-84fe-09c9d574f06b"  # Azure Arc's client app, as kubelogin's docs name it
USER = "arcdev@arc.example"
PASSWORD = "Arc-Passw0rd!"
ARC_ID = (f"/subscriptions/{SUB}/resourceGroups/arc-rg/providers/Microsoft.Kubernetes/"
          "connectedClusters/edge1")


@pytest.fixture(scope="module")
def arc_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    directory = tmp_path_factory.mktemp("arc-world")
    from akslogin.emulator.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed

    key = new_rsa_key()
    pem = directory / "arc-cert.pem"
    pem.write_bytes(key_pem(key) + cert_pem(self_signed("arc-cert.example", key)))
    pem.chmod(0o600)
    world = World.from_dict({
        "tenants": [{
            "id": TENANT, "domains": ["arc.example"],
            "apps": [
                {"name": "arc-ci", "client_id": APP_ID, "object_id": "efefefef-0000-4000-8000-0000000000a1",
                 "secrets": [APP_SECRET]},
                {"name": "arc-cert", "client_id": "efefefef-0000-4000-8000-000000000002",
                 "object_id": "efefefef-0000-4000-8000-0000000000a2", "certificates": [str(pem)]},
                {"name": "arc-cli", "client_id": PUBLIC_CLIENT, "public_client": True},
            ],
            "users": [{"upn": USER, "object_id": "efefefef-0000-4000-8000-0000000000b1", "password": PASSWORD}],
        }],
        "clusters": [{
            "name": "edge1", "tenant": TENANT, "arc": True, "subscription": SUB, "resource_group": "arc-rg",
            "pods": {"default": ["sensor-1"]},
            "rbac": {"bindings": [{"name": "ops", "role": "view", "subjects": [
                {"app": "arc-ci"}, {"app": "arc-cert"}, {"user": USER}]}]},
        }],
    })
    with Emulator(world, tmp_path_factory.mktemp("arc-emulator")) as emu:
        emu.pem_path = pem  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def emu(arc_emu: Emulator) -> Iterator[Emulator]:
    yield arc_emu
    arc_emu.request_log.reset()
    arc_emu.clock.reset()
    arc_emu.entra.settings.access_token_lifetime = 3599


def _spn(emu: Emulator, cache: Path, *extra: str, pop_claims: str | None = f"u={ARC_ID}") -> list[str]:
    args = ["get-token", "--login", "spn", "--server-id", ARC_SERVER_APP_ID, "--tenant-id", TENANT,
            "--client-id", APP_ID, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache), "--cache-storage", "file"]
    if pop_claims is not None:
        args += ["--pop-enabled", "--pop-claims", pop_claims]
    return [*args, *extra]


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))),
            json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _get_token(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = run_akslogin(args, env)
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = json.loads(result.stdout)["status"]
    return status


def _call(emu: Emulator, token: str) -> requests.Response:
    return requests.get(emu.cluster_url("edge1") + "/api/v1/namespaces/default/pods",
                        headers={"Authorization": f"Bearer {token}"}, verify=str(emu.ca_path), timeout=10)


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


def test_jws_matches_the_spec_byte_for_byte() -> None:
    """RFC 7638 thumbprint and the JWS layout, checked with PyJWT against the key's own public half."""
    import jwt

    key = pop.PopKey.generate()
    token = pop.present("at-value", key, "u-value", 1_700_000_000, nonce="n1")
    header, payload = _segments(token)
    assert header == {"typ": "pop", "alg": "RS256", "kid": key.kid}
    assert payload == {"at": "at-value", "ts": 1_700_000_000, "u": "u-value", "cnf": {"jwk": key.jwk},
                       "nonce": "n1"}
    public = jwt.PyJWK({"kty": "RSA", "n": key.jwk["n"], "e": key.jwk["e"]}).key
    jwt.PyJWS().decode_complete(token, public, algorithms=["RS256"])  # raises if the signature is wrong
    from akslogin.emulator.arcguard import jwk_thumbprint

    assert jwk_thumbprint(key.jwk) == key.kid and len(key.kid) == 43
    # RFC 7638, section 3.1: the example key and its thumbprint.
    rfc_n = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF"
             "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d"
             "0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44"
             "-csFCur-kEgU8awapJzKnqDKgw")
    assert jwk_thumbprint({"kty": "RSA", "n": rfc_n, "e": "AQAB"}) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    from cryptography.hazmat.primitives.asymmetric import rsa

    rfc_public = rsa.RSAPublicNumbers(65537, int.from_bytes(base64.urlsafe_b64decode(rfc_n + "=="), "big"))

    class _Public:  # PopKey computes the thumbprint from the public half only
        def public_key(self) -> Any:
            return rfc_public.public_key()

    assert pop.PopKey(_Public()).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert key.req_cnf == base64.urlsafe_b64encode(
        json.dumps({"kid": key.kid, "xms_ksl": "sw"}, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert "PRIVATE" not in repr(key) and os.path.sep not in repr(key)


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
