"""Microsoft.Authorization in the emulated ARM (issue 26): role definitions by name, role assignments created,
listed and deleted at cluster and namespace scope, and ARM's refusals (the real az's own run is in
tests/e2e/test_azure_rbac.py).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from akslogin.emulator import Emulator
from support.azurerbacworld import APPS, SUBSCRIPTION, TENANT, cluster_id, start
from support.explainworld import App

API = "2022-04-01"
READER_ID = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def call(emu: Emulator, method: str, path: str, who: App, body: object = None, **params: str) -> requests.Response:
    token = emu.issuer.access_token(tenant_id=TENANT, audience="https://management.azure.com/", lifetime=3600,
                                    subject_oid=who.object_id, app_id=who.client_id, app_only=True)
    with requests.Session() as http:
        http.trust_env = False
        return http.request(method, emu.server_url("arm") + path, params={"api-version": API, **params},
                            headers={"Authorization": f"Bearer {token}"}, json=body, timeout=10,
                            verify=str(emu.ca_path))


def _body(role_guid: str = READER_ID, principal: str = APPS["nobody"].object_id) -> dict[str, object]:
    return {"properties": {"roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/"
                                              f"roleDefinitions/{role_guid}",
                           "principalId": principal, "principalType": "ServicePrincipal"}}


def test_role_definitions_are_found_by_name_with_their_data_actions(emu: Emulator) -> None:
    found = call(emu, "GET", f"{cluster_id()}/providers/Microsoft.Authorization/roleDefinitions", APPS["owner"],
                 **{"$filter": "roleName eq 'Azure Kubernetes Service RBAC Writer'"})
    assert found.status_code == 200, found.text
    [definition] = found.json()["value"]
    permissions = definition["properties"]["permissions"][0]
    assert definition["name"] == "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
    assert "Microsoft.ContainerService/managedClusters/secrets/*" in permissions["dataActions"]
    bad = call(emu, "GET", f"{cluster_id()}/providers/Microsoft.Authorization/roleDefinitions", APPS["owner"],
               **{"$filter": "startswith(roleName, 'Azure')"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidFilter"


def test_a_custom_role_is_listed_as_one(emu: Emulator) -> None:
    found = call(emu, "GET", f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions",
                 APPS["owner"], **{"$filter": "roleName eq 'Widget Reader'"})
    [definition] = found.json()["value"]
    assert definition["properties"]["type"] == "CustomRole"
    assert definition["properties"]["permissions"][0]["dataActions"] == [
        "Microsoft.ContainerService/managedClusters/example.com/widgets/read"]


def test_a_custom_role_grants_its_own_data_actions_on_the_cluster(emu: Emulator) -> None:
    """A custom role with a data action for a CRD (the world's arm_custom_roles), at the cluster's scope: the API
    server's access review allows exactly that (kubectl cannot name a CRD's group without its discovery, so the
    review is posted directly)."""
    from akslogin.emulator.world import AKS_SERVER_APP_ID

    def review(who: App, verb: str) -> dict[str, object]:
        token = emu.issuer.access_token(tenant_id=TENANT, audience=AKS_SERVER_APP_ID, lifetime=3600,
                                        subject_oid=who.object_id, app_id=who.client_id, app_only=True)
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {
            "resourceAttributes": {"verb": verb, "group": "example.com", "resource": "widgets", "namespace": "prod"}}}
        with requests.Session() as http:
            http.trust_env = False
            answer = http.post(emu.cluster_url("aks-az") + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                               json=body, headers={"Authorization": f"Bearer {token}"}, verify=str(emu.ca_path),
                               timeout=10)
        status: dict[str, object] = answer.json()["status"]
        return status

    assert review(APPS["ns-reader"], "list")["allowed"] is True
    assert review(APPS["ns-reader"], "delete")["allowed"] is False
    assert review(APPS["writer"], "list")["allowed"] is False


def test_an_assignment_is_made_listed_at_scope_and_deleted(emu: Emulator) -> None:
    scope = f"{cluster_id()}/namespaces/dev"
    name = str(uuid.uuid4())
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    made = call(emu, "PUT", path, APPS["owner"], _body())
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["scope"] == scope and made.json()["name"] == name
    again = call(emu, "PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                 APPS["owner"], _body())
    assert again.status_code == 409 and again.json()["error"]["code"] == "RoleAssignmentExists"
    at_scope = call(emu, "GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", APPS["owner"],
                    **{"$filter": "atScope()"}).json()["value"]
    assert name in [a["name"] for a in at_scope]  # and the owner's subscription-wide one, above it
    assert any(a["properties"]["scope"] == f"/subscriptions/{SUBSCRIPTION}" for a in at_scope)
    prod = call(emu, "GET", f"{cluster_id()}/namespaces/prod/providers/Microsoft.Authorization/roleAssignments",
                APPS["owner"], **{"$filter": "atScope()"}).json()["value"]
    assert name not in [a["name"] for a in prod]
    gone = call(emu, "DELETE", path, APPS["owner"])
    assert gone.status_code == 200 and call(emu, "DELETE", path, APPS["owner"]).status_code == 204
    assert call(emu, "GET", path, APPS["owner"]).status_code == 404


@pytest.mark.parametrize(("body", "code"), [
    (_body(role_guid="00000000-0000-4000-8000-000000000000"), "RoleDefinitionDoesNotExist"),
    (_body(principal="not-a-guid"), "InvalidPrincipalId"),
    ({"nothing": 1}, "InvalidRequestContent"),
])
def test_bad_assignments_get_arms_400(emu: Emulator, body: dict[str, object], code: str) -> None:
    path = f"{cluster_id()}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    answer = call(emu, "PUT", path, APPS["owner"], body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == code


def test_only_who_may_assign_roles_may_assign_them(emu: Emulator) -> None:
    """Contributor holds '*' but not Microsoft.Authorization writes; an AKS RBAC role holds none either."""
    for who in ("contributor", "writer"):
        answer = call(emu, "PUT", f"{cluster_id()}/providers/Microsoft.Authorization/roleAssignments/"
                      f"{uuid.uuid4()}", APPS[who], _body())
        assert answer.status_code == 403, (who, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "AuthorizationFailed"
        assert "Microsoft.Authorization/roleAssignments/write" in error["message"]
        assert APPS[who].object_id in error["message"]
