"""The Python API (``import akslogin``): one test or more per public function, against the real emulator
where a function talks to the network (tokens, and the official kubernetes client against the emulated
API server).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import akslogin
from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.errors import AuthenticationError, ConfigError, UsageError
from support.run import clean_env, decode_jwt_payload, spn_args, write_kubeconfig
from support.worlds import TENANT_ID, AppInfo


def _spn_options(emu: Emulator, app: AppInfo, cache: Path) -> dict[str, object]:
    return {"client_id": app.client_id, "tenant_id": TENANT_ID, "authority_host": emu.authority_host,
            "certificate_authority": emu.ca_path, "cache_dir": cache}


def test_import_akslogin_loads_nothing_but_the_package() -> None:
    """The hot path imports the package: the lazy re-exports must not pull the API in (only the version)."""
    code = "import sys, akslogin; print(sorted(m for m in sys.modules if m.startswith('akslogin')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['akslogin', 'akslogin._version']"
    assert set(akslogin.__all__) <= set(dir(akslogin))
    with pytest.raises(AttributeError):
        akslogin.no_such_thing  # noqa: B018


def test_get_token_with_a_login_mode_and_the_shared_cache(emulator: Emulator, apps: dict[str, AppInfo],
                                                         tmp_path: Path) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    token = akslogin.get_token(login="spn", environ=env, **_spn_options(emulator, app, tmp_path / "cache"))
    claims = decode_jwt_payload(token.token)
    assert claims["aud"] == AKS_SERVER_APP_ID and claims["appid"] == app.client_id
    assert token.expires_on > time.time() + 3000
    assert token.token not in repr(token)
    assert len(emulator.request_log.token_requests()) == 1
    # a second call, and the get-token command with the same identity, are served from the same cache
    again = akslogin.get_token(login="spn", environ=env, **_spn_options(emulator, app, tmp_path / "cache"))
    assert again.token == token.token and abs(again.expires_on - token.expires_on) < 1
    result = subprocess.run([sys.executable, "-m", "akslogin", *spn_args(emulator, app, cache_dir=tmp_path / "cache")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and token.token in result.stdout
    assert len(emulator.request_log.token_requests()) == 1


def test_get_token_for_a_context_applies_the_exec_env(emulator: Emulator, apps: dict[str, AppInfo],
                                                      tmp_path: Path) -> None:
    app = apps["viewer"]
    kubeconfig = write_kubeconfig(tmp_path / "config", emulator, "aks1",
                                  spn_args(emulator, app, cache_dir=tmp_path / "cache"),
                                  exec_env={"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": app.secret or ""})
    env = clean_env(tmp_path)  # no secret here: it comes from the exec block's env, as under kubectl
    token = akslogin.get_token(kubeconfig=kubeconfig, environ=env)
    assert decode_jwt_payload(token.token)["appid"] == app.client_id
    via_kubeconfig_env = akslogin.get_token("aks1", environ=dict(env, KUBECONFIG=str(kubeconfig)))
    assert via_kubeconfig_env.token == token.token
    # options override what the context says: another cache directory means another sign-in
    other = akslogin.get_token(kubeconfig=kubeconfig, environ=env, cache_dir=tmp_path / "other")
    assert other.token != token.token


def test_get_token_errors_are_akslogin_errors(emulator: Emulator, apps: dict[str, AppInfo], tmp_path: Path) -> None:
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="not-the-secret")
    with pytest.raises(AuthenticationError) as bad_secret:
        akslogin.get_token(login="spn", environ=env, **_spn_options(emulator, apps["viewer"], tmp_path))
    assert "AADSTS7000215" in bad_secret.value.message and "not-the-secret" not in bad_secret.value.render()
    with pytest.raises(TypeError, match="unknown option"):
        akslogin.get_token(login="spn", environ=env, client="x")
    with pytest.raises(TypeError, match="not both"):
        akslogin.get_token("aks1", login="spn", environ=env)
    static = tmp_path / "static"
    static.write_text(yaml.safe_dump({
        "clusters": [emulator.kubeconfig_cluster("aks1")], "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "aks1", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "abc"}}]}))
    with pytest.raises(ConfigError, match="does not sign in with akslogin or kubelogin"):
        akslogin.get_token(kubeconfig=static, environ=env)
    with pytest.raises(ConfigError, match="no context named 'nope'"):
        akslogin.get_token("nope", kubeconfig=static, environ=env)


def test_get_exec_credential(emulator: Emulator, apps: dict[str, AppInfo], tmp_path: Path) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    options = _spn_options(emulator, app, tmp_path / "cache")
    credential = akslogin.get_exec_credential(login="spn", environ=env, **options)
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert decode_jwt_payload(credential["status"]["token"])["aud"] == AKS_SERVER_APP_ID
    assert credential["status"]["expirationTimestamp"].endswith("Z")
    beta = akslogin.get_exec_credential(login="spn", environ=env, api_version="client.authentication.k8s.io/v1beta1",
                                        **options)
    assert beta["apiVersion"].endswith("v1beta1") and beta["status"]["token"] == credential["status"]["token"]
    with pytest.raises(UsageError, match="not supported"):
        akslogin.get_exec_credential(login="spn", environ=env, api_version="v2", **options)


def _bearer(configuration: object) -> str:
    """The Authorization header value the client will send (this also runs the refresh hook, as a request does)."""
    value = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")  # type: ignore[attr-defined]
    return str(value)


def test_configure_kubernetes_client_lists_pods_and_renews_the_token(
        emulator: Emulator, apps: dict[str, AppInfo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes import client

    app = apps["viewer"]
    kubeconfig = write_kubeconfig(tmp_path / "config", emulator, "aks1",
                                  spn_args(emulator, app, cache_dir=tmp_path / "cache"))
    for name in list(os.environ):
        if name.startswith(("AZURE_", "AAD_", "ARM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", app.secret or "")
    # tokens that live 303 s: akslogin replaces a token with less than 300 s left, so a request 4 s later renews
    # it (the refresher's clock is moved on instead of sleeping)
    emulator.entra.settings.access_token_lifetime = 303
    configuration = akslogin.configure_kubernetes_client(kubeconfig=kubeconfig)
    assert configuration.host == emulator.cluster_url("aks1")
    api = client.CoreV1Api(client.ApiClient(configuration))
    pods = api.list_namespaced_pod("default")
    assert sorted(p.metadata.name for p in pods.items) == ["web-1", "web-2"]
    first = _bearer(configuration)
    assert first.startswith("Bearer ey")
    configuration.refresh_api_key_hook.clock = lambda: time.time() + 4
    api.list_namespaced_pod("default")
    assert _bearer(configuration) != first  # renewed without the program doing anything
    assert len(emulator.request_log.token_requests()) == 2
    users = {e.user for e in emulator.request_log.entries("aks:aks1")}
    assert users == {app.object_id}  # the API server authenticated both requests as the service principal
    emulator.entra.settings.access_token_lifetime = 3599
    with pytest.raises(client.ApiException) as denied:  # RBAC still applies: view may not read secrets
        api.list_namespaced_secret("default")
    assert denied.value.status == 403


def test_configure_kubernetes_client_leaves_other_users_to_the_kubernetes_client(
        emulator: Emulator, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.write_text(yaml.safe_dump({
        "clusters": [emulator.kubeconfig_cluster("aks1")], "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "aks1", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "static-token"}}]}))
    configuration = akslogin.configure_kubernetes_client("c", kubeconfig=static, environ={"HOME": str(tmp_path)})
    assert _bearer(configuration) == "Bearer static-token"
    assert type(configuration.refresh_api_key_hook).__name__ != "_TokenRefresher"
    with pytest.raises(ConfigError, match="no context named 'other'"):
        akslogin.configure_kubernetes_client("other", kubeconfig=static, environ={"HOME": str(tmp_path)})
