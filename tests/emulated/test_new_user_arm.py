"""Issue 24.2-24.4 against the emulated Resource Manager: repeated subscriptions are one, a subscription can be
named as az names it, and a second login mode for the same cluster lands beside the first with --context.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import new_user_arm as shared
from support.armworld import DEPLOYER, OUTSIDER, Runner, named
from support.new_user_arm import S1, S2, S3


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def test_a_repeated_subscription_is_imported_once(runner: Runner, emu: Emulator) -> None:
    once = runner.get_credentials("--all", "-s", S1, "--file", str(runner.home / "once"))
    assert once.returncode in (0, 1), once.stderr
    twice = runner.get_credentials("--all", "-s", S1, "-s", S1.upper(), "-s", S1, "--file", str(runner.home / "twice"))
    assert twice.returncode == once.returncode, twice.stderr
    import yaml

    first = yaml.safe_load((runner.home / "once").read_text())
    second = yaml.safe_load((runner.home / "twice").read_text())
    assert sorted(c["name"] for c in second["contexts"]) == sorted(c["name"] for c in first["contexts"])
    assert not [c["name"] for c in second["contexts"] if c["name"].endswith("-2")]
    queries = [r for r in emu.request_log.entries("arm") if r.path.endswith(".ResourceGraph/resources")]
    assert len(queries) == 2  # one Resource Graph query per run (the subscription named in it once)


def test_a_subscription_is_found_by_its_name(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", "development")
    assert result.returncode == 0, result.stderr
    assert named(runner.config(), "contexts", "aks1")


def test_an_unknown_subscription_name_lists_what_there_is(runner: Runner) -> None:
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", "Staging")
    assert result.returncode == 2, result.stderr
    assert "no subscription named 'Staging'" in result.stderr and "Development" in result.stderr
    assert S1 in result.stderr and "Traceback" not in result.stderr


def test_an_ambiguous_subscription_name_lists_the_ids(runner: Runner) -> None:
    result = runner.get_credentials("--all", "-s", "Production")
    assert result.returncode == 2, result.stderr
    assert "2 subscriptions are named 'Production'" in result.stderr
    assert S2 in result.stderr and S3 in result.stderr


def test_a_second_login_mode_for_the_same_cluster_lands_beside_the_first(runner: Runner) -> None:
    first = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1)
    assert first.returncode == 0, first.stderr
    # the same cluster for a CI identity beside the person's: the exec block differs, so the user entry conflicts
    conflict = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, principal=OUTSIDER)
    assert conflict.returncode == 1
    assert "already has a different user 'clusterUser_rg-apps_aks1'" in conflict.stderr
    hint = conflict.stderr.split("--context NAME", 1)[1][:160]
    assert "user" in hint, conflict.stderr
    beside = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--context", "aks1-ci",
                                    principal=OUTSIDER)
    assert beside.returncode == 0, beside.stderr
    config = runner.config()
    ci = named(config, "contexts", "aks1-ci")["context"]
    original = named(config, "contexts", "aks1")["context"]
    assert ci["user"] == "aks1-ci" and ci["cluster"] == "aks1-ci" and original["user"] == "clusterUser_rg-apps_aks1"

    def client(user: str) -> str:
        args: list[str] = named(config, "users", user)["user"]["exec"]["args"]
        return args[args.index("--client-id") + 1]

    assert client(original["user"]) == DEPLOYER.client_id and client(ci["user"]) == OUTSIDER.client_id
    assert DEPLOYER.secret not in runner.kubeconfig.read_text()
