"""MSAL Python and azure-identity sign users in against the emulator unchanged: device code, ROPC
(managed, and federated through user realm → MEX → WS-Trust → SAML), refresh, auth code + PKCE."""

from __future__ import annotations

import functools
import time
import urllib.parse
from typing import Any

import msal
import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.entra import adfs, authorize, devicecode, userflows
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.run import decode_jwt_payload
from support.user_fidelity import _Form, scripted_browser
from support.worlds import (
    AKS_CLIENT_ID,
    DEVS_GROUP_ID,
    FED2_DOMAIN,
    FED_DOMAIN,
    PASSWORD,
    USER_DOMAIN,
    USER_TENANT_ID,
)

SCOPE = f"{AKS_SERVER_APP_ID}/.default"
#: ROPC is deprecated upstream; these tests exercise it on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class PortFixSession(requests.Session):
    """What a client must do for MSAL's user realm request, which drops the authority's port."""

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self._emu = emu
        self._netloc = urllib.parse.urlsplit(emu.authority_host).netloc

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        if text.startswith("https://127.0.0.1/common/userrealm/"):
            text = text.replace("https://127.0.0.1/", f"https://{self._netloc}/", 1)
        kwargs["verify"] = str(self._emu.ca_path)
        return super().request(method, text, *args, **kwargs)


def _pca(emu: Emulator, client_id: str = AKS_CLIENT_ID, cache: Any = None) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        client_id, authority=emu.authority_host + USER_TENANT_ID, instance_discovery=False,
        http_client=PortFixSession(emu), token_cache=cache or msal.TokenCache(),
    )


def test_msal_device_flow_v2_then_silent_refresh_rotates(user_emu: Emulator) -> None:
    app = _pca(user_emu)
    flow = app.initiate_device_flow(scopes=[SCOPE])
    assert isinstance(flow["expires_in"], int) and flow["interval"] == 1
    assert flow["verification_uri"].startswith(user_emu.authority_host.rstrip("/"))
    assert flow["user_code"] in flow["message"]
    assert devicecode.of(user_emu).approve(flow["user_code"], f"dev@{USER_DOMAIN}") == "approved"
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    claims = decode_jwt_payload(result["access_token"])
    assert claims["aud"] == AKS_SERVER_APP_ID and claims["upn"] == f"dev@{USER_DOMAIN}"
    assert claims["idtyp"] == "user" and claims["scp"] and claims["groups"] == [DEVS_GROUP_ID]
    assert "mfa" in claims["amr"] or claims["amr"] == ["pwd"]
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [f"dev@{USER_DOMAIN}"]
    first_rt = result["refresh_token"]
    refreshed = app.acquire_token_silent([SCOPE], accounts[0], force_refresh=True)
    assert refreshed and "access_token" in refreshed
    grants = [r.grant_type for r in user_emu.request_log.token_requests()]
    assert grants[0] == "urn:ietf:params:oauth:grant-type:device_code" and grants[-1] == "refresh_token"
    rts = list(app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN))
    assert rts and rts[0]["secret"] != first_rt  # rotated


def test_device_flow_v1_shape_and_plain_grant_type(user_emu: Emulator) -> None:
    base = user_emu.authority_host + USER_TENANT_ID
    start = requests.post(f"{base}/oauth2/devicecode?api-version=1.0", verify=str(user_emu.ca_path), timeout=10,
                          data={"client_id": AKS_CLIENT_ID, "resource": AKS_SERVER_APP_ID}).json()
    assert isinstance(start["expires_in"], str) and isinstance(start["interval"], str)
    assert "verification_url" in start and "verification_uri" not in start
    poll = {"grant_type": "device_code", "client_id": AKS_CLIENT_ID, "code": start["device_code"],
            "resource": AKS_SERVER_APP_ID}
    url = f"{base}/oauth2/token?api-version=1.0"
    pending = requests.post(url, data=poll, verify=str(user_emu.ca_path), timeout=10)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    devicecode.of(user_emu).approve(start["user_code"], f"dev@{USER_DOMAIN}")
    body = requests.post(url, data=poll, verify=str(user_emu.ca_path), timeout=10).json()
    assert body["resource"] == f"spn:{AKS_SERVER_APP_ID}" and isinstance(body["expires_on"], str)
    assert decode_jwt_payload(body["access_token"])["aud"] == f"spn:{AKS_SERVER_APP_ID}"
    again = requests.post(url, data=poll, verify=str(user_emu.ca_path), timeout=10)
    assert again.status_code == 400  # a device code is redeemed once


@pytest.mark.parametrize(("action", "error", "code"), [
    ("decline", "authorization_declined", 65004), ("expire", "expired_token", 70019)])
