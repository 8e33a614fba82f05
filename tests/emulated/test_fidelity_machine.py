"""Microsoft's own clients work against the emulated machine endpoints unchanged: MSAL's
ManagedIdentityClient and confidential client with an assertion callable, and azure-identity's
ManagedIdentityCredential, WorkloadIdentityCredential, ClientAssertionCredential and AzurePipelinesCredential.
(MSAL's Azure Arc client reads keys from the hard-coded /var/opt/azcmagent/tokens, so it cannot be
pointed at the emulator; akslogin's own Arc client is tested in test_login_msi.py.)"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from typing import Any

import jwt
import msal
import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.azure.managed_identity import managed_identities
from akslogin.emulator.entra.federation import federation
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.machine_world import (
    ADO_APP,
    ADO_CONNECTION,
    GH_APP,
    OBJECT_IDS,
    TENANT,
    UAMI_CLIENT,
    UAMI_OBJECT,
    UAMI_RESOURCE,
    WI_APP,
)
from support.run import decode_jwt_payload

SCOPE = f"{AKS_SERVER_APP_ID}/.default"
MI_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
                "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "MSAL_MANAGED_IDENTITY_ENDPOINT")


@pytest.fixture
def on_host(monkeypatch: pytest.MonkeyPatch, machine_emulator: Emulator) -> Any:
    """Make this process look like it runs on an emulated host (the SDKs read os.environ)."""
    for name in MI_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def enter(host: str) -> None:
        for name, value in managed_identities(machine_emulator).environment(host).items():
            monkeypatch.setenv(name, value)
    return enter


@pytest.mark.parametrize(("host", "identity", "oid"), [
    ("build-vm", msal.SystemAssignedManagedIdentity(), OBJECT_IDS["build-vm"]),
    ("build-vm", msal.UserAssignedManagedIdentity(client_id=UAMI_CLIENT), UAMI_OBJECT),
    ("build-vm", msal.UserAssignedManagedIdentity(resource_id=UAMI_RESOURCE), UAMI_OBJECT),
    ("build-vm", msal.UserAssignedManagedIdentity(object_id=UAMI_OBJECT), UAMI_OBJECT),
    ("web-app", msal.SystemAssignedManagedIdentity(), OBJECT_IDS["web-app"]),
    ("web-app", msal.UserAssignedManagedIdentity(resource_id=UAMI_RESOURCE), UAMI_OBJECT),
])
def test_msal_managed_identity_client(on_host: Any, machine_emulator: Emulator, host: str, identity: Any,
                                      oid: str) -> None:
    on_host(host)
    client = msal.ManagedIdentityClient(identity, http_client=requests.Session())
    result = client.acquire_token_for_client(resource=AKS_SERVER_APP_ID)
    assert "access_token" in result, result
    assert result["expires_in"] > 86000  # 24-hour tokens, from string fields (IMDS) or expires_on (App Service)
    claims = decode_jwt_payload(result["access_token"])
    assert (claims["oid"], claims["aud"], claims["idtyp"], claims["tid"]) == (oid, AKS_SERVER_APP_ID, "app", TENANT)


def test_msal_reports_imds_errors_as_error_dicts(on_host: Any) -> None:
    on_host("build-vm")
    client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id="nope"),
                                        http_client=requests.Session())
    result = client.acquire_token_for_client(resource=AKS_SERVER_APP_ID)
    assert result == {"error": "invalid_request", "error_description": "Identity not found"}


@pytest.mark.parametrize("host", ["build-vm", "web-app"])
def test_azure_identity_managed_identity_credential(on_host: Any, host: str) -> None:
    from azure.identity import ManagedIdentityCredential

    on_host(host)
    system = ManagedIdentityCredential().get_token(SCOPE)
    assert decode_jwt_payload(system.token)["oid"] == OBJECT_IDS[host]
    user = ManagedIdentityCredential(client_id=UAMI_CLIENT).get_token(SCOPE)
    assert decode_jwt_payload(user.token)["oid"] == UAMI_OBJECT


def _azure_identity_kwargs(emu: Emulator) -> dict[str, Any]:
    return {"authority": emu.authority_host, "connection_verify": str(emu.ca_path)}


def test_azure_identity_workload_identity_credential(tmp_path: Path, machine_emulator: Emulator) -> None:
    from azure.identity import WorkloadIdentityCredential

    token_file = tmp_path / "token"
    token_file.write_text(federation(machine_emulator).service_account_token("deploy", "deployer"))
    credential = WorkloadIdentityCredential(tenant_id=TENANT, client_id=WI_APP, token_file_path=str(token_file),
                                            **_azure_identity_kwargs(machine_emulator))
    assert decode_jwt_payload(credential.get_token(SCOPE).token)["oid"] == OBJECT_IDS["wi"]


def test_azure_identity_client_assertion_credential_with_github_token(machine_emulator: Emulator) -> None:
    from azure.identity import ClientAssertionCredential

    job = federation(machine_emulator).github_job("contoso/app", environment="prod")

    def github_token() -> str:
        response = requests.get(job["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=api://AzureADTokenExchange",
                                headers={"Authorization": "bearer " + job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]},
                                verify=str(machine_emulator.ca_path), timeout=10)
        value: str = response.json()["value"]
        return value

    credential = ClientAssertionCredential(TENANT, GH_APP, github_token, **_azure_identity_kwargs(machine_emulator))
    assert decode_jwt_payload(credential.get_token(SCOPE).token)["oid"] == OBJECT_IDS["gh"]


def test_azure_identity_azure_pipelines_credential(monkeypatch: pytest.MonkeyPatch,
                                                   machine_emulator: Emulator) -> None:
    from azure.identity import AzurePipelinesCredential

    job = federation(machine_emulator).pipelines_job("contoso", "aks", {ADO_CONNECTION: "aks-prod"})
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", job["SYSTEM_OIDCREQUESTURI"])
    credential = AzurePipelinesCredential(tenant_id=TENANT, client_id=ADO_APP, service_connection_id=ADO_CONNECTION,
                                          system_access_token=job["SYSTEM_ACCESSTOKEN"],
                                          **_azure_identity_kwargs(machine_emulator))
    assert decode_jwt_payload(credential.get_token(SCOPE).token)["oid"] == OBJECT_IDS["ado"]


def test_msal_confidential_client_with_assertion_callable(machine_emulator: Emulator) -> None:
    fed = federation(machine_emulator)
    handed_out: list[str] = []

    def assertion() -> str:
        handed_out.append(fed.service_account_token("deploy", "deployer"))
        return handed_out[-1]

    session = requests.Session()
    session.request = functools.partial(session.request, verify=str(machine_emulator.ca_path))  # type: ignore
    app = msal.ConfidentialClientApplication(WI_APP, client_credential={"client_assertion": assertion},
                                             authority=machine_emulator.authority_host + TENANT,
                                             instance_discovery=False, azure_region=False, http_client=session)
    result = app.acquire_token_for_client([SCOPE])
    assert decode_jwt_payload(result["access_token"])["oid"] == OBJECT_IDS["wi"]
    assert len(handed_out) == 1


def test_hosted_issuers_publish_discovery_and_keys_that_verify_their_tokens(machine_emulator: Emulator) -> None:
    fed = federation(machine_emulator)
    issuer = fed.issuer("kubernetes")
    discovery = requests.get(issuer.url + "/.well-known/openid-configuration", verify=str(machine_emulator.ca_path),
                             timeout=10).json()
    assert discovery["issuer"] == issuer.url
    keys = jwt.PyJWKClient(discovery["jwks_uri"], ssl_context=ssl.create_default_context(
        cafile=str(machine_emulator.ca_path)))
    token = fed.service_account_token("deploy", "deployer")
    claims = jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                        audience="api://AzureADTokenExchange", issuer=issuer.url)
    assert claims["sub"] == "system:serviceaccount:deploy:deployer"
    assert claims["kubernetes.io"]["namespace"] == "deploy"
