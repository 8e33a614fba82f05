"""convert-kubeconfig: Azure/kubelogin's conversion rules (a table over login modes and inputs), then the
command end to end on files, with kubectl using the result.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError
from akslogin.usecases.convert import ConvertOptions, convert
from support import convert as shared
from support.armworld import DEPLOYER, Runner
from support.convert import aks_exec_user, aks_kubeconfig, convert_cli, legacy_user
from support.run import kubectl


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


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


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
