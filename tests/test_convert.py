"""convert-kubeconfig: Azure/kubelogin's conversion rules (a table over login modes and inputs), then the
command end to end on files, with kubectl using the result."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import World
from akslogin.errors import UsageError
from akslogin.kubeconfig import execblock
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError
from akslogin.usecases.convert import ConvertOptions, convert
from support.armworld import AKS_SERVER, DEPLOYER, TENANT, Runner, named, single_spec, sub_id
from support.run import akslogin_bin, kubectl

AKS_CLIENT = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
KUBELOGIN_HINT = ("\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                  "To learn more, please go to https://aka.ms/aks/kubelogin\n")


def aks_exec_user() -> dict[str, Any]:
    return {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
        "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER, "--client-id",
                 AKS_CLIENT, "--tenant-id", TENANT, "--login", "devicecode"],
        "env": None, "installHint": KUBELOGIN_HINT, "provideClusterInfo": False,
    }}


def legacy_user(config_mode: str | None, **extra: str) -> dict[str, Any]:
    config = {"apiserver-id": AKS_SERVER, "client-id": AKS_CLIENT, "tenant-id": TENANT,
              "environment": "AzurePublicCloud", "access-token": "old-at", "refresh-token": "old-rt",
              "expires-in": "3599", "expires-on": "1700000000", **extra}
    if config_mode is not None:
        config["config-mode"] = config_mode
    return {"auth-provider": {"name": "azure", "config": config}}


def config_with(user: dict[str, Any], name: str = "u") -> KubeConfig:
    return KubeConfig({
        "clusters": [{"name": "c", "cluster": {"server": "https://c.example"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": name}}],
        "users": [{"name": name, "user": user}],
        "current-context": "ctx",
    })


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


def test_only_entra_users_and_only_the_context() -> None:
    cfg = KubeConfig({
        "clusters": [{"name": "c", "cluster": {"server": "https://c"}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "aks-a"}},
                     {"name": "b", "context": {"cluster": "c", "user": "aks-b"}}],
        "users": [
            {"name": "aks-a", "user": aks_exec_user()},
            {"name": "aks-b", "user": legacy_user("1")},
            {"name": "cert", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}},
            {"name": "oidc", "user": {"exec": {"command": "kubectl", "args": ["oidc-login", "get-token"]}}},
            {"name": "gcp", "user": {"auth-provider": {"name": "gcp"}}},
        ],
    })
    untouched = {n: copy.deepcopy(cfg.get("users", n)) for n in ("aks-b", "cert", "oidc", "gcp")}
    result = convert(cfg, ConvertOptions(login="spn", context="a"))
    assert result.converted == ["aks-a"] and result.untouched == []
    assert all(cfg.get("users", n) == body for n, body in untouched.items())
    everything = convert(cfg, ConvertOptions(login="spn"))
    assert everything.converted == ["aks-a", "aks-b"] and everything.untouched == ["cert", "oidc", "gcp"]
    with pytest.raises(KubeconfigError, match="no context exists with the name: 'nope'"):
        convert(cfg, ConvertOptions(context="nope"))


# -- the command, end to end ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(single_spec()), tmp_path_factory.mktemp("convert-emu")) as e:
        yield e


def aks_kubeconfig(emu: Emulator, path: Path, user: dict[str, Any] | None = None, name: str = "aks1") -> Path:
    """The kubeconfig AKS would hand out for cluster aks1 (kubelogin devicecode exec user)."""
    cfg = emu.arm.kubeconfig(emu.world.cluster("aks1"), "clusterUser", "exec", public=False)
    cfg["contexts"][0]["name"] = cfg["current-context"] = name
    if user is not None:
        cfg["users"][0]["user"] = user
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o644)
    return path


def convert_cli(runner: Runner, *args: str, env: dict[str, str] | None = None) -> Any:
    from support.run import run_akslogin

    return run_akslogin(["convert-kubeconfig", "--exec-command", akslogin_bin(), *args],
                        env if env is not None else runner.env())


def test_command_converts_backs_up_and_kubectl_works(emu: Emulator, tmp_path: Path) -> None:
    runner = Runner(emu, tmp_path)
    kc = aks_kubeconfig(emu, runner.kubeconfig)
    original = kc.read_text()
    mode = kc.stat().st_mode & 0o777
    result = convert_cli(runner, "-l", "spn", *runner.signin()[2:])
    assert result.returncode == 0, result.stderr
    assert "Converted 1 user(s)" in result.stdout
    backups = [p for p in kc.parent.iterdir() if ".akslogin-backup-" in p.name]
    assert len(backups) == 1 and backups[0].read_text() == original and backups[0].stat().st_mode & 0o777 == 0o600
    assert kc.stat().st_mode & 0o777 == mode and DEPLOYER.secret not in kc.read_text()  # mode kept, as kubectl
    pods = kubectl(kc, "get", "pods", "-o", "name", env=runner.env())
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/web-1", "pod/web-2"]
    again = convert_cli(runner, "-l", "spn", *runner.signin()[2:])  # idempotent: same result, no new backup
    assert again.returncode == 0
    assert len([p for p in kc.parent.iterdir() if ".akslogin-backup-" in p.name]) == 1


def test_secret_flag_needs_explicit_permission(emu: Emulator, tmp_path: Path) -> None:
    runner = Runner(emu, tmp_path)
    kc = aks_kubeconfig(emu, runner.kubeconfig)
    before = kc.read_text()
    refused = convert_cli(runner, "-l", "spn", "--client-id", DEPLOYER.client_id, "--client-secret", DEPLOYER.secret)
    assert refused.returncode == 2 and "--allow-secrets-in-kubeconfig" in refused.stderr
    assert DEPLOYER.secret not in refused.stderr and kc.read_text() == before
    allowed = convert_cli(runner, "-l", "spn", *runner.signin()[2:], "--client-secret", DEPLOYER.secret,
                          "--allow-secrets-in-kubeconfig", env=runner.env(None))
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: --client-secret written in clear text" in allowed.stderr
    assert DEPLOYER.secret in kc.read_text() and DEPLOYER.secret not in allowed.stderr + allowed.stdout
    assert kubectl(kc, "get", "pods", env=runner.env(None)).returncode == 0


def test_env_login_method_and_kubeconfig_list(emu: Emulator, tmp_path: Path) -> None:
    runner = Runner(emu, tmp_path)
    first = aks_kubeconfig(emu, tmp_path / "a.yaml", name="first")
    second = tmp_path / "b.yaml"
    second_cfg = yaml.safe_load(first.read_text())
    second_cfg["contexts"][0]["name"] = second_cfg["current-context"] = "second"
    second_cfg["users"][0]["name"] = "other-user"
    second_cfg["contexts"][0]["context"]["user"] = "other-user"
    second.write_text(yaml.safe_dump(second_cfg))
    env = runner.env(KUBECONFIG=os.pathsep.join([str(first), str(second)]), AAD_LOGIN_METHOD="azurecli")
    a_before = first.read_text()
    result = convert_cli(runner, "--context", "second", env=env)
    assert result.returncode == 0, result.stderr
    assert first.read_text() == a_before  # the context's user lives in the second file only
    args = named(yaml.safe_load(second.read_text()), "users", "other-user")["user"]["exec"]["args"]
    assert args[:3] == ["get-token", "--login", "azurecli"] and "--tenant-id" not in args
    unknown = convert_cli(runner, "--context", "nope", env=env)
    assert unknown.returncode == 2 and "no context exists with the name: 'nope'" in unknown.stderr
    assert sub_id(1)  # the world's subscriptions are irrelevant here


def test_exec_api_version_v1beta1_by_default_v1_when_asked_and_kept_when_converting_again(tmp_path: Path) -> None:
    """kubelogin writes v1beta1 (tools on client-go < 0.22 reject v1); --exec-api-version v1 asks for v1, and a
    block's own version survives a later conversion without the flag."""
    import subprocess

    from support.run import akslogin_bin, clean_env

    kc = tmp_path / "config"
    kc.write_text(yaml.safe_dump(config_with(aks_exec_user()).data))
    env = clean_env(tmp_path)

    def convert_cli(*extra: str) -> str:
        result = subprocess.run([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kc), *extra], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        version: str = yaml.safe_load(kc.read_text())["users"][0]["user"]["exec"]["apiVersion"]
        return version

    assert convert_cli() == "client.authentication.k8s.io/v1beta1"
    assert convert_cli("--exec-api-version", "v1") == "client.authentication.k8s.io/v1"
    assert convert_cli("-l", "spn") == "client.authentication.k8s.io/v1"  # kept
    assert convert_cli("--exec-api-version", "v1beta1") == "client.authentication.k8s.io/v1beta1"
    bad = subprocess.run([akslogin_bin(), "convert-kubeconfig", "--kubeconfig", str(kc), "--exec-api-version", "v2"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "v1beta1" in bad.stderr
