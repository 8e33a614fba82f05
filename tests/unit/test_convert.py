"""convert-kubeconfig: Azure/kubelogin's conversion rules (a table over login modes and inputs), then the
command end to end on files, with kubectl using the result.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from akslogin.errors import UsageError
from akslogin.kubeconfig import execblock
from akslogin.usecases.convert import ConvertOptions, convert
from support.armworld import AKS_SERVER, DEPLOYER, TENANT
from support.convert import AKS_CLIENT, aks_exec_user, config_with, legacy_user


def converted_args(user: dict[str, Any], login: str | None, allow_secrets: bool = False, **given: Any) -> list[str]:
    cfg = config_with(copy.deepcopy(user))
    result = convert(cfg, ConvertOptions(login=login, given=given, allow_secrets=allow_secrets))
    assert result.converted == ["u"]
    block = cfg.get("users", "u")["exec"]  # type: ignore[index]
    # A block keeps its version; new ones get kubelogin's v1beta1 (issue 15: older client-go rejects v1).
    own = (user.get("exec") or {}).get("apiVersion")
    assert block["command"] == "akslogin" and block["apiVersion"] == (own or "client.authentication.k8s.io/v1beta1")
    return list(block["args"])


def pairs(args: list[str]) -> dict[str, str | bool]:
    """Flag → value (True for switches); the order of flags is not part of the contract."""
    out: dict[str, str | bool] = {}
    i = 1
    while i < len(args):
        flag = args[i]
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[flag] = args[i + 1]
            i += 2
        else:
            out[flag] = True
            i += 1
    return out


BASE = {"--server-id": AKS_SERVER}


FROM_AKS = {**BASE, "--client-id": AKS_CLIENT, "--tenant-id": TENANT, "--environment": "AzurePublicCloud"}


# (case, source user, --login, given flags, allow secrets, expected flags)
CASES: list[tuple[str, dict[str, Any], str | None, dict[str, Any], bool, dict[str, str | bool]]] = [
    ("devicecode from aks exec", aks_exec_user(), "devicecode", {}, False,
     {"--login": "devicecode", **FROM_AKS}),
    ("no --login keeps the exec mode", aks_exec_user(), None, {}, False, {"--login": "devicecode", **FROM_AKS}),
    ("interactive with its flags", aks_exec_user(), "interactive",
     {"redirect_url": "http://localhost:8400", "login_hint": "ann@fabrikam.example", "pop_enabled": True,
      "pop_claims": "u=/subscriptions/x"}, False,
     {"--login": "interactive", **FROM_AKS, "--redirect-url": "http://localhost:8400",
      "--login-hint": "ann@fabrikam.example", "--pop-enabled": True, "--pop-claims": "u=/subscriptions/x"}),
    ("spn keeps ids, no secret by default", aks_exec_user(), "spn",
     {"client_id": DEPLOYER.client_id, "client_secret": "s3cret"}, False,
     {"--login": "spn", **FROM_AKS, "--client-id": DEPLOYER.client_id}),
    ("spn secret when allowed", aks_exec_user(), "spn",
     {"client_id": DEPLOYER.client_id, "client_secret": "s3cret"}, True,
     {"--login": "spn", **FROM_AKS, "--client-id": DEPLOYER.client_id, "--client-secret": "s3cret"}),
    ("spn certificate path, password withheld", aks_exec_user(), "spn",
     {"client_certificate": "/certs/sp.pfx", "client_certificate_password": "pw"}, False,
     {"--login": "spn", **FROM_AKS, "--client-certificate": "/certs/sp.pfx"}),
    ("spn env override switch", aks_exec_user(), "spn", {"disable_environment_override": True}, False,
     {"--login": "spn", **FROM_AKS, "--disable-environment-override": True}),
    ("ropc username, password withheld", aks_exec_user(), "ropc", {"username": "bot@fabrikam.example",
                                                                  "password": "pw"}, False,
     {"--login": "ropc", **FROM_AKS, "--username": "bot@fabrikam.example"}),
    ("msi system-assigned", aks_exec_user(), "msi", {}, False, {"--login": "msi", **BASE}),
    ("msi client id wins over resource id", aks_exec_user(), "msi",
     {"client_id": "mi-client", "identity_resource_id": "/subscriptions/s/id"}, False,
     {"--login": "msi", **BASE, "--client-id": "mi-client"}),
    ("msi resource id", aks_exec_user(), "msi", {"identity_resource_id": "/subscriptions/s/id"}, False,
     {"--login": "msi", **BASE, "--identity-resource-id": "/subscriptions/s/id"}),
    ("azurecli ignores the file's tenant", aks_exec_user(), "azurecli", {}, False, {"--login": "azurecli", **BASE}),
    ("azurecli flags", aks_exec_user(), "azurecli", {"tenant_id": "t2", "subscription": "sub"}, False,
     {"--login": "azurecli", **BASE, "--tenant-id": "t2", "--subscription": "sub"}),
    ("azd tenant", aks_exec_user(), "azd", {"tenant_id": "t2"}, False, {"--login": "azd", **BASE, "--tenant-id": "t2"}),
    ("workloadidentity from the environment", aks_exec_user(), "workloadidentity", {}, False,
     {"--login": "workloadidentity", **BASE}),
    ("workloadidentity flags", aks_exec_user(), "workloadidentity",
     {"client_id": "wi", "tenant_id": "t", "authority_host": "https://login.example/",
      "federated_token_file": "/var/run/token"}, False,
     {"--login": "workloadidentity", **BASE, "--client-id": "wi", "--tenant-id": "t",
      "--authority-host": "https://login.example/", "--federated-token-file": "/var/run/token"}),
    ("azurepipelines", aks_exec_user(), "azurepipelines", {"azure_pipelines_service_connection_id": "conn"}, False,
     {"--login": "azurepipelines", **BASE, "--tenant-id": TENANT, "--azure-pipelines-service-connection-id": "conn"}),
    ("legacy config-mode empty", legacy_user(""), "devicecode", {}, False,
     {"--login": "devicecode", **FROM_AKS, "--legacy": True}),
    ("legacy config-mode missing", legacy_user(None), "spn", {}, False,
     {"--login": "spn", **FROM_AKS, "--legacy": True}),
    ("legacy config-mode 0", legacy_user("0"), "ropc", {}, False, {"--login": "ropc", **FROM_AKS, "--legacy": True}),
    ("config-mode 1 is not legacy", legacy_user("1"), "devicecode", {}, False, {"--login": "devicecode", **FROM_AKS}),
    ("legacy is not a flag for msi", legacy_user("0"), "msi", {}, False, {"--login": "msi", **BASE}),
    ("auth-provider defaults to devicecode", legacy_user("1"), None, {}, False,
     {"--login": "devicecode", **FROM_AKS}),
    ("flags win over the file", aks_exec_user(), "devicecode",
     {"server_id": "other-server", "tenant_id": "other-tenant", "environment": "AzureUSGovernmentCloud"}, False,
     {"--login": "devicecode", "--server-id": "other-server", "--client-id": AKS_CLIENT,
      "--tenant-id": "other-tenant", "--environment": "AzureUSGovernmentCloud"}),
    ("akslogin exec keeps its mode and endpoints", {"exec": {
        "command": "/usr/local/bin/akslogin", "apiVersion": "client.authentication.k8s.io/v1",
        "args": ["get-token", "--login", "spn", "--server-id", AKS_SERVER, "--client-id", "x", "--tenant-id", "t",
                 "--authority-host", "https://127.0.0.1:9/", "--certificate-authority", "/ca.pem",
                 "--cache-dir", "/c", "--timeout", "90s"]}}, None, {}, False,
     {"--login": "spn", **BASE, "--client-id": "x", "--tenant-id": "t", "--authority-host": "https://127.0.0.1:9/",
      "--certificate-authority": "/ca.pem", "--cache-dir": "/c", "--timeout": "90s"}),
    ("kubelogin exec with --legacy and an unknown flag", {"exec": {
        "command": "kubelogin", "args": ["get-token", "-l", "devicecode", "--server-id", AKS_SERVER, "--client-id",
                                         AKS_CLIENT, "-t", TENANT, "--legacy", "--some-new-flag", "v",
                                         "--token-cache-dir", "/old"]}}, None, {}, False,
     {"--login": "devicecode", **BASE, "--client-id": AKS_CLIENT, "--tenant-id": TENANT, "--legacy": True,
      "--cache-dir": "/old"}),
]


@pytest.mark.parametrize(("source", "login", "given", "allow", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_conversion_table(source: dict[str, Any], login: str | None, given: dict[str, Any], allow: bool,
                          expected: dict[str, str | bool]) -> None:
    args = converted_args(source, login, allow, **given)
    assert args[0] == "get-token"
    assert pairs(args) == expected
    assert len(args) == 1 + sum(1 if v is True else 2 for v in expected.values())  # nothing else written


@pytest.mark.parametrize(("user", "login", "given", "message"), [
    (legacy_user("1", **{"client-id": ""}), "devicecode", {}, "--client-id is required for --login devicecode"),
    ({"auth-provider": {"name": "azure", "config": {"client-id": "c", "tenant-id": "t"}}}, "spn", {},
     "--server-id is required"),
    (aks_exec_user(), "spn", {"pop_enabled": True}, "--pop-enabled and --pop-claims go together"),
    (aks_exec_user(), "azurepipelines", {"tenant_id": ""}, "--tenant-id is required"),
])
def test_missing_values_name_the_user(user: dict[str, Any], login: str, given: dict[str, Any], message: str) -> None:
    cfg = config_with(user)
    before = copy.deepcopy(cfg.data)
    with pytest.raises(UsageError, match=message) as err:
        convert(cfg, ConvertOptions(login=login, given=given))
    assert "user 'u'" in err.value.message
    assert cfg.data == before


def test_block_shape_hint_mode_env_and_other_fields() -> None:
    user = aks_exec_user()
    user["exec"]["env"] = [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]
    user["client-certificate"] = "/keep/me.pem"  # other user fields survive
    cfg = config_with(user)
    convert(cfg, ConvertOptions(login="azurecli", azure_config_dir="/home/ci/.azure"))
    block = cfg.get("users", "u")["exec"]  # type: ignore[index]
    assert block["installHint"] == execblock.INSTALL_HINT  # kubelogin's hint replaced by ours
    assert block["interactiveMode"] == "Never" and block["provideClusterInfo"] is False
    assert block["env"] == [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"},
                            {"name": "AZURE_CONFIG_DIR", "value": "/home/ci/.azure"}]
    assert cfg.get("users", "u")["client-certificate"] == "/keep/me.pem"  # type: ignore[index]

    custom = aks_exec_user()
    custom["exec"]["installHint"] = "ask the platform team"
    cfg = config_with(custom)
    convert(cfg, ConvertOptions(login="devicecode"))
    block = cfg.get("users", "u")["exec"]  # type: ignore[index]
    assert block["installHint"] == "ask the platform team" and block["interactiveMode"] == "IfAvailable"

    legacy = config_with(legacy_user("1"))
    convert(legacy, ConvertOptions(login="devicecode"))
    assert set(legacy.get("users", "u")) == {"exec"}  # type: ignore[arg-type]  # tokens are dropped
