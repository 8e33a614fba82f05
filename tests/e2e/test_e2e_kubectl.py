"""The product end to end: real kubectl → akslogin exec plugin → emulated Entra ID over TLS →
emulated AKS API server that checks the token and evaluates RBAC."""

from __future__ import annotations

import json
from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env, kubectl, spn_args, write_kubeconfig
from support.worlds import AppInfo


def _kubeconfig(tmp_path: Path, emulator: Emulator, app: AppInfo, cluster: str = "aks1",
                secret: str | None = None) -> tuple[Path, dict[str, str]]:
    cache = tmp_path / "cache"
    kc = write_kubeconfig(tmp_path / "config", emulator, cluster, spn_args(emulator, app, cache_dir=cache),
                          exec_env={"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": secret or app.secret or ""})
    return kc, clean_env(tmp_path)


def test_viewer_lists_pods_then_second_run_is_served_from_cache(tmp_path: Path, emulator: Emulator,
                                                                 apps: dict[str, AppInfo]) -> None:
    kc, env = _kubeconfig(tmp_path, emulator, apps["viewer"])
    first = kubectl(kc, "get", "pods", env=env)
    assert first.returncode == 0, first.stderr
    assert "web-1" in first.stdout and "web-2" in first.stdout
    token_requests = emulator.request_log.token_requests()
    assert [r.grant_type for r in token_requests] == ["client_credentials"]
    assert token_requests[0].client_id == apps["viewer"].client_id

    second = kubectl(kc, "get", "pods", "-o", "name", env=env)
    assert second.returncode == 0, second.stderr
    assert "pod/web-1" in second.stdout
    # No new request of any kind reached Entra: the token came from akslogin's cache.
    assert len(emulator.request_log.token_requests()) == 1
    served = [r for r in emulator.request_log.entries("aks:aks1") if r.status == 200]
    assert len(served) >= 2
    # The API server authenticated the token as the service principal's object id, as AKS does.
    assert {r.user for r in served if r.path.endswith("/pods")} == {apps["viewer"].object_id}


def test_principal_without_binding_gets_the_real_forbidden_message(tmp_path: Path, emulator: Emulator,
                                                                    apps: dict[str, AppInfo]) -> None:
    kc, env = _kubeconfig(tmp_path, emulator, apps["nobody"])
    result = kubectl(kc, "get", "pods", env=env)
    assert result.returncode == 1
    oid = apps["nobody"].object_id
    assert (f'Error from server (Forbidden): pods is forbidden: User "{oid}" cannot list resource "pods" '
            f'in API group "" in the namespace "default"') in result.stderr


def test_wrong_secret_is_unauthorized_with_akslogin_explanation(tmp_path: Path, emulator: Emulator,
                                                                apps: dict[str, AppInfo]) -> None:
    kc, env = _kubeconfig(tmp_path, emulator, apps["viewer"], secret="not-the-secret")
    result = kubectl(kc, "get", "pods", env=env)
    assert result.returncode == 1
    assert "AADSTS7000215" in result.stderr
    assert "client secret is wrong" in result.stderr
    assert "getting credentials: exec: executable" in result.stderr
    assert "not-the-secret" not in result.stderr
    assert all(r.status == 401 for r in emulator.request_log.token_requests())


def test_whoami_and_can_i_through_the_plugin(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    kc, env = _kubeconfig(tmp_path, emulator, apps["editor"])
    who = kubectl(kc, "auth", "whoami", "-o", "json", env=env)
    assert who.returncode == 0, who.stderr
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == apps["editor"].object_id
    assert "9c9c9c9c-0000-4000-8000-000000000001" in info["groups"]

    yes = kubectl(kc, "auth", "can-i", "create", "deployments", "-n", "team-a", env=env)
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = kubectl(kc, "auth", "can-i", "list", "pods", "-n", "default", env=env)
    assert (no.returncode, no.stdout.strip()) == (1, "no")


def test_certificate_principal_lists_namespaces_denied_but_pods_allowed(
    tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]
) -> None:
    app = apps["cert"]
    args = [*spn_args(emulator, app, cache_dir=tmp_path / "cache"), "--client-certificate", str(app.pem_path)]
    kc = write_kubeconfig(tmp_path / "config", emulator, "aks1", args)
    env = clean_env(tmp_path)
    pods = kubectl(kc, "get", "pods", "-n", "team-a", env=env)
    assert pods.returncode == 0, pods.stderr
    assert "api-1" in pods.stdout
    grants = [r.grant_type for r in emulator.request_log.token_requests()]
    assert grants == ["client_credentials"]


def test_v1beta1_exec_api_version_is_echoed_to_kubectl(tmp_path: Path, emulator: Emulator,
                                                      apps: dict[str, AppInfo]) -> None:
    cache = tmp_path / "cache"
    kc = write_kubeconfig(tmp_path / "config", emulator, "aks1", spn_args(emulator, apps["viewer"], cache_dir=cache),
                          exec_env={"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": apps["viewer"].secret or ""},
                          api_version="v1beta1")
    result = kubectl(kc, "get", "namespaces", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "team-a" in result.stdout


def test_cluster_scope_denial_names_the_cluster_scope(tmp_path: Path, emulator: Emulator,
                                                      apps: dict[str, AppInfo]) -> None:
    kc, env = _kubeconfig(tmp_path, emulator, apps["nobody"])
    result = kubectl(kc, "get", "namespaces", env=env)
    assert result.returncode == 1
    assert (f'namespaces is forbidden: User "{apps["nobody"].object_id}" cannot list resource "namespaces" '
            'in API group "" at the cluster scope') in result.stderr
