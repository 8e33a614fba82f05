"""The emulated Entra ID speaks ESTS's wire protocol: discovery, JWKS, grants, exact error bodies."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from akslogin.emulator import Emulator
from akslogin.emulator.net.tlsmaterial import new_rsa_key, thumbprints
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.run import decode_jwt_payload
from support.worlds import TENANT_DOMAIN, TENANT_ID, AppInfo


def _get(emu: Emulator, path: str) -> requests.Response:
    return requests.get(emu.authority_host.rstrip("/") + path, verify=str(emu.ca_path), timeout=10)


def _token(emu: Emulator, form: dict[str, str], tenant: str = TENANT_ID, v1: bool = False,
           query: str = "") -> requests.Response:
    path = f"/{tenant}/oauth2/token" if v1 else f"/{tenant}/oauth2/v2.0/token"
    return requests.post(emu.authority_host.rstrip("/") + path + query, data=form, verify=str(emu.ca_path),
                         timeout=10)


def _assertion(app: AppInfo, aud: str, alg: str = "PS256", lifetime: int = 600, now: float | None = None,
               key_pem: bytes | None = None) -> str:
    cert = x509.load_pem_x509_certificate(app.cert_pem)
    sha1, sha256 = thumbprints(cert)
    header: dict[str, Any] = {"x5t#S256": sha256} if alg == "PS256" else {"x5t": sha1}
    now = time.time() if now is None else now
    claims = {"aud": aud, "iss": app.client_id, "sub": app.client_id, "jti": str(uuid.uuid4()),
              "iat": int(now), "nbf": int(now), "exp": int(now) + lifetime}
    key = serialization.load_pem_private_key(key_pem or app.key_pem, None)
    return jwt.encode(claims, key, algorithm=alg, headers=header)  # type: ignore[arg-type]


def test_discovery_documents(emulator: Emulator) -> None:
    v2 = _get(emulator, f"/{TENANT_DOMAIN}/v2.0/.well-known/openid-configuration").json()
    base = emulator.authority_host + TENANT_ID
    assert v2["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert v2["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
    assert v2["issuer"] == f"{base}/v2.0"
    v1 = _get(emulator, f"/{TENANT_ID}/.well-known/openid-configuration").json()
    assert v1["issuer"] == f"https://sts.windows.net/{TENANT_ID}/"
    assert v1["token_endpoint"] == f"{base}/oauth2/token"
    common = _get(emulator, "/common/v2.0/.well-known/openid-configuration").json()
    assert "{tenantid}" in common["issuer"]


def test_unknown_tenant_discovery_is_90002(emulator: Emulator) -> None:
    resp = _get(emulator, "/nobody.example/v2.0/.well-known/openid-configuration")
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "invalid_tenant" and body["error_codes"] == [90002]
    assert set(body) >= {"error_description", "timestamp", "trace_id", "correlation_id", "error_uri"}


def test_jwks_and_instance_discovery(emulator: Emulator) -> None:
    keys = _get(emulator, f"/{TENANT_ID}/discovery/v2.0/keys").json()["keys"]
    assert keys and all({"kid", "x5t", "x5c", "n", "e"} <= set(k) for k in keys)
    assert keys[0]["kid"] == keys[0]["x5t"]
    inst = _get(emulator, "/common/discovery/instance?api-version=1.1&authorization_endpoint="
                + emulator.authority_host + f"{TENANT_ID}/oauth2/v2.0/authorize").json()
    assert inst["tenant_discovery_endpoint"].endswith(f"/{TENANT_ID}/v2.0/.well-known/openid-configuration")
    assert inst["metadata"][0]["aliases"]


def test_client_secret_v2_token_is_v1_shaped_and_verifiable(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["editor"]
    resp = _token(emulator, {"grant_type": "client_credentials", "client_id": app.client_id,
                             "client_secret": app.secret or "", "scope": f"{AKS_SERVER_APP_ID}/.default"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and isinstance(body["expires_in"], int)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["kid"] == header["x5t"]
    jwk = next(k for k in _get(emulator, f"/{TENANT_ID}/discovery/keys").json()["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(body["access_token"], jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=AKS_SERVER_APP_ID)
    assert claims["iss"] == f"https://sts.windows.net/{TENANT_ID}/"
    assert claims["idtyp"] == "app" and claims["oid"] == app.object_id and claims["tid"] == TENANT_ID
    assert claims["groups"] == ["9c9c9c9c-0000-4000-8000-000000000001"]
    assert claims["ver"] == "1.0" and claims["appidacr"] == "1"


def test_v1_endpoint_strings_and_legacy_spn_audience(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    form = {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.secret or "",
            "resource": AKS_SERVER_APP_ID}
    plain = _token(emulator, form, v1=True).json()
    assert isinstance(plain["expires_in"], str) and isinstance(plain["expires_on"], str)
    assert decode_jwt_payload(plain["access_token"])["aud"] == AKS_SERVER_APP_ID
    legacy = _token(emulator, form, v1=True, query="?api-version=1.0").json()
    assert decode_jwt_payload(legacy["access_token"])["aud"] == f"spn:{AKS_SERVER_APP_ID}"


@pytest.mark.parametrize("alg", ["PS256", "RS256"])
def test_certificate_assertion(emulator: Emulator, apps: dict[str, AppInfo], alg: str) -> None:
    app = apps["cert"]
    aud = emulator.authority_host + f"{TENANT_ID}/oauth2/v2.0/token"
    resp = _token(emulator, {
        "grant_type": "client_credentials", "client_id": app.client_id, "scope": f"{AKS_SERVER_APP_ID}/.default",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(app, aud, alg=alg)})
    assert resp.status_code == 200, resp.text
    assert decode_jwt_payload(resp.json()["access_token"])["appidacr"] == "2"


@pytest.mark.parametrize(
    ("case", "code", "status"),
    [("wrong-key", 700027, 401), ("expired", 700024, 400), ("wrong-aud", 50027, 400), ("not-a-jwt", 50027, 400)],
)
def test_bad_assertions(emulator: Emulator, apps: dict[str, AppInfo], case: str, code: int, status: int) -> None:
    app = apps["cert"]
    aud = emulator.authority_host + f"{TENANT_ID}/oauth2/v2.0/token"
    if case == "wrong-key":
        other = new_rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
        assertion = _assertion(app, aud, key_pem=other)
    elif case == "expired":
        assertion = _assertion(app, aud, now=time.time() - 7200)
    elif case == "wrong-aud":
        assertion = _assertion(app, "https://elsewhere.example/token")
    else:
        assertion = "not.a.jwt"
    resp = _token(emulator, {
        "grant_type": "client_credentials", "client_id": app.client_id, "scope": f"{AKS_SERVER_APP_ID}/.default",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    assert resp.status_code == status
    assert resp.json()["error_codes"] == [code]
    assert resp.headers["x-ms-clitelem"] == f"1,{code},0,,"


def test_secret_errors_have_ests_shape(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    bad = _token(emulator, {"grant_type": "client_credentials", "client_id": app.client_id,
                            "client_secret": "nope", "scope": f"{AKS_SERVER_APP_ID}/.default"})
    assert bad.status_code == 401
    body = bad.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: ")
    assert "Trace ID:" in body["error_description"] and "Correlation ID:" in body["error_description"]
    unknown = _token(emulator, {"grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
                                "client_secret": "x", "scope": f"{AKS_SERVER_APP_ID}/.default"})
    assert unknown.status_code == 400 and unknown.json()["error_codes"] == [700016]
    resource = _token(emulator, {"grant_type": "client_credentials", "client_id": app.client_id,
                                 "client_secret": app.secret or "", "scope": "spn:spn:abc/.default"})
    assert resource.json()["error_codes"] == [500011]


def test_clock_moves_token_times_and_log_keeps_no_secrets(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    emulator.clock.advance(86400)
    resp = _token(emulator, {"grant_type": "client_credentials", "client_id": app.client_id,
                             "client_secret": app.secret or "", "scope": f"{AKS_SERVER_APP_ID}/.default"})
    assert decode_jwt_payload(resp.json()["access_token"])["iat"] >= time.time() + 86000
    entry = emulator.request_log.token_requests()[-1]
    assert entry.grant_type == "client_credentials" and entry.client_id == app.client_id
    assert (app.secret or "") not in repr(emulator.request_log.entries())


def test_control_api_over_https(emulator: Emulator) -> None:
    base = emulator.authority_host + "_emulator"
    control = {"Authorization": f"Bearer {emulator.control_token}"}
    requests.post(base + "/requests/reset", verify=str(emulator.ca_path), timeout=10, headers=control)
    _get(emulator, f"/{TENANT_ID}/discovery/keys")
    log = requests.get(base + "/requests", verify=str(emulator.ca_path), timeout=10, headers=control).json()
    assert [e["path"] for e in log] == [f"/{TENANT_ID}/discovery/keys"]
    clock = requests.post(base + "/clock", json={"advance": 60}, verify=str(emulator.ca_path), timeout=10,
                          headers=control).json()
    assert clock["offset"] == pytest.approx(60, abs=1)


def test_fault_knobs(emulator: Emulator) -> None:
    from akslogin.emulator.net.faults import Fault

    emulator.faults.add(Fault(service="entra", path="/discovery/keys", kind="status", status=429, retry_after=7))
    throttled = _get(emulator, f"/{TENANT_ID}/discovery/keys")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert _get(emulator, f"/{TENANT_ID}/discovery/keys").status_code == 200  # one-shot
    emulator.faults.add(Fault(service="entra", path="/discovery/keys", kind="html", status=502))
    html = _get(emulator, f"/{TENANT_ID}/discovery/keys")
    assert html.status_code == 502 and html.headers["Content-Type"] == "text/html"
    emulator.faults.add(Fault(service="entra", path="/discovery/keys", kind="reset"))
    with pytest.raises(requests.exceptions.ConnectionError):
        _get(emulator, f"/{TENANT_ID}/discovery/keys")
    emulator.faults.add(Fault(service="entra", path="/discovery/keys", kind="truncate"))
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        _get(emulator, f"/{TENANT_ID}/discovery/keys").json()
    emulator.faults.set_latency("entra", 0.3)
    start = time.monotonic()
    _get(emulator, f"/{TENANT_ID}/discovery/keys")
    assert time.monotonic() - start >= 0.3
