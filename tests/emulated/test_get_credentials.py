"""get-credentials end to end: akslogin (subprocess) → emulated ARM → kubeconfig → real kubectl → akslogin exec
plugin → emulated Entra ID → emulated AKS API server.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import get_credentials as shared
from support.armworld import BREAKGLASS, OUTSIDER, Runner, named
from support.get_credentials import S1, S2


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def arm_token_requests(emu: Emulator) -> int:
    return len(emu.request_log.token_requests())


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


def test_no_convert_keeps_what_aks_returned(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--format", "azure", "--no-convert")
    assert result.returncode == 0, result.stderr
    user = named(runner.config(), "users", "clusterUser_rg-apps_aks1")["user"]
    assert user["auth-provider"]["name"] == "azure" and user["auth-provider"]["config"]["config-mode"] == "1"


@pytest.mark.parametrize(("args", "message"), [
    (["-g", "rg"], "--resource-group and --name are required"),
    (["--all", "-n", "x"], "does not take --name"),
    (["-g", "rg", "-n", "x", "--admin", "--format", "exec"], "--format can only be specified"),
    (["-g", "rg", "-n", "x", "--embed-tokens", "--no-convert"], "drop --no-convert"),
    (["-g", "rg", "-n", "x", "-s", "a", "-s", "b"], "one --subscription"),
])
def test_bad_flag_combinations(runner: Runner, args: list[str], message: str) -> None:
    result = runner.get_credentials(*args)
    assert result.returncode == 2 and message in result.stderr


def test_arm_throttling_and_server_errors_are_retried(runner: Runner, emu: Emulator) -> None:
    from akslogin.emulator.net.faults import Fault

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
