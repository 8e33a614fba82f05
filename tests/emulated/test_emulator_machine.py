"""The emulated machine endpoints speak their platforms' wire protocols: IMDS, App Service, Arc, the
GitHub Actions and Azure Pipelines OIDC endpoints, and the world schema that declares them.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.azure.managed_identity import managed_identities
from akslogin.emulator.entra.federation import federation
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.machine_world import ADO_CONNECTION, OBJECT_IDS, UAMI_CLIENT, UAMI_OBJECT
from support.run import decode_jwt_payload


def _get(emu: Emulator, host: str, path: str, headers: dict[str, str] | None = None, **params: str
         ) -> requests.Response:
    return requests.get(managed_identities(emu).url(host) + path, params=params, headers=headers or {}, timeout=10)


IMDS = "/metadata/identity/oauth2/token"


def test_imds_requires_the_metadata_header(machine_emulator: Emulator) -> None:
    resp = _get(machine_emulator, "build-vm", IMDS, **{"api-version": "2018-02-01", "resource": AKS_SERVER_APP_ID})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_request", "error_description": "Required metadata header not specified"}


def test_imds_answers_with_strings(machine_emulator: Emulator) -> None:
    resp = _get(machine_emulator, "build-vm", IMDS, {"Metadata": "true"},
                **{"api-version": "2018-02-01", "resource": AKS_SERVER_APP_ID, "object_id": UAMI_OBJECT})
    body = resp.json()
    assert resp.status_code == 200
    assert set(body) == {"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before",
                         "resource", "token_type"}
    assert all(isinstance(v, str) for v in body.values())
    assert body["client_id"] == UAMI_CLIENT and body["expires_in"] == "86399"
    assert int(body["expires_on"]) - int(body["not_before"]) == 86399
    claims = decode_jwt_payload(body["access_token"])
    assert (claims["oid"], claims["appidacr"], claims["iss"]) == (UAMI_OBJECT, "2", f"https://sts.windows.net/{claims['tid']}/")


@pytest.mark.parametrize(("params", "status", "description"), [
    ({"client_id": UAMI_CLIENT, "object_id": UAMI_OBJECT}, 400, "Only one of"),
    ({"client_id": "unknown"}, 400, "Identity not found"),
    ({}, 400, "Multiple user assigned identities exist"),
    ({"client_id": UAMI_CLIENT, "resource": "https://vault.azure.net"}, 400, "AADSTS500011"),
    ({"client_id": UAMI_CLIENT, "api-version": ""}, 400, "api-version"),
])
def test_imds_errors(machine_emulator: Emulator, params: dict[str, str], status: int, description: str) -> None:
    query = {"api-version": "2018-02-01", "resource": AKS_SERVER_APP_ID, **params}
    resp = _get(machine_emulator, "multi-vm", IMDS, {"Metadata": "true"}, **query)
    assert resp.status_code == status and description in resp.json()["error_description"]


def test_app_service_endpoint(machine_emulator: Emulator) -> None:
    env = managed_identities(machine_emulator).environment("web-app")
    url, secret = env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"]
    query = {"api-version": "2019-08-01", "resource": AKS_SERVER_APP_ID}
    ok = requests.get(url, params={**query, "principal_id": UAMI_OBJECT}, headers={"X-IDENTITY-HEADER": secret},
                      timeout=10)
    assert ok.status_code == 200 and "expires_in" not in ok.json()
    assert isinstance(ok.json()["expires_on"], str) and ok.json()["client_id"] == UAMI_CLIENT
    missing = requests.get(url, params=query, timeout=10)
    assert missing.status_code == 400 and missing.json()["statusCode"] == 400
    old = requests.get(url, params={**query, "api-version": "2017-09-01"}, headers={"X-IDENTITY-HEADER": secret},
                       timeout=10)
    assert old.status_code == 400 and "2019-08-01" in old.json()["message"]


def test_arc_challenge_and_key_file(machine_emulator: Emulator) -> None:
    query = {"api-version": "2020-06-01", "resource": AKS_SERVER_APP_ID}
    challenge = _get(machine_emulator, "arc-server", IMDS, {"Metadata": "true"}, **query)
    assert challenge.status_code == 401
    scheme, _, realm = challenge.headers["WWW-Authenticate"].partition(" realm=")
    key_file = Path(realm)
    assert scheme == "Basic" and key_file.suffix == ".key"
    assert key_file.parent == managed_identities(machine_emulator).arc_key_dir("arc-server")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600" and key_file.stat().st_size <= 4096
    ok = _get(machine_emulator, "arc-server", IMDS, {"Metadata": "true", "Authorization": "Basic "
                                                     + key_file.read_text()}, **query)
    assert ok.status_code == 200 and decode_jwt_payload(ok.json()["access_token"])["oid"] == OBJECT_IDS["arc-server"]
    wrong = _get(machine_emulator, "arc-server", IMDS, {"Metadata": "true", "Authorization": "Basic guess"}, **query)
    assert wrong.status_code == 401 and "WWW-Authenticate" not in wrong.headers


def test_github_idtoken_endpoint(machine_emulator: Emulator) -> None:
    job = federation(machine_emulator).github_job("contoso/app")
    url, token = job["ACTIONS_ID_TOKEN_REQUEST_URL"], job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    verify = str(machine_emulator.ca_path)
    default = requests.get(url, headers={"Authorization": f"bearer {token}"}, verify=verify, timeout=10).json()
    claims = decode_jwt_payload(default["value"])
    assert claims["aud"] == "https://github.com/contoso"  # GitHub's default audience: the owner's URL
    assert claims["sub"] == "repo:contoso/app:ref:refs/heads/main" and claims["repository"] == "contoso/app"
    assert requests.get(url, headers={"Authorization": "bearer nope"}, verify=verify, timeout=10).status_code == 401
    no_version = url.split("?")[0]
    assert requests.get(no_version, headers={"Authorization": f"bearer {token}"}, verify=verify,
                        timeout=10).status_code == 400


def test_pipelines_oidctoken_endpoint(machine_emulator: Emulator) -> None:
    job = federation(machine_emulator).pipelines_job("contoso", "aks", {ADO_CONNECTION: "aks-prod"})
    uri, token = job["SYSTEM_OIDCREQUESTURI"], job["SYSTEM_ACCESSTOKEN"]
    verify = str(machine_emulator.ca_path)
    resp = requests.post(uri, params={"api-version": "7.1", "serviceConnectionId": ADO_CONNECTION},
                         headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=10)
    claims = decode_jwt_payload(resp.json()["oidcToken"])
    assert (claims["sub"], claims["aud"]) == ("sc://contoso/aks/aks-prod", "api://AzureADTokenExchange")
    no_version = requests.post(uri, params={"serviceConnectionId": ADO_CONNECTION},
                               headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=10)
    assert no_version.status_code == 400 and "api-version" in no_version.json()["message"]


def test_control_route_mints_service_account_tokens(machine_emulator: Emulator) -> None:
    resp = requests.post(machine_emulator.authority_host + "_emulator/federation/service-account-token",
                         json={"namespace": "deploy", "service_account": "deployer", "lifetime": 600},
                         verify=str(machine_emulator.ca_path), timeout=10,
                         headers={"Authorization": f"Bearer {machine_emulator.control_token}"})
    claims = decode_jwt_payload(resp.json()["token"])
    assert claims["sub"] == "system:serviceaccount:deploy:deployer"
    assert claims["iss"] == federation(machine_emulator).issuer("kubernetes").url
    assert claims["exp"] - claims["iat"] == 600
