"""get-credentials end to end: akslogin (subprocess) → emulated ARM → kubeconfig → real kubectl → akslogin exec
plugin → emulated Entra ID → emulated AKS API server."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import World
from support.armworld import AKS_SERVER, BREAKGLASS, DEPLOYER, OUTSIDER, TENANT, Runner, named, single_spec, sub_id
from support.run import akslogin_bin, kubectl

S1, S2 = sub_id(1), sub_id(2)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(single_spec()), tmp_path_factory.mktemp("getcred-emu")) as e:
        yield e


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()


def arm_token_requests(emu: Emulator) -> int:
    return len(emu.request_log.token_requests())


def test_spn_gets_a_working_context_and_nothing_secret_is_written(runner: Runner, emu: Emulator) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1)
    assert result.returncode == 0, result.stderr
    assert f'Merged "aks1" as current context in {runner.kubeconfig}' in result.stderr
    assert runner.kubeconfig.stat().st_mode & 0o777 == 0o600
    text = runner.kubeconfig.read_text()
    assert DEPLOYER.secret not in text
    data = yaml.safe_load(text)
    assert data["current-context"] == "aks1"
    block = named(data, "users", "clusterUser_rg-apps_aks1")["user"]["exec"]
    assert block["command"] == akslogin_bin() and block["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert block["interactiveMode"] == "Never" and "akslogin" in block["installHint"]
    args = block["args"]
    assert args[:5] == ["get-token", "--login", "spn", "--server-id", AKS_SERVER]
    assert args[args.index("--client-id") + 1] == DEPLOYER.client_id
    assert args[args.index("--tenant-id") + 1] == TENANT
    assert args[args.index("--authority-host") + 1] == emu.authority_host

    pods = kubectl(runner.kubeconfig, "get", "pods", "-o", "name", env=runner.env())
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/web-1", "pod/web-2"]
    assert [r.user for r in emu.request_log.entries("aks:aks1") if r.path.endswith("/pods")] == [DEPLOYER.object_id]


def test_arm_token_is_cached_like_get_token(runner: Runner, emu: Emulator) -> None:
    first = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1)
    assert first.returncode == 0, first.stderr
    assert arm_token_requests(emu) == 1
    second = runner.get_credentials("-g", "rg-prod", "-n", "aks-prod", "-s", S2)
    assert second.returncode == 0, second.stderr
    assert arm_token_requests(emu) == 1  # the second run signed in from the cache
    data = runner.config()
    assert {c["name"] for c in data["contexts"]} == {"aks1", "aks-prod"} and data["current-context"] == "aks-prod"


def test_subscription_is_inferred_only_when_unambiguous(runner: Runner) -> None:
    # BREAKGLASS sees one subscription, DEPLOYER two.
    ok = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--admin", principal=BREAKGLASS)
    assert ok.returncode == 0, ok.stderr
    ambiguous = runner.get_credentials("-g", "rg-apps", "-n", "aks1")
    assert ambiguous.returncode == 2
    assert "sees 2 subscriptions" in ambiguous.stderr and S1 in ambiguous.stderr and "Development" in ambiguous.stderr
    via_env = runner.get_credentials("-g", "rg-apps", "-n", "aks1", env=runner.env(AZURE_SUBSCRIPTION_ID=S1))
    assert via_env.returncode == 0, via_env.stderr


def test_admin_warns_and_the_certificate_is_cluster_admin(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--admin", principal=BREAKGLASS)
    assert result.returncode == 0, result.stderr
    assert "warning: --admin" in result.stderr and "system:masters" in result.stderr
    assert "cannot be revoked" in result.stderr
    data = runner.config()
    assert data["current-context"] == "aks1-admin"
    user = named(data, "users", "clusterAdmin_rg-apps_aks1")["user"]
    assert "client-certificate-data" in user and "exec" not in user  # certificates are not converted
    who = kubectl(runner.kubeconfig, "auth", "whoami", "-o", "json", env=runner.env(None))
    assert who.returncode == 0, who.stderr
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == "masterclient" and "system:masters" in info["groups"]
    pods = kubectl(runner.kubeconfig, "get", "pods", "-A", "-o", "name", env=runner.env(None))
    assert pods.returncode == 0 and "pod/web-1" in pods.stdout


def test_disabled_local_accounts_is_explained(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-secure", "-n", "aks-nolocal", "-s", S1, "--admin",
                                    principal=BREAKGLASS)
    assert result.returncode == 1
    assert "local accounts disabled" in result.stderr and "Drop --admin" in result.stderr
    assert "Traceback" not in result.stderr and not runner.kubeconfig.exists()


def test_missing_role_is_explained(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, principal=OUTSIDER)
    assert result.returncode == 1
    assert "AuthorizationFailed" in result.stderr
    assert "Azure Kubernetes Service Cluster User Role" in result.stderr
    assert OUTSIDER.secret not in result.stderr and not runner.kubeconfig.exists()


def test_file_dash_prints_and_writes_nothing(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--file", "-")
    assert result.returncode == 0, result.stderr
    printed = yaml.safe_load(result.stdout)
    assert printed["contexts"][0]["name"] == "aks1" and printed["users"][0]["user"]["exec"]["command"]
    assert not runner.kubeconfig.exists()


def test_existing_entries_are_kept_conflicts_named_and_context_renames(runner: Runner) -> None:
    runner.kubeconfig.parent.mkdir(parents=True)
    runner.kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {"colors": True},
        "clusters": [{"name": "aks1", "cluster": {"server": "https://elsewhere.example"}},
                     {"name": "mine", "cluster": {"server": "https://mine.example", "x-field": 1}}],
        "users": [{"name": "me", "user": {"token": "keep-me"}}],
        "contexts": [{"name": "mine", "context": {"cluster": "mine", "user": "me"}}],
        "current-context": "mine",
    }))
    before = runner.kubeconfig.read_text()
    conflict = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1)
    assert conflict.returncode == 1
    assert "already has a different cluster 'aks1'" in conflict.stderr and "--overwrite-existing" in conflict.stderr
    assert runner.kubeconfig.read_text() == before

    renamed = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--context", "dev")
    assert renamed.returncode == 0, renamed.stderr
    data = runner.config()
    assert named(data, "contexts", "dev")["context"] == {"cluster": "dev", "user": "clusterUser_rg-apps_aks1"}
    assert named(data, "clusters", "aks1")["cluster"]["server"] == "https://elsewhere.example"
    assert named(data, "clusters", "mine")["cluster"]["x-field"] == 1 and data["preferences"] == {"colors": True}
    assert named(data, "users", "me")["user"] == {"token": "keep-me"} and data["current-context"] == "dev"

    before_forced = runner.kubeconfig.read_text()
    forced = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--overwrite-existing")
    assert forced.returncode == 0, forced.stderr
    assert named(runner.config(), "clusters", "aks1")["cluster"]["server"].startswith("https://127.0.0.1:")
    # Replacing entries rewrote the file: the previous version is kept beside it, private.
    backups = list(runner.kubeconfig.parent.glob(runner.kubeconfig.name + ".akslogin-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == before_forced
    assert backups[0].stat().st_mode & 0o777 == 0o600


def test_private_cluster_uses_private_fqdn_unless_public_is_asked(runner: Runner) -> None:
    runner.get_credentials("-g", "rg-apps", "-n", "aks-private", "-s", S1)
    assert named(runner.config(), "clusters", "aks-private")["cluster"]["server"].startswith("https://localhost:")
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks-private", "-s", S1, "--public-fqdn",
                                    "--overwrite-existing")
    assert result.returncode == 0, result.stderr
    assert named(runner.config(), "clusters", "aks-private")["cluster"]["server"].startswith("https://127.0.0.1:")
    pods = kubectl(runner.kubeconfig, "get", "pods", "-o", "name", env=runner.env())
    assert pods.stdout.strip() == "pod/private-1", pods.stderr


def test_monitoring_user_and_non_entra_cluster(runner: Runner) -> None:
    monitoring = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--user", "clusterMonitoringUser",
                                        "--file", "-", principal=BREAKGLASS)
    assert monitoring.returncode == 0, monitoring.stderr
    assert yaml.safe_load(monitoring.stdout)["users"][0]["name"] == "clusterMonitoringUser_rg-apps_aks1"
    basic = runner.get_credentials("-g", "rg-legacy", "-n", "aks-basic", "-s", S1)
    assert basic.returncode == 0, basic.stderr
    user = named(runner.config(), "users", "clusterUser_rg-legacy_aks-basic")["user"]
    assert "exec" not in user and "client-certificate-data" in user  # a non-Entra user is left as AKS sent it
    pods = kubectl(runner.kubeconfig, "get", "pods", "-o", "name", env=runner.env(None))
    assert pods.stdout.strip() == "pod/old-1", pods.stderr


def test_no_convert_keeps_what_aks_returned(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--format", "azure", "--no-convert")
    assert result.returncode == 0, result.stderr
    user = named(runner.config(), "users", "clusterUser_rg-apps_aks1")["user"]
    assert user["auth-provider"]["name"] == "azure" and user["auth-provider"]["config"]["config-mode"] == "1"


def test_explicit_secret_is_used_for_arm_but_written_only_when_allowed(runner: Runner, emu: Emulator) -> None:
    env = runner.env(None)  # no secret in the environment: it comes from the flag
    kept_out = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--client-secret", DEPLOYER.secret,
                                      env=env)
    assert kept_out.returncode == 0, kept_out.stderr
    assert "not written into the kubeconfig" in kept_out.stderr
    assert DEPLOYER.secret not in runner.kubeconfig.read_text() and DEPLOYER.secret not in kept_out.stderr
    allowed = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--client-secret", DEPLOYER.secret,
                                     "--allow-secrets-in-kubeconfig", "--overwrite-existing", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: --client-secret written in clear text" in allowed.stderr
    assert DEPLOYER.secret not in allowed.stderr
    assert DEPLOYER.secret in runner.kubeconfig.read_text()
    assert kubectl(runner.kubeconfig, "get", "pods", env=env).returncode == 0  # works with no env secret


@pytest.mark.parametrize(("args", "message"), [
    (["-g", "rg"], "--resource-group and --name are required"),
    (["--all", "-n", "x"], "does not take --resource-group"),
    (["-g", "rg", "-n", "x", "--admin", "--format", "exec"], "--format can only be specified"),
    (["-g", "rg", "-n", "x", "--embed-tokens", "--no-convert"], "drop --no-convert"),
    (["-g", "rg", "-n", "x", "-s", "a", "-s", "b"], "one --subscription"),
])
def test_bad_flag_combinations(runner: Runner, args: list[str], message: str) -> None:
    result = runner.get_credentials(*args)
    assert result.returncode == 2 and message in result.stderr


def test_arm_throttling_and_server_errors_are_retried(runner: Runner, emu: Emulator) -> None:
    from akslogin.emulator.faults import Fault

    emu.faults.add(Fault("arm", "listClusterUserCredential", "status", status=429, retry_after=1))
    emu.faults.add(Fault("arm", "listClusterUserCredential", "status", status=503))
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1)
    assert result.returncode == 0, result.stderr
    statuses = [r.status for r in emu.request_log.entries("arm") if r.path.endswith("listClusterUserCredential")]
    assert statuses == [429, 503, 200]


def test_certificate_data_is_the_emulator_ca(runner: Runner, emu: Emulator) -> None:
    runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1)
    ca = named(runner.config(), "clusters", "aks1")["cluster"]["certificate-authority-data"]
    assert base64.b64decode(ca) == emu.ca_path.read_bytes()


def test_relative_file_flags_are_written_absolute(runner: Runner, emu: Emulator, tmp_path: Path) -> None:
    """kubectl runs the plugin from wherever the user is: every file flag in the exec block is absolute."""
    import shutil
    import subprocess

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(emu.ca_path, work / "ca.pem")
    argv = [akslogin_bin(), "get-credentials", "--login", "spn", "--tenant-id", TENANT, "--client-id",
            DEPLOYER.client_id, "--authority-host", emu.authority_host, "--certificate-authority", "ca.pem",
            "--cache-dir", "cache", "--arm-endpoint", emu.server_url("arm"), "--exec-command", akslogin_bin(),
            "-g", "rg-apps", "-n", "aks1", "--subscription", S1]
    result = subprocess.run(argv, cwd=work, env=runner.env(), capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    args = named(runner.config(), "users", "clusterUser_rg-apps_aks1")["user"]["exec"]["args"]
    assert args[args.index("--certificate-authority") + 1] == str(work / "ca.pem")
    assert args[args.index("--cache-dir") + 1] == str(work / "cache")
    elsewhere = subprocess.run(["kubectl", "--kubeconfig", str(runner.kubeconfig), "get", "pods", "-o", "name"],
                               cwd="/", env=runner.env(), capture_output=True, text=True, timeout=90)
    assert elsewhere.returncode == 0, elsewhere.stderr


def test_kubeconfig_list_is_written_by_kubectls_rule(runner: Runner, emu: Emulator, tmp_path: Path) -> None:
    """KUBECONFIG=a:b with a missing: kubectl writes into b, and so does akslogin (a is not created)."""
    import os

    first, second = tmp_path / "a", tmp_path / "b"
    second.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                      "contexts": []}))
    second.chmod(0o600)
    env = runner.env(KUBECONFIG=f"{first}{os.pathsep}{second}")
    assert kubectl(second, "config", "set-context", "by-kubectl", "--cluster", "x", env=env).returncode == 0
    ctl = __import__("subprocess").run(["kubectl", "config", "set-context", "by-kubectl-env", "--cluster", "x"],
                                       env=env, capture_output=True, text=True, timeout=60)
    assert ctl.returncode == 0, ctl.stderr
    assert not first.exists() and "by-kubectl-env" in second.read_text()  # kubectl's own behaviour
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1, env=env)
    assert result.returncode == 0, result.stderr
    assert not first.exists(), "akslogin created the first KUBECONFIG entry; kubectl writes into the existing one"
    names = {c["name"] for c in yaml.safe_load(second.read_text())["contexts"]}
    assert {"aks1", "by-kubectl", "by-kubectl-env"} <= names


def test_kubectl_writing_beside_akslogin_loses_nothing(runner: Runner, emu: Emulator, tmp_path: Path) -> None:
    """kubectl's own <kubeconfig>.lock is honoured: 20 get-credentials beside 60 'kubectl config set-context'.

    kubectl does not wait for its lock (it fails with "file exists"), so the kubectl side retries, as a
    script would. akslogin reads the file under the lock, so no kubectl write is ever lost. kubectl itself
    reads the file *before* taking its lock (client-go's ModifyConfig compares that earlier read with the
    file and deletes contexts that are not in it), so a context akslogin wrote in that window can be removed
    by kubectl; two kubectl processes lose each other's entries the same way. That window is rare: at most a
    couple of the 20 may go that way, never one of kubectl's 60."""
    import subprocess
    import threading

    kc = runner.kubeconfig
    kc.parent.mkdir(parents=True, exist_ok=True)
    kc.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}))
    kc.chmod(0o600)
    env = runner.env(KUBECONFIG=str(kc))
    failures: list[str] = []

    def kubectl_side() -> None:
        for i in range(60):
            for _ in range(200):
                done = subprocess.run(["kubectl", "config", "set-context", f"kubectl-{i}", "--cluster", "x"],
                                      env=env, capture_output=True, text=True, timeout=60)
                if done.returncode == 0:
                    break
                if "exists" not in done.stderr:
                    failures.append(done.stderr)
                    return
            else:
                failures.append(f"kubectl-{i} never got the lock")

    def akslogin_side(i: int) -> None:
        done = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1, "--context", f"aks-{i}",
                                      env=env)
        if done.returncode != 0:
            failures.append(done.stderr)

    threads = [threading.Thread(target=kubectl_side)] + [threading.Thread(target=akslogin_side, args=(i,))
                                                          for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures[:3]
    names = {c["name"] for c in yaml.safe_load(kc.read_text())["contexts"]}
    lost_by_akslogin = {f"kubectl-{i}" for i in range(60)} - names
    assert not lost_by_akslogin, f"{len(lost_by_akslogin)} kubectl contexts lost: {sorted(lost_by_akslogin)[:10]}"
    deleted_by_kubectl = {f"aks-{i}" for i in range(20)} - names
    assert len(deleted_by_kubectl) <= 2, f"{len(deleted_by_kubectl)} akslogin contexts lost: {deleted_by_kubectl}"
    assert not Path(str(kc) + ".lock").exists()
