"""Microsoft's own client libraries work against the emulator unchanged, apart from authority and CA."""

from __future__ import annotations

import functools

import msal
import pytest
import requests
from cryptography import x509

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.run import decode_jwt_payload
from support.worlds import TENANT_ID, AppInfo

SCOPE = f"{AKS_SERVER_APP_ID}/.default"


def _session(emu: Emulator) -> requests.Session:
    # requests lets REQUESTS_CA_BUNDLE override Session.verify; pass verify per request instead.
    session = requests.Session()
    session.request = functools.partial(session.request, verify=str(emu.ca_path))  # type: ignore[method-assign]
    return session


def _cca(emu: Emulator, app: AppInfo, credential: object) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        app.client_id, client_credential=credential, authority=emu.authority_host + TENANT_ID,
        instance_discovery=False, azure_region=False, http_client=_session(emu),
    )


def test_msal_confidential_client_with_secret(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    result = _cca(emulator, app, app.secret).acquire_token_for_client([SCOPE])
    assert "access_token" in result, result
    assert decode_jwt_payload(result["access_token"])["oid"] == app.object_id


def test_msal_confidential_client_with_certificate_thumbprint_rs256(emulator: Emulator,
                                                                    apps: dict[str, AppInfo]) -> None:
    app = apps["cert"]
    cert = x509.load_pem_x509_certificate(app.cert_pem)
    from cryptography.hazmat.primitives import hashes

    thumbprint = cert.fingerprint(hashes.SHA1()).hex()
    result = _cca(emulator, app, {"private_key": app.key_pem.decode(), "thumbprint": thumbprint}
                  ).acquire_token_for_client([SCOPE])
    assert "access_token" in result, result


def test_msal_confidential_client_with_certificate_ps256_x5c(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["cert"]
    result = _cca(emulator, app, {"private_key": app.key_pem.decode(), "public_certificate": app.cert_pem.decode()}
                  ).acquire_token_for_client([SCOPE])
    assert "access_token" in result, result


def test_msal_reports_wrong_secret_as_error_dict(emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    result = _cca(emulator, apps["viewer"], "wrong").acquire_token_for_client([SCOPE])
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]


@pytest.fixture
def azure_identity_kwargs(emulator: Emulator) -> dict[str, object]:
    return {"authority": emulator.authority_host, "connection_verify": str(emulator.ca_path),
            "disable_instance_discovery": True}


def test_azure_identity_client_secret_credential(emulator: Emulator, apps: dict[str, AppInfo],
                                                 azure_identity_kwargs: dict[str, object]) -> None:
    from azure.identity import ClientSecretCredential

    app = apps["viewer"]
    cred = ClientSecretCredential(TENANT_ID, app.client_id, app.secret, **azure_identity_kwargs)
    token = cred.get_token(SCOPE)
    assert decode_jwt_payload(token.token)["appid"] == app.client_id
    assert token.expires_on > 0


def test_azure_identity_certificate_credential(emulator: Emulator, apps: dict[str, AppInfo],
                                               azure_identity_kwargs: dict[str, object]) -> None:
    from azure.identity import CertificateCredential

    app = apps["cert"]
    for kwargs in ({"certificate_path": str(app.pem_path)},
                   {"certificate_path": str(app.pfx_path), "password": app.pfx_password},
                   {"certificate_path": str(app.pem_path), "send_certificate_chain": True}):
        cred = CertificateCredential(TENANT_ID, app.client_id, **kwargs, **azure_identity_kwargs)
        assert decode_jwt_payload(cred.get_token(SCOPE).token)["oid"] == app.object_id


def test_azure_identity_reports_wrong_secret(emulator: Emulator, apps: dict[str, AppInfo],
                                             azure_identity_kwargs: dict[str, object]) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(TENANT_ID, apps["viewer"].client_id, "wrong", **azure_identity_kwargs)
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token(SCOPE)
