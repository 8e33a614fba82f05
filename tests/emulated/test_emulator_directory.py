"""The emulator's directory features: Graph endpoint, group overage, guests, RBAC writes, the server's clock.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID
from support import emulator_directory as shared
from support.emulator_directory import _api, _binding, _client_token
from support.explainworld import APPS, BULK, DEVS, TENANT, USERS, user_token
from support.run import decode_jwt_payload


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def _graph(emu: Emulator, token: str, path: str, method: str = "GET", **kw: Any) -> requests.Response:
    return requests.request(method, emu.server_url("graph") + path, headers={"Authorization": f"Bearer {token}"},
                            verify=str(emu.ca_path), timeout=10, **kw)


def test_overage_token_carries_claim_sources_and_the_cluster_refuses_an_app_with_it(emu: Emulator) -> None:
    """Issue 26: guard looks a user's groups up in Graph, not an application's: a service principal in more than
    200 groups is refused (401); a user in as many is resolved (next test)."""
    token = _client_token(emu, "overage", AKS_SERVER_APP_ID)
    claims = decode_jwt_payload(token)
    assert "groups" not in claims
    assert claims["_claim_names"] == {"groups": "src1"}
    endpoint = claims["_claim_sources"]["src1"]["endpoint"]
    assert endpoint == (f"{emu.server_url('graph')}/{TENANT}/servicePrincipals/{APPS['overage'].object_id}"
                        "/getMemberObjects")
    review = _api(emu, token, "/apis/authentication.k8s.io/v1/selfsubjectreviews", "POST",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert review.status_code == 401
    user_review = _api(emu, user_token(emu, "olga"), "/apis/authentication.k8s.io/v1/selfsubjectreviews", "POST",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert set(user_review.json()["status"]["userInfo"]["groups"]) == {DEVS, *BULK, "system:authenticated"}
    # The overage endpoint itself answers with the same memberships (for a caller allowed to read it).
    members = _graph(emu, _client_token(emu, "admin", "https://graph.microsoft.com"),
                     endpoint.removeprefix(emu.server_url("graph")), "POST", json={"securityEnabledOnly": False})
    assert members.status_code == 200
    assert set(members.json()["value"]) == {DEVS, *BULK}


def test_group_claim_limit_is_200(emu: Emulator) -> None:
    tenant = emu.world.tenant(TENANT)
    assert tenant is not None
    kw: dict[str, Any] = {"tenant_id": TENANT, "audience": AKS_SERVER_APP_ID, "lifetime": 60,
                          "subject_oid": "x", "app_id": "y", "app_only": True}
    assert len(decode_jwt_payload(emu.issuer.access_token(**kw, groups=BULK[:200]))["groups"]) == 200
    assert "groups" not in decode_jwt_payload(emu.issuer.access_token(**kw, groups=BULK[:201]))


def test_guest_token_has_no_upn_and_the_cluster_names_the_guest_by_object_id(emu: Emulator) -> None:
    token = user_token(emu, "erin")
    claims = decode_jwt_payload(token)
    assert "upn" not in claims
    assert claims["unique_name"] == claims["email"] == "erin@fabrikam.example"
    review = _api(emu, token, "/apis/authentication.k8s.io/v1/selfsubjectreviews", "POST", {})
    assert review.json()["status"]["userInfo"]["username"] == USERS["erin"][1]
    # The world's {user: <guest upn>} binding resolved to the object id, so the guest can read.
    assert _api(emu, token, "/api/v1/namespaces/default/pods").status_code == 200


def test_member_user_keeps_upn(emu: Emulator) -> None:
    claims = decode_jwt_payload(user_token(emu, "dana"))
    assert claims["upn"] == USERS["dana"][0] and claims["groups"] == [DEVS]


def test_graph_resolves_app_id_to_object_id_for_an_app_with_directory_read(emu: Emulator) -> None:
    token = _client_token(emu, "admin", "https://graph.microsoft.com/")
    viewer = APPS["viewer"]
    found = _graph(emu, token, "/v1.0/servicePrincipals", params={"$filter": f"appId eq '{viewer.client_id}'"})
    assert found.status_code == 200
    assert [(v["id"], v["appId"], v["displayName"]) for v in found.json()["value"]] == [
        (viewer.object_id, viewer.client_id, viewer.name)]
    assert _graph(emu, token, f"/v1.0/servicePrincipals/{viewer.object_id}").json()["appId"] == viewer.client_id
    missing = _graph(emu, token, "/v1.0/servicePrincipals/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    groups = _graph(emu, token, "/v1.0/groups", params={"$filter": "displayName eq 'aks-devs'"})
    assert [g["id"] for g in groups.json()["value"]] == [DEVS]
    user = _graph(emu, token, f"/v1.0/users/{USERS['erin'][1]}").json()
    assert user["userType"] == "Guest" and user["mail"] == "erin@fabrikam.example"


def test_graph_refuses_apps_without_permission_and_tokens_for_other_audiences(emu: Emulator) -> None:
    plain = _client_token(emu, "graphless", "https://graph.microsoft.com")
    denied = _graph(emu, plain, "/v1.0/servicePrincipals", params={"$filter": f"appId eq '{APPS['viewer'].client_id}'"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    # ... but may read its own memberships (an app is allowed to ask about itself).
    own = _graph(emu, plain, f"/v1.0/servicePrincipals/{APPS['graphless'].object_id}/getMemberObjects", "POST",
                 json={})
    assert own.status_code == 200 and own.json()["value"] == []
    aks_token = _client_token(emu, "admin", AKS_SERVER_APP_ID)
    wrong = _graph(emu, aks_token, "/v1.0/groups/" + DEVS)
    assert wrong.status_code == 401 and "audience" in wrong.json()["error"]["message"]
    assert _graph(emu, "", "/v1.0/groups/" + DEVS).status_code == 401
    assert emu.request_log.entries("graph")[-1].status == 401


def test_user_tokens_may_read_the_directory(emu: Emulator) -> None:
    token = user_token(emu, "dana", audience="https://graph.microsoft.com/")
    r = _graph(emu, token, "/v1.0/me/getMemberObjects", "POST", json={})
    assert r.status_code == 200 and r.json()["value"] == [DEVS]


def test_api_server_date_header_follows_the_emulated_clock(emu: Emulator) -> None:
    token = _client_token(emu, "viewer", AKS_SERVER_APP_ID)
    emu.clock.advance(3 * 3600)
    try:
        r = _api(emu, token, "/version")
        assert r.status_code == 401  # the token is 2h past its expiry by the server's clock
        server = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
        assert abs(server - emu.clock.now()) < 5
    finally:
        emu.clock.reset()


RB = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings"


CRB = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"


def test_namespace_admin_may_bind_roles_it_holds_but_not_escalate(emu: Emulator) -> None:
    token = _client_token(emu, "nsadmin", AKS_SERVER_APP_ID)
    ok = _api(emu, token, RB, "POST", _binding("w-view", "view", "someone@contoso.example", "dev"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["metadata"]["namespace"] == "dev" and ok.json()["metadata"]["uid"]
    again = _api(emu, token, RB, "POST", _binding("w-view", "view", "someone@contoso.example", "dev"))
    assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"
    escalate = _api(emu, token, RB, "POST", _binding("w-admin", "cluster-admin", "someone@contoso.example", "dev"))
    assert escalate.status_code == 403
    assert "is attempting to grant RBAC permissions not currently held" in escalate.json()["message"]
    cluster_wide = _api(emu, token, CRB, "POST", _binding("w-crb", "view", "someone@contoso.example"))
    assert cluster_wide.status_code == 403  # no create on clusterrolebindings at all
    listed = _api(emu, _client_token(emu, "admin", AKS_SERVER_APP_ID), RB).json()["items"]
    assert "w-view" in {i["metadata"]["name"] for i in listed} and "w-admin" not in {
        i["metadata"]["name"] for i in listed}


def test_binding_validation(emu: Emulator) -> None:
    token = _client_token(emu, "admin", AKS_SERVER_APP_ID)
    bad = _binding("bad", "view", "x")
    bad["roleRef"]["kind"] = "Role"
    r = _api(emu, token, CRB, "POST", bad)
    assert r.status_code == 422 and "roleRef.kind" in r.json()["message"]
    wrong_ns = _binding("b", "view", "x", "default")
    assert _api(emu, token, RB, "POST", wrong_ns).status_code == 400


def test_member_objects_for_a_user_on_the_v1_path(emu: Emulator) -> None:
    token = user_token(emu, "olga", audience="https://graph.microsoft.com")
    claims = decode_jwt_payload(user_token(emu, "olga"))
    endpoint = claims["_claim_sources"]["src1"]["endpoint"]
    assert f"/{TENANT}/users/{USERS['olga'][1]}/getMemberObjects" in endpoint
    r = _graph(emu, token, endpoint.removeprefix(emu.server_url("graph")), "POST", json={})
    assert r.status_code == 200 and len(r.json()["value"]) == 251
    assert decode_jwt_payload(token)["appid"] == AKS_CLIENT_APP_ID
