"""Issue 24.10-24.11: user realm discovery as real clients ask for it. MSAL Go (kubelogin) writes the path as
/common/UserRealm/<upn>, which Entra answers in any case; MSAL Python drops the authority's port from that URL, so
its username/password flow (az login -u/-p, azure-identity) reaches an emulator only on port 443."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msal
import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID, world_from_dict
from conftest import USER_WORLD
from support.emulator_userrealm import _port_443_free
from support.worlds import AKS_CLIENT_ID, FED_DOMAIN, PASSWORD, USER_DOMAIN, USER_TENANT_ID

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ROPC is deprecated upstream


@pytest.mark.parametrize("path", ["/common/UserRealm/", "/common/USERREALM/", "/common/userrealm/"])
def test_user_realm_answers_in_any_case_of_the_path(user_emu: Emulator, path: str) -> None:
    answer = requests.get(user_emu.authority_host.rstrip("/") + path + f"dev@{USER_DOMAIN}",
                          params={"api-version": "1.0"}, verify=str(user_emu.ca_path), timeout=10)
    assert answer.status_code == 200 and answer.json()["account_type"] == "Managed"
    federated = requests.get(user_emu.authority_host.rstrip("/") + path + f"fed@{FED_DOMAIN}",
                             params={"api-version": "1.0"}, verify=str(user_emu.ca_path), timeout=10)
    assert federated.json()["account_type"] == "Federated"




@pytest.fixture(scope="module")
def on_443(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    if not _port_443_free():
        pytest.skip("port 443 is taken or needs privileges here (the emulator's --port 443 runs as root)")
    with Emulator(world_from_dict(USER_WORLD), tmp_path_factory.mktemp("userrealm-443"), port=443) as emu:
        yield emu


class TrustEmulatorCA(requests.Session):
    """Trust for the emulator's CA, nothing else: no URL MSAL builds is rewritten here. (Per request, because
    REQUESTS_CA_BUNDLE would override a session-wide verify.)"""

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self._ca = str(emu.ca_path)

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self._ca
        return super().request(*args, **kwargs)


@pytest.mark.parametrize("user", [f"dev@{USER_DOMAIN}", f"fed@{FED_DOMAIN}"])
def test_plain_msal_username_password_works_against_an_emulator_on_443(on_443: Emulator, user: str) -> None:
    assert on_443.authority_host == "https://127.0.0.1:443/"
    app = msal.PublicClientApplication(AKS_CLIENT_ID, authority=on_443.authority_host + USER_TENANT_ID,
                                       instance_discovery=False, http_client=TrustEmulatorCA(on_443))
    result = app.acquire_token_by_username_password(user, PASSWORD, scopes=[f"{AKS_SERVER_APP_ID}/.default"])
    assert "access_token" in result, result
    realm = [e.path for e in on_443.request_log.entries("entra") if "/userrealm/" in e.path.lower()]
    assert realm, "MSAL asked the realm on the emulator itself (port 443), not elsewhere"
