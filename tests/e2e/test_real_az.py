"""The real Azure CLI against the emulator, end to end: az login as a service principal, az account
get-access-token, akslogin --login azurecli from that sign-in, get-credentials (one cluster, and --all across
two subscriptions), az aks get-credentials → convert-kubeconfig → real kubectl, --admin, az logout, and az login
as another identity. And docs/emulator.md's recipe, run as written.

The CLI comes from .ci/run, which installs PyPI's azure-cli into .venv-az/ (not a project dependency: it is a
judge of the emulator's fidelity, like kubectl). Without it these tests skip with one line saying why. The
stand-in az of tests/machine_world.py stays for what the real CLI cannot do offline: hanging, printing garbage,
the pre-2.54 output without expires_on, and azd (not on PyPI).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID, world_from_dict
from support import real_az as shared
from support.armworld import BREAKGLASS, DEPLOYER, TENANT, named
from support.real_az import AZ, CERT_APP, S1, S2, VM_OBJECT_ID, Az
from support.run import akslogin_bin, decode_jwt_payload

pytestmark = pytest.mark.skipif(not os.access(AZ, os.X_OK),
                                reason=f"the real Azure CLI is not installed at {AZ} (.ci/run installs it)")



@pytest.fixture(scope='module')
def cert_pem_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared.cert_pem_path(tmp_path_factory)


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory, cert_pem_path: Path) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory, cert_pem_path)


@pytest.fixture
def az(emu: Emulator, tmp_path: Path) -> Az:
    return shared.az(emu, tmp_path)


def _oid(token: str) -> str:
    return str(decode_jwt_payload(token)["oid"])


def test_az_login_token_and_akslogin_azurecli(az: Az) -> None:
    az.login(DEPLOYER)
    accounts = json.loads(az("account", "list", "--output", "json").stdout)
    assert {a["id"] for a in accounts} == {S1, S2} and all(a["cloudName"] == "AksloginEmulator" for a in accounts)
    got = json.loads(az("account", "get-access-token", "--resource", AKS_SERVER_APP_ID, "--output", "json").stdout)
    claims = decode_jwt_payload(got["accessToken"])
    assert claims["aud"] == AKS_SERVER_APP_ID and claims["oid"] == DEPLOYER.object_id
    token = az.run(akslogin_bin(), "get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID)
    assert token.returncode == 0, token.stderr
    assert _oid(json.loads(token.stdout)["status"]["token"]) == DEPLOYER.object_id


def test_az_login_with_a_certificate(az: Az, cert_pem_path: Path) -> None:
    az("login", "--service-principal", "--tenant", TENANT, "-u", CERT_APP.client_id, "--certificate",
       str(cert_pem_path), "--output", "none")
    got = json.loads(az("account", "get-access-token", "--resource", AKS_SERVER_APP_ID, "--output", "json").stdout)
    assert _oid(got["accessToken"]) == CERT_APP.object_id


def test_az_login_identity_on_a_vm(az: Az, emu: Emulator) -> None:
    """Issue 24.9: az asks IMDS for https://management.core.windows.net/, an alias the token endpoint took
    and managed identity refused (AADSTS500011)."""
    from akslogin.emulator.azure.managed_identity import managed_identities

    az.env.update(managed_identities(emu).environment("build-vm"))
    az("login", "--identity", "--output", "none")
    accounts = json.loads(az("account", "list", "--output", "json").stdout)
    assert [a["id"] for a in accounts] == [S1] and accounts[0]["user"]["assignedIdentityInfo"] == "MSI"
    got = json.loads(az("account", "get-access-token", "--resource", AKS_SERVER_APP_ID, "--output", "json").stdout)
    assert _oid(got["accessToken"]) == VM_OBJECT_ID
    token = az.run(akslogin_bin(), "get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID)
    assert token.returncode == 0, token.stderr
    assert _oid(json.loads(token.stdout)["status"]["token"]) == VM_OBJECT_ID
    msi = az.run(akslogin_bin(), "get-token", "--login", "msi", "--server-id", AKS_SERVER_APP_ID)
    assert msi.returncode == 0, msi.stderr
    assert _oid(json.loads(msi.stdout)["status"]["token"]) == VM_OBJECT_ID


def test_akslogin_get_credentials_through_real_az(az: Az, emu: Emulator) -> None:
    az.login(DEPLOYER)
    common = ["--login", "azurecli", "--arm-endpoint", emu.server_url("arm"), "--exec-command", akslogin_bin()]
    one = az.run(akslogin_bin(), "get-credentials", *common, "-g", "rg-apps", "-n", "aks1")
    assert one.returncode == 0, one.stderr
    kubeconfig = az.home / ".kube" / "config"
    pods = az.run("kubectl", "--kubeconfig", str(kubeconfig), "get", "pods", "-o", "name")
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/web-1", "pod/web-2"]
    fleet = az.run(akslogin_bin(), "get-credentials", *common, "--all", "--overwrite-existing")
    assert fleet.returncode == 0, fleet.stderr + fleet.stdout
    contexts = {c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]}
    assert {"aks1", "aks-prod"} <= contexts  # aks-prod lives in the second subscription


def test_az_aks_get_credentials_then_convert_then_kubectl(az: Az) -> None:
    az.login(DEPLOYER)
    kubeconfig = az.home / "aks.yaml"
    az("aks", "get-credentials", "-g", "rg-apps", "-n", "aks1", "--file", str(kubeconfig))
    user = named(yaml.safe_load(kubeconfig.read_text()), "users", "clusterUser_rg-apps_aks1")["user"]
    assert user["exec"]["command"] == "kubelogin"  # as AKS writes it
    converted = az.run(akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kubeconfig), "--login", "azurecli")
    assert converted.returncode == 0, converted.stderr
    who = az.run("kubectl", "--kubeconfig", str(kubeconfig), "auth", "whoami", "-o", "json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == DEPLOYER.object_id
    exec_format = az.home / "exec.yaml"
    az("aks", "get-credentials", "-g", "rg-apps", "-n", "aks1", "--format", "exec", "--file", str(exec_format))
    assert "kubelogin" in exec_format.read_text()


def test_az_admin_credentials(az: Az) -> None:
    az.login(BREAKGLASS)
    kubeconfig = az.home / "admin.yaml"
    az("aks", "get-credentials", "-g", "rg-apps", "-n", "aks1", "--admin", "--file", str(kubeconfig))
    who = az.run("kubectl", "--kubeconfig", str(kubeconfig), "auth", "whoami", "-o", "json")
    assert who.returncode == 0, who.stderr
    assert "system:masters" in json.loads(who.stdout)["status"]["userInfo"]["groups"]
    audit = az.run(akslogin_bin(), "audit", str(kubeconfig), "-o", "json")
    assert {"admin-credential", "static-token"} <= {f["id"] for f in json.loads(audit.stdout)["findings"]}


def test_az_logout_and_another_identity(az: Az, emu: Emulator) -> None:
    az.login(DEPLOYER)
    kubeconfig = az.home / ".kube" / "config"
    got = az.run(akslogin_bin(), "get-credentials", "--login", "azurecli", "--arm-endpoint", emu.server_url("arm"),
                 "--exec-command", akslogin_bin(), "-g", "rg-apps", "-n", "aks1")
    assert got.returncode == 0, got.stderr
    token_args = [akslogin_bin(), "get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID]
    assert az.run(*token_args).returncode == 0
    az("logout")
    signed_out = az.run(*token_args)
    assert signed_out.returncode == 1, "a token cached before 'az logout' must not be handed out"
    assert "az login" in signed_out.stderr and "Traceback" not in signed_out.stderr
    az.login(BREAKGLASS)
    after = az.run(*token_args)
    assert after.returncode == 0, after.stderr
    assert _oid(json.loads(after.stdout)["status"]["token"]) == BREAKGLASS.object_id
    who = az.run(akslogin_bin(), "whoami", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert BREAKGLASS.object_id in who.stdout and DEPLOYER.object_id not in who.stdout, who.stderr


def test_az_login_with_username_and_password_on_an_emulator_on_port_443(tmp_path: Path) -> None:
    """Issue 24.11: MSAL Python (inside az) drops the authority's port from the user realm URL, so az login -u/-p
    reaches the emulator only when its authority is on 443 (docs/emulator.md says so)."""
    from conftest import USER_WORLD
    from support.emulator_userrealm import _port_443_free
    from support.worlds import PASSWORD, USER_DOMAIN

    if not _port_443_free():
        pytest.skip("port 443 is taken or needs privileges here")
    with Emulator(world_from_dict(USER_WORLD), tmp_path / "state", port=443) as emu443:
        az = Az(emu443, tmp_path)
        az("login", "-u", f"dev@{USER_DOMAIN}", "-p", PASSWORD, "--tenant", USER_WORLD["tenants"][0]["id"],
           "--allow-no-subscriptions", "--output", "none")
        got = json.loads(az("account", "get-access-token", "--resource", AKS_SERVER_APP_ID, "--output",
                            "json").stdout)
        assert _oid(got["accessToken"]) == "7e7e7e7e-0000-4000-8000-000000000001"


def test_az_lists_tenants_and_queries_resource_graph_as_akslogin_does(az: Az, emu: Emulator) -> None:
    """The estate endpoints judged by the real CLI's own ARM client (`az rest`, the tenant list being an extension's
    command): GET /tenants, and the Resource Graph query akslogin sends (from akslogin's own builder)."""
    from akslogin.resourcegraph import Filters, build_query

    az.login(DEPLOYER)
    arm = emu.server_url("arm")
    tenants = json.loads(az("rest", "--method", "get", "--url", f"{arm}/tenants?api-version=2022-12-01", "--output",
                            "json").stdout)
    assert [t["tenantId"] for t in tenants["value"]] == [TENANT]
    body = {"subscriptions": [S1], "query": build_query(Filters(resource_groups=("rg-apps",))),
            "options": {"$top": 1000, "resultFormat": "objectArray"}}
    answer = json.loads(az("rest", "--method", "post", "--url",
                           f"{arm}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
                           "--body", json.dumps(body), "--output", "json").stdout)
    assert sorted(r["name"] for r in answer["data"]) == ["aks-private", "aks1"]
    assert answer["totalRecords"] == 2 and all(r["aadProfile"]["tenantID"] == TENANT for r in answer["data"])
