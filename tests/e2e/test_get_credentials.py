"""get-credentials end to end: akslogin (subprocess) → emulated ARM → kubeconfig → real kubectl → akslogin exec
plugin → emulated Entra ID → emulated AKS API server.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import get_credentials as shared
from support.armworld import AKS_SERVER, BREAKGLASS, DEPLOYER, TENANT, Runner, named
from support.get_credentials import S1
from support.run import akslogin_bin, kubectl


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


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
