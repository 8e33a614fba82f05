"""Issue 24.2-24.4 against the emulated Resource Manager: repeated subscriptions are one, a subscription can be
named as az names it, and a second login mode for the same cluster lands beside the first with --context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import World
from support.armworld import DEPLOYER, OUTSIDER, Runner, named, single_spec, sub_id

S1, S2, S3 = sub_id(1), sub_id(2), sub_id(3)


def _spec() -> dict[str, Any]:
    spec = single_spec()
    # A third subscription with the same display name as S2: a name that is ambiguous.
    spec["subscriptions"].append({"id": S3, "display_name": "Production", "tenant": spec["tenants"][0]["id"]})
    spec["arm_role_assignments"] += [
        {"principal": {"app": "deployer"}, "role": "reader", "scope": f"/subscriptions/{S3}"},
        {"principal": {"app": "outsider"}, "role": "cluster-user", "scope": {"cluster": "aks1"}},
    ]
    return spec


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(World.from_dict(_spec()), tmp_path_factory.mktemp("new-user-arm")) as e:
        yield e


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()


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
    lists = [r for r in emu.request_log.entries("arm") if r.path.endswith("/managedClusters")]
    assert len(lists) == 2  # one listing per run


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


def test_the_python_api_names_overwrite_not_cli_flags() -> None:
    from akslogin import api
    from akslogin.errors import ConfigError

    target = api.KubeConfig({"users": [{"name": "u", "user": {"token": "a"}}]})
    incoming = api.KubeConfig({"users": [{"name": "u", "user": {"token": "b"}}]})
    with pytest.raises(ConfigError) as info:
        api.merge_kubeconfig(target, incoming)
    text = info.value.render()
    assert "overwrite=True" in text and "--overwrite-existing" not in text and "--context" not in text


def test_all_into_a_new_file_sets_a_current_context_and_never_switches_an_existing_one(runner: Runner) -> None:
    new = runner.home / "new-config"
    result = runner.get_credentials("--all", "-s", S1, "--file", str(new))
    assert result.returncode in (0, 1), result.stderr
    import yaml

    data = yaml.safe_load(new.read_text())
    assert data["current-context"] in {c["name"] for c in data["contexts"]}
    kubectl_view = __import__("subprocess").run(["/usr/bin/kubectl", "--kubeconfig", str(new), "config",
                                                 "current-context"], capture_output=True, text=True, timeout=60)
    assert kubectl_view.returncode == 0 and kubectl_view.stdout.strip() == data["current-context"]
    data["current-context"] = "aks1"
    new.write_text(yaml.safe_dump(data))
    again = runner.get_credentials("--all", "-s", S2, "--file", str(new))
    assert again.returncode in (0, 1), again.stderr
    assert yaml.safe_load(new.read_text())["current-context"] == "aks1"