def test_msal_device_flow_terminal_errors(user_emu: Emulator, action: str, error: str, code: int) -> None:
    app = _pca(user_emu)
    flow = app.initiate_device_flow(scopes=[SCOPE])
    getattr(devicecode.of(user_emu), action)(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == error and result["error_codes"] == [code]


def test_msal_ropc_managed_and_refresh_errors(user_emu: Emulator) -> None:
    app = _pca(user_emu)
    result = app.acquire_token_by_username_password(f"viewer@{USER_DOMAIN}", PASSWORD, [SCOPE])
    assert "access_token" in result, result
    realm = [e for e in user_emu.request_log.entries("entra") if "/userrealm/" in e.path]
    assert realm and realm[0].status == 200
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["password"]
    bad = _pca(user_emu).acquire_token_by_username_password(f"viewer@{USER_DOMAIN}", "wrong", [SCOPE])
    assert bad["error_codes"] == [50126]
    mfa = _pca(user_emu).acquire_token_by_username_password(f"mfa@{USER_DOMAIN}", PASSWORD, [SCOPE])
    assert mfa["error_codes"] == [50076] and mfa["suberror"] == "basic_action"
    # Revocation: the refresh token stops working with 50173 (bad_token).
    userflows.of(user_emu).revoke_sessions(f"viewer@{USER_DOMAIN}")
    account = app.get_accounts()[0]
    revoked = app.acquire_token_silent_with_error([SCOPE], account, force_refresh=True)
    assert revoked["error"] == "invalid_grant" and revoked["error_codes"] == [50173]


def test_refresh_token_expires_after_90_days_idle(user_emu: Emulator) -> None:
    app = _pca(user_emu)
    assert "access_token" in app.acquire_token_by_username_password(f"dev2@{USER_DOMAIN}", PASSWORD, [SCOPE])
    user_emu.clock.advance(91 * 86400)
    result = app.acquire_token_silent_with_error([SCOPE], app.get_accounts()[0], force_refresh=True)
    assert result["error_codes"] == [700082]


@pytest.mark.parametrize(("upn", "grant"), [
    (f"fed@{FED_DOMAIN}", "urn:ietf:params:oauth:grant-type:saml1_1-bearer"),
    (f"fed2@{FED2_DOMAIN}", "urn:ietf:params:oauth:grant-type:saml2-bearer"),
])
def test_msal_ropc_federated_through_ws_trust(user_emu: Emulator, upn: str, grant: str) -> None:
    result = _pca(user_emu).acquire_token_by_username_password(upn, PASSWORD, [SCOPE])
    assert "access_token" in result, result
    assert decode_jwt_payload(result["access_token"])["upn"] == upn
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == [grant]
    idp = [e.path for e in user_emu.request_log.entries("adfs")]
    if upn.endswith(FED_DOMAIN):
        assert idp == ["/adfs/services/trust/mex", "/adfs/services/trust/13/usernamemixed"]
    else:
        assert idp == ["/adfs/services/trust/2005/usernamemixed"]


def test_msal_ropc_federated_wrong_password_is_a_soap_fault(user_emu: Emulator) -> None:
    with pytest.raises(RuntimeError, match="FailedAuthentication"):
        _pca(user_emu).acquire_token_by_username_password(f"fed@{FED_DOMAIN}", "nope", [SCOPE])
    assert adfs.of(user_emu).idp_log[-1][1] == "fault"
    assert user_emu.request_log.token_requests() == []


def test_federated_mfa_user_is_refused_at_entra(user_emu: Emulator) -> None:
    result = _pca(user_emu).acquire_token_by_username_password(f"fedmfa@{FED_DOMAIN}", PASSWORD, [SCOPE])
    assert result["error_codes"] == [50076]






def test_msal_interactive_auth_code_with_pkce(user_emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    app = _pca(user_emu)
    launch = scripted_browser(user_emu, f"dev@{USER_DOMAIN}", PASSWORD)
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: launch(url))
    result = app.acquire_token_interactive([SCOPE], timeout=20, login_hint=f"dev@{USER_DOMAIN}")
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == f"dev@{USER_DOMAIN}"
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["authorization_code"]
    assert authorize.of(user_emu).submissions >= 1


def test_authorization_code_is_single_use_and_pkce_checked(user_emu: Emulator) -> None:
    app = _pca(user_emu)
    flow = app.initiate_auth_code_flow([SCOPE], redirect_uri="http://localhost:9", response_mode="form_post")
    s = requests.Session()
    page = s.get(flow["auth_uri"], verify=str(user_emu.ca_path), timeout=10)
    form = _Form()
    form.feed(page.text)
    answer = s.post(urllib.parse.urljoin(flow["auth_uri"], form.action), verify=str(user_emu.ca_path), timeout=10,
                    data={**form.fields, "login": f"dev@{USER_DOMAIN}", "passwd": PASSWORD, "action": "signin"})
    post = _Form()
    post.feed(answer.text)
    assert post.action == "http://localhost:9" and post.fields["state"] == flow["state"]
    token_url = user_emu.authority_host + f"{USER_TENANT_ID}/oauth2/v2.0/token"
    body = {"grant_type": "authorization_code", "client_id": AKS_CLIENT_ID, "code": post.fields["code"],
            "redirect_uri": "http://localhost:9", "scope": SCOPE, "code_verifier": "not-the-verifier"}
    wrong = requests.post(token_url, data=body, verify=str(user_emu.ca_path), timeout=10).json()
    assert wrong["error_codes"] == [501481]
    reused = requests.post(token_url, data={**body, "code_verifier": flow["code_verifier"]},
                           verify=str(user_emu.ca_path), timeout=10).json()
    assert reused["error_codes"] == [54005]  # the failed attempt consumed the code


def test_azure_identity_device_code_credential(user_emu: Emulator) -> None:
    from azure.identity import DeviceCodeCredential

    seen: list[str] = []

    def prompt(uri: str, user_code: str, expires_on: Any) -> None:
        seen.append(uri)
        devicecode.of(user_emu).approve(user_code, f"dev@{USER_DOMAIN}")

    cred = DeviceCodeCredential(AKS_CLIENT_ID, tenant_id=USER_TENANT_ID, authority=user_emu.authority_host,
                                connection_verify=str(user_emu.ca_path), disable_instance_discovery=True,
                                prompt_callback=prompt, timeout=30)
    token = cred.get_token(SCOPE)
    assert decode_jwt_payload(token.token)["upn"] == f"dev@{USER_DOMAIN}"
    assert seen and seen[0].endswith("/devicelogin")


def test_azure_identity_username_password_credential(user_emu: Emulator) -> None:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import UsernamePasswordCredential

    session = PortFixSession(user_emu)
    for upn in (f"viewer@{USER_DOMAIN}", f"fed@{FED_DOMAIN}"):
        cred = UsernamePasswordCredential(
            AKS_CLIENT_ID, upn, PASSWORD, tenant_id=USER_TENANT_ID, authority=user_emu.authority_host,
            disable_instance_discovery=True, connection_verify=str(user_emu.ca_path),
            transport=RequestsTransport(session=session, session_owner=False))
        assert decode_jwt_payload(cred.get_token(SCOPE).token)["upn"] == upn


def test_device_login_page_for_people(user_emu: Emulator) -> None:
    app = _pca(user_emu)
    flow = app.initiate_device_flow(scopes=[SCOPE])
    page_url = flow["verification_uri"]
    s = requests.Session()
    assert "Enter code" in s.get(page_url, verify=str(user_emu.ca_path), timeout=10).text
    wrong = s.post(page_url, data={"otc": flow["user_code"], "login": f"dev@{USER_DOMAIN}", "passwd": "x",
                                   "action": "approve"}, verify=str(user_emu.ca_path), timeout=10)
    assert "incorrect" in wrong.text
    ok = s.post(page_url, data={"otc": flow["user_code"], "login": f"dev@{USER_DOMAIN}", "passwd": PASSWORD,
                                "action": "approve"}, verify=str(user_emu.ca_path), timeout=10)
    assert "You have signed in" in ok.text
    flow["expires_at"] = time.time() + 30
    assert "access_token" in app.acquire_token_by_device_flow(flow)


def test_settings_and_control_routes(user_emu: Emulator) -> None:
    base = user_emu.authority_host + "_emulator"
    control = {"Authorization": f"Bearer {user_emu.control_token}"}
    verify = functools.partial(requests.post, verify=str(user_emu.ca_path), timeout=10, headers=control)
    assert verify(f"{base}/settings", json={"device_code_interval": 2}).json()["device_code_interval"] == 2
    assert verify(f"{base}/settings", json={"nope": 1}).status_code == 400
    app = _pca(user_emu)
    flow = app.initiate_device_flow(scopes=[SCOPE])
    assert flow["interval"] == 2
    listed = requests.get(f"{base}/devicecodes", verify=str(user_emu.ca_path), timeout=10, headers=control).json()
    assert flow["user_code"] in [c["user_code"] for c in listed]
    assert verify(f"{base}/devicecodes/{flow['user_code']}/decline").json() == {"outcome": "decline"}
    assert verify(f"{base}/users/dev@{USER_DOMAIN}/revoke").status_code == 200


def test_azure_identity_interactive_browser_credential(user_emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    from azure.identity import InteractiveBrowserCredential

    launch = scripted_browser(user_emu, f"dev@{USER_DOMAIN}", PASSWORD)
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: launch(url))
    cred = InteractiveBrowserCredential(client_id=AKS_CLIENT_ID, tenant_id=USER_TENANT_ID,
                                        authority=user_emu.authority_host, disable_instance_discovery=True,
                                        connection_verify=str(user_emu.ca_path), timeout=20)
    token = cred.get_token(SCOPE)
    assert decode_jwt_payload(token.token)["upn"] == f"dev@{USER_DOMAIN}"
