"""Embedded tokens (get-credentials/convert-kubeconfig --embed-tokens, refresh-kubeconfig) and the token
commands (login warms the cache, logout forgets exactly one identity or everything).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from support import embed_and_tokens as shared
from support.armworld import AKS_SERVER, DEPLOYER, Runner
from support.embed_and_tokens import S1, USER, user_entry
from support.run import akslogin_bin, decode_jwt_payload, kubectl


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def extension(user: dict[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = next(e for e in user["extensions"] if e["name"] == "akslogin.embedded-token")["extension"]
    return ext


def test_embedded_bearer_token_works_with_kubectl_and_is_flagged(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--embed-tokens", "token")
    assert result.returncode == 0, result.stderr
    assert "embedded bearer token" in result.stderr and "refresh-kubeconfig" in result.stderr
    user = user_entry(runner)
    assert "exec" not in user and decode_jwt_payload(user["token"])["aud"] == AKS_SERVER
    assert extension(user)["style"] == "token" and "--client-secret" not in extension(user)["args"]
    assert runner.kubeconfig.stat().st_mode & 0o777 == 0o600 and DEPLOYER.secret not in runner.kubeconfig.read_text()
    pods = kubectl(runner.kubeconfig, "get", "pods", "-o", "name", env=runner.env(None))  # no plugin, no secret
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split() == ["pod/web-1", "pod/web-2"]


def test_refresh_kubeconfig_renews_an_expiring_token(runner: Runner, emu: Emulator) -> None:
    emu.entra.settings.access_token_lifetime = 600  # ten minutes: inside the default 30-minute window
    runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--embed-tokens", "token")
    old = user_entry(runner)
    old_exp = int(extension(old)["expires-on"])
    emu.entra.settings.access_token_lifetime = 3599

    renewed = runner.run("refresh-kubeconfig")
    assert renewed.returncode == 0, renewed.stderr
    assert f"Renewed 1 embedded token(s) in {runner.kubeconfig}: {USER}" in renewed.stdout
    new = user_entry(runner)
    assert new["token"] != old["token"] and int(extension(new)["expires-on"]) > old_exp + 2000
    assert decode_jwt_payload(new["token"])["exp"] == int(extension(new)["expires-on"])
    backup = Path(str(runner.kubeconfig) + ".akslogin-backup")
    assert backup.stat().st_mode & 0o777 == 0o600 and old["token"] in backup.read_text()
    assert runner.kubeconfig.stat().st_mode & 0o777 == 0o600
    assert kubectl(runner.kubeconfig, "get", "pods", env=runner.env(None)).returncode == 0

    mtime = runner.kubeconfig.stat().st_mtime_ns
    fresh = runner.run("refresh-kubeconfig")
    assert fresh.returncode == 0 and "still have more than 30m left" in fresh.stdout
    assert runner.kubeconfig.stat().st_mtime_ns == mtime  # nothing to do: not rewritten

    forced_without_secret = runner.run("refresh-kubeconfig", "--force", "--context", "aks1", principal=None)
    assert forced_without_secret.returncode == 1
    assert "could not renew" in forced_without_secret.stderr and "client secret" in forced_without_secret.stderr
    assert runner.kubeconfig.stat().st_mtime_ns == mtime


def test_convert_embeds_and_converts_back(runner: Runner, emu: Emulator) -> None:
    cfg = emu.arm.kubeconfig(emu.world.cluster("aks1"), "clusterUser", "azure", public=False)
    runner.kubeconfig.parent.mkdir(parents=True)
    runner.kubeconfig.write_text(yaml.safe_dump(cfg))
    signin = runner.signin()[2:]
    embedded = runner.run("convert-kubeconfig", "-l", "spn", *signin, "--embed-tokens", "token")
    assert embedded.returncode == 0, embedded.stderr
    assert "embedded bearer token" in embedded.stderr and "token" in user_entry(runner)
    assert kubectl(runner.kubeconfig, "get", "pods", env=runner.env(None)).returncode == 0
    back = runner.run("convert-kubeconfig", "--exec-command", akslogin_bin())
    assert back.returncode == 0, back.stderr
    user = user_entry(runner)
    assert set(user) == {"exec"}  # token and extension gone
    assert user["exec"]["args"][:3] == ["get-token", "--login", "spn"]
    assert kubectl(runner.kubeconfig, "get", "pods", env=runner.env()).returncode == 0


def test_login_warms_the_cache_so_kubectl_signs_in_nowhere(runner: Runner, emu: Emulator) -> None:
    assert runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1).returncode == 0
    login = runner.run("login")  # the current context's identity
    assert login.returncode == 0, login.stderr
    assert f"token for {AKS_SERVER} valid until" in login.stdout and DEPLOYER.secret not in login.stdout
    requests_before = len(emu.request_log.token_requests())
    assert kubectl(runner.kubeconfig, "get", "pods", env=runner.env()).returncode == 0
    assert len(emu.request_log.token_requests()) == requests_before
