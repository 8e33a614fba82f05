"""The emulated ARM on the wire: paging, role-based visibility, AKS kubeconfig shapes, ARM's two error shapes.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import AKS_SERVER, BREAKGLASS, DEPLOYER, OUTSIDER, TENANT, Principal, single_spec, sub_id

API = "2025-07-01"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("arm-emu")) as e:
        yield e


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE from the developer's shell must not override verify
    session.verify = str(emu.ca_path)
    yield session
    session.close()
    emu.arm.page_size = 20
    emu.clock.reset()


def token(emu: Emulator, who: Principal, audience: str = "https://management.azure.com/", lifetime: int = 3600,
          tenant: str = TENANT) -> str:
    return emu.issuer.access_token(tenant_id=tenant, audience=audience, lifetime=lifetime, subject_oid=who.object_id,
                                   app_id=who.client_id, app_only=True)


def call(http: requests.Session, emu: Emulator, method: str, path: str, who: Principal | None = DEPLOYER,
         **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token(emu, who)}"} if who is not None else {}
    return http.request(method, emu.server_url("arm") + path, params={"api-version": API, **params},
                        headers=headers, timeout=10)


def cluster_path(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


def kubeconfig_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    entries = response.json()["kubeconfigs"]
    assert len(entries) == 1
    data: dict[str, Any] = yaml.safe_load(base64.b64decode(entries[0]["value"]))
    data["_name"] = entries[0]["name"]
    return data


def test_subscriptions_are_those_with_a_role_and_paged(emu: Emulator, http: requests.Session) -> None:
    body = call(http, emu, "GET", "/subscriptions").json()
    assert [s["subscriptionId"] for s in body["value"]] == [sub_id(1), sub_id(2)]
    assert body["value"][0] == {**body["value"][0], "displayName": "Development", "tenantId": TENANT,
                                "state": "Enabled", "id": f"/subscriptions/{sub_id(1)}"}
    # the break-glass identity only has roles in the first subscription
    assert [s["subscriptionId"] for s in call(http, emu, "GET", "/subscriptions", BREAKGLASS).json()["value"]] == [
        sub_id(1)]
    assert call(http, emu, "GET", "/subscriptions", OUTSIDER).json() == {"value": []}

    emu.arm.page_size = 1
    first = call(http, emu, "GET", "/subscriptions").json()
    assert len(first["value"]) == 1 and "$skiptoken=" in first["nextLink"]
    second = http.get(first["nextLink"], headers={"Authorization": f"Bearer {token(emu, DEPLOYER)}"}, timeout=10)
    assert [s["subscriptionId"] for s in second.json()["value"]] == [sub_id(2)]
    assert "nextLink" not in second.json()


def test_cluster_list_get_and_properties(emu: Emulator, http: requests.Session) -> None:
    emu.arm.page_size = 3
    path = f"/subscriptions/{sub_id(1)}/providers/Microsoft.ContainerService/managedClusters"
    body = call(http, emu, "GET", path).json()
    names = [c["name"] for c in body["value"]]
    while "nextLink" in body:
        body = http.get(body["nextLink"], headers={"Authorization": f"Bearer {token(emu, DEPLOYER)}"},
                        timeout=10).json()
        names += [c["name"] for c in body["value"]]
    assert sorted(names) == ["aks-basic", "aks-nolocal", "aks-private", "aks1"]
    got = call(http, emu, "GET", cluster_path(sub_id(1), "RG-APPS", "AKS-PRIVATE")).json()  # ARM is case-blind
    props = got["properties"]
    assert got["type"] == "Microsoft.ContainerService/ManagedClusters"
    assert props["aadProfile"]["managed"] is True and props["aadProfile"]["tenantID"] == TENANT
    assert props["privateFQDN"].endswith(".privatelink.eastus.azmk8s.io") and props["fqdn"].endswith(".azmk8s.io")
    basic = call(http, emu, "GET", cluster_path(sub_id(1), "rg-legacy", "aks-basic")).json()["properties"]
    assert "aadProfile" not in basic
    # cluster-scoped role in the second subscription: only that cluster is visible there
    prod = call(http, emu, "GET", f"/subscriptions/{sub_id(2)}/providers/Microsoft.ContainerService/managedClusters")
    assert [c["name"] for c in prod.json()["value"]] == ["aks-prod"]


def test_user_credential_exec_and_azure_formats(emu: Emulator, http: requests.Session) -> None:
    action = cluster_path(sub_id(1), "rg-apps", "aks1") + "/listClusterUserCredential"
    cfg = kubeconfig_of(call(http, emu, "POST", action, format="exec"))
    assert cfg["_name"] == "clusterUser" and cfg["current-context"] == "aks1"
    user = cfg["users"][0]
    assert user["name"] == "clusterUser_rg-apps_aks1"
    assert user["user"]["exec"] == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER, "--client-id",
                 "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT, "--login", "devicecode"],
        "command": "kubelogin", "env": None,
        "installHint": "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                       "To learn more, please go to https://aka.ms/aks/kubelogin\n",
        "provideClusterInfo": False,
    }
    assert cfg["clusters"][0]["cluster"]["server"] == emu.cluster_url("aks1")
    assert base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]) == emu.ca_path.read_bytes()
    legacy = kubeconfig_of(call(http, emu, "POST", action, format="azure"))
    assert legacy["users"][0]["user"] == {"auth-provider": {"name": "azure", "config": {
        "apiserver-id": AKS_SERVER, "client-id": "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "config-mode": "1",
        "environment": "AzurePublicCloud", "tenant-id": TENANT}}}


def test_private_cluster_server_and_public_fqdn(emu: Emulator, http: requests.Session) -> None:
    action = cluster_path(sub_id(1), "rg-apps", "aks-private") + "/listClusterUserCredential"
    private = kubeconfig_of(call(http, emu, "POST", action))["clusters"][0]["cluster"]["server"]
    public = kubeconfig_of(call(http, emu, "POST", action, **{"server-fqdn": "public"}))["clusters"][0]["cluster"]
    assert private.startswith("https://localhost:") and public["server"].startswith("https://127.0.0.1:")


def test_admin_credential_is_a_two_year_system_masters_certificate(emu: Emulator, http: requests.Session) -> None:
    action = cluster_path(sub_id(1), "rg-apps", "aks1") + "/listClusterAdminCredential"
    cfg = kubeconfig_of(call(http, emu, "POST", action, BREAKGLASS))
    assert cfg["_name"] == "clusterAdmin"
    user = cfg["users"][0]
    assert user["name"] == "clusterAdmin_rg-apps_aks1" and len(user["user"]["token"]) == 32
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["user"]["client-certificate-data"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "masterclient"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:masters"]
    lifetime = cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(days=729) < lifetime <= dt.timedelta(days=730)
    assert cert.issuer == emu.cluster_cas["aks1"].cert.subject  # signed by the cluster's own CA
    # Deployer has only the user role: the admin action is refused with ARM's exact text.
    denied = call(http, emu, "POST", action, DEPLOYER)
    assert denied.status_code == 403
    assert denied.json() == {"error": {"code": "AuthorizationFailed", "message": (
        f"The client '{DEPLOYER.object_id}' with object id '{DEPLOYER.object_id}' does not have authorization to "
        "perform action 'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action' over scope "
        f"'{cluster_path(sub_id(1), 'rg-apps', 'aks1')}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.")}}


def test_monitoring_and_non_entra_credentials(emu: Emulator, http: requests.Session) -> None:
    monitoring = kubeconfig_of(call(http, emu, "POST", cluster_path(sub_id(1), "rg-apps", "aks1")
                                    + "/listClusterMonitoringUserCredential", BREAKGLASS))
    assert monitoring["users"][0]["name"] == "clusterMonitoringUser_rg-apps_aks1"
    assert "client-certificate-data" in monitoring["users"][0]["user"]
    basic = kubeconfig_of(call(http, emu, "POST", cluster_path(sub_id(1), "rg-legacy", "aks-basic")
                               + "/listClusterUserCredential", format="exec"))
    assert set(basic["users"][0]["user"]) == {"client-certificate-data", "client-key-data", "token"}


def test_disabled_local_accounts_is_a_flat_400(emu: Emulator, http: requests.Session) -> None:
    resp = call(http, emu, "POST", cluster_path(sub_id(1), "rg-secure", "aks-nolocal") + "/listClusterAdminCredential",
                BREAKGLASS)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "BadRequest" and "error" not in body
    assert body["message"].startswith("Getting static credential is not allowed because this cluster is set to "
                                      "disable local accounts.")


@pytest.mark.parametrize(("case", "status", "code"), [
    ("no header", 401, "AuthenticationFailed"),
    ("wrong audience", 401, "InvalidAuthenticationTokenAudience"),
    ("expired", 401, "ExpiredAuthenticationToken"),
    ("foreign tenant", 401, "InvalidAuthenticationTokenTenant"),
    ("garbage", 401, "InvalidAuthenticationToken"),
    ("no api-version", 400, "MissingApiVersionParameter"),
    ("unknown subscription", 404, "SubscriptionNotFound"),
    ("unknown group", 404, "ResourceGroupNotFound"),
    ("unknown cluster", 404, "ResourceNotFound"),
])
def test_arm_error_envelopes(emu: Emulator, http: requests.Session, case: str, status: int, code: str) -> None:
    url = emu.server_url("arm") + cluster_path(sub_id(1), "rg-apps", "aks1")
    params: dict[str, str] = {"api-version": API}
    headers = {"Authorization": f"Bearer {token(emu, DEPLOYER)}"}
    if case == "no header":
        headers = {}
    elif case == "wrong audience":
        headers["Authorization"] = f"Bearer {token(emu, DEPLOYER, audience=AKS_SERVER)}"
    elif case == "expired":
        headers["Authorization"] = f"Bearer {token(emu, DEPLOYER, lifetime=10)}"
        emu.clock.advance(3600)
    elif case == "foreign tenant":
        url = emu.server_url("arm") + f"/subscriptions/{sub_id(1)}"
        headers["Authorization"] = f"Bearer {token(emu, DEPLOYER, tenant='7f7f7f7f-1111-4222-8333-444444444444')}"
    elif case == "garbage":
        headers["Authorization"] = "Bearer not-a-jwt"
    elif case == "no api-version":
        params = {}
    elif case == "unknown subscription":
        url = emu.server_url("arm") + cluster_path(sub_id(9), "rg-apps", "aks1")
    elif case == "unknown group":
        url = emu.server_url("arm") + cluster_path(sub_id(1), "rg-nope", "aks1")
    elif case == "unknown cluster":
        url = emu.server_url("arm") + cluster_path(sub_id(1), "rg-apps", "nope")
    resp = http.get(url, params=params, headers=headers, timeout=10)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert resp.json()["error"]["message"]


@pytest.mark.parametrize("prefix", ["", "/"])
def test_metadata_endpoints_are_served_without_sign_in(http: requests.Session, emu: Emulator, prefix: str) -> None:
    """As real ARM: az cloud register reads it (a trailing slash on the ARM URL gives //metadata)."""
    answer = http.get(emu.server_url("arm") + prefix + "/metadata/endpoints", params={"api-version": "2022-09-01"},
                      timeout=10)
    assert answer.status_code == 200, answer.text
    cloud = answer.json()
    assert cloud["resourceManager"] == emu.server_url("arm") + "/"
    assert cloud["authentication"]["loginEndpoint"] == emu.authority_host
    assert "https://management.core.windows.net/" in cloud["authentication"]["audiences"]
    assert cloud["microsoftGraphResourceId"] == emu.server_url("graph") + "/"


@pytest.mark.parametrize("scope", ["https://management.core.windows.net//.default", "https://management.azure.com/.default",
                                   "https://management.core.windows.net/.default",
                                   "797f4846-ba00-4fd7-ba43-dac1f8f63013/.default"])
def test_every_resource_manager_alias_gets_a_token_arm_accepts(http: requests.Session, emu: Emulator,
                                                                scope: str) -> None:
    issued = http.post(f"{emu.authority_host}{TENANT}/oauth2/v2.0/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": DEPLOYER.client_id, "client_secret": DEPLOYER.secret,
        "scope": scope})
    assert issued.status_code == 200, issued.text
    listed = http.get(emu.server_url("arm") + "/subscriptions", params={"api-version": API}, timeout=10,
                      headers={"Authorization": f"Bearer {issued.json()['access_token']}"})
    assert listed.status_code == 200, listed.text
