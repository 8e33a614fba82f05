"""--login spn beyond a pinned secret or certificate: subject name + issuer trust (a certificate chain, so a
renewed leaf needs no app change) and --legacy (the v1 endpoint and the spn: audience of old clusters).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from akslogin.emulator import Emulator
from akslogin.emulator.net.tlsmaterial import new_rsa_key, thumbprints
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.machine_world import OBJECT_IDS, SNI_APP, TENANT, _issue, new_ca
from support.run import (
    clean_env,
    decode_jwt_payload,
    run_akslogin,
    spn_args,
)
from support.spn_chain_legacy import _sni_args
from support.worlds import TENANT_ID, AppInfo


def test_wrong_subject_or_foreign_issuer_is_refused(tmp_path: Path, machine_emulator: Emulator,
                                                   machine_world: Any) -> None:
    other_ca = new_ca("Someone Else's CA")
    for pem in (machine_world.leaf("impostor", subject="CN=impostor.contoso.example"),
                machine_world.leaf("foreign", issuer=other_ca)):
        result = run_akslogin(_sni_args(machine_emulator, pem, tmp_path / "cache"), clean_env(tmp_path))
        assert result.returncode == 1
        assert "AADSTS700027" in result.stderr and "certificate's signature was not accepted" in result.stderr
    assert [r.error_code for r in machine_emulator.request_log.token_requests()] == [700027, 700027]


def test_emulator_follows_an_x5c_chain_through_an_intermediate(machine_emulator: Emulator,
                                                               machine_world: Any) -> None:
    """Clients that send the whole chain (kubelogin does) with a leaf issued by an intermediate CA."""
    inter_key = new_rsa_key()
    inter = _issue(machine_world.ca_key, machine_world.ca_cert, inter_key, "CN=Contoso Intermediate", ca=True)
    leaf_key = new_rsa_key()
    leaf = _issue(inter_key, inter, leaf_key, "CN=ci-sni.contoso.example", ca=False)
    endpoint = f"{machine_emulator.authority_host}{TENANT}/oauth2/v2.0/token"

    def exchange(x5c: list[x509.Certificate]) -> requests.Response:
        now = int(time.time())
        header = {"x5t#S256": thumbprints(leaf)[1],
                  "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in x5c]}
        assertion = jwt.encode({"aud": endpoint, "iss": SNI_APP, "sub": SNI_APP, "jti": str(uuid.uuid4()),
                                "iat": now, "exp": now + 600}, leaf_key, algorithm="PS256", headers=header)
        return requests.post(endpoint, data={
            "grant_type": "client_credentials", "client_id": SNI_APP, "scope": f"{AKS_SERVER_APP_ID}/.default",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}, verify=str(machine_emulator.ca_path), timeout=10)

    ok = exchange([leaf, inter])
    assert ok.status_code == 200, ok.text
    assert decode_jwt_payload(ok.json()["access_token"])["oid"] == OBJECT_IDS["sni"]
    broken = exchange([leaf])  # without the intermediate the chain cannot reach the trusted CA
    assert broken.status_code == 401 and broken.json()["error_codes"] == [700027]
    assert "does not end at a trusted issuer" in broken.json()["error_description"]


def test_legacy_with_certificate_and_errors(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    cert = apps["cert"]
    result = run_akslogin([*spn_args(emulator, cert), "--legacy", "--client-certificate", str(cert.pem_path)],
                          clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    claims = decode_jwt_payload(json.loads(result.stdout)["status"]["token"])
    assert (claims["aud"], claims["appidacr"], claims["tid"]) == (f"spn:{AKS_SERVER_APP_ID}", "2", TENANT_ID)
    wrong = run_akslogin([*spn_args(emulator, apps["viewer"]), "--legacy"],
                         clean_env(tmp_path, AZURE_CLIENT_SECRET="not-it"))
    assert wrong.returncode == 1 and "AADSTS7000215" in wrong.stderr and "not-it" not in wrong.stderr
