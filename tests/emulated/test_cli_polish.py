"""CLI polish: --help with examples everywhere, --output table|json|yaml on data commands, colour rules
(NO_COLOR, FORCE_COLOR, terminals), completion covering every command.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.cli.app import build_parser
from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import DEPLOYER, Runner, single_spec, sub_id
from support.cli_polish import ESC, _subparsers
from support.run import akslogin_bin, clean_env, run_akslogin

S1 = sub_id(1)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("polish-emu")) as e:
        yield e


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Runner:
    return Runner(emu, tmp_path)


def test_every_command_help_has_examples_and_the_top_level_documents_exit_codes(tmp_path: Path) -> None:
    commands = dict(_subparsers(build_parser()))
    assert {"get-credentials", "convert-kubeconfig", "login", "logout", "emulator", "completion"} <= set(commands)
    for name, sub in commands.items():
        if name == "get-token":
            continue  # parsed by the hot path; checked below through the real command
        has_children = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
        if not has_children:
            text = sub.format_help()
            assert "examples:" in text, f"'akslogin {name} --help' has no examples"
            assert "exit codes:" in text, f"'akslogin {name} --help' does not document its exit codes"
    token_help = run_akslogin(["get-token", "--help"], clean_env(tmp_path)).stdout
    assert "examples:" in token_help.lower() and "exit codes:" in token_help.lower()
    top = build_parser().format_help()
    assert "exit codes:" in top and "130 interrupted" in top and "NO_COLOR" in top


def test_get_credentials_output_json_and_yaml(runner: Runner) -> None:
    one = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1, "-o", "json")
    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert data == {"context": "aks1", "file": str(runner.kubeconfig), "subscription": S1, "resource_group": "rg-apps",
                    "name": "aks1", "credential": "user"}
    fleet = runner.get_credentials("--all", "--subscription", S1, "-o", "yaml")
    summary = yaml.safe_load(fleet.stdout)
    assert set(summary) == {"file", "subscriptions", "counts", "clusters", "discovery"}
    assert summary["counts"]["failed"] == (1 if fleet.returncode else 0)
    statuses = {c["name"]: c["status"] for c in summary["clusters"]}
    assert statuses["aks1"] == "unchanged" and statuses["aks-private"] == "imported"
    assert ESC not in fleet.stdout
    bad = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--file", "-", "-o", "json")
    assert bad.returncode == 2 and "--file -" in bad.stderr


def test_login_and_logout_output(runner: Runner) -> None:
    signin = runner.signin(DEPLOYER)
    login = run_akslogin(["login", *signin, "-o", "json"], runner.env())
    assert login.returncode == 0, login.stderr
    data = json.loads(login.stdout)
    assert data["login"] == "spn" and data["client_id"] == DEPLOYER.client_id
    assert data["expires_on"].endswith("Z") and data["cache_dir"] == str(runner.cache)
    assert DEPLOYER.secret not in login.stdout
    logout = run_akslogin(["logout", *signin, "-o", "yaml"], runner.env())
    removed = yaml.safe_load(logout.stdout)
    assert logout.returncode == 0 and len(removed["removed"]) == 1
    table_out = run_akslogin(["logout", "--all", "--cache-dir", str(runner.cache)], runner.env())
    assert table_out.stdout.startswith("Removed 0 cached token file(s)")


def test_emulator_prints_its_endpoints_as_json(tmp_path: Path) -> None:
    proc = subprocess.Popen([akslogin_bin(), "emulator", "--state-dir", str(tmp_path / "state"), "-o", "json"],
                            env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        text = ""
        for line in proc.stdout:
            text += line
            if line.startswith("}"):
                break
        data = json.loads(text)
        assert data["authority_host"].startswith("https://127.0.0.1:")
        assert set(data["clusters"]) == {"aks-dev", "aks-prod", "aks-platform"}
        assert data["services"]["arm"].startswith("https://127.0.0.1:") and "build-vm" in data["hosts"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_colour_only_when_wanted(runner: Runner, tmp_path: Path) -> None:
    args = ["get-credentials", "-g", "rg", "--login", "spn"]  # a usage error: the message prefix is styled
    forced = run_akslogin(args, clean_env(tmp_path, FORCE_COLOR="1"))
    assert forced.returncode == 2 and forced.stderr.startswith(f"{ESC}31makslogin:{ESC}0m")
    for env in (clean_env(tmp_path), clean_env(tmp_path, FORCE_COLOR="1", NO_COLOR="1")):
        plain = run_akslogin(args, env)
        assert plain.returncode == 2 and plain.stderr.startswith("akslogin:") and ESC not in plain.stderr
    # on a real terminal the fleet summary is styled, and NO_COLOR turns that off
    outputs = {}
    for label, extra in (("tty", {}), ("no-color", {"NO_COLOR": "1"})):
        env = runner.env(**extra)
        env.pop("FORCE_COLOR", None)
        argv = [akslogin_bin(), "get-credentials", *runner.signin(DEPLOYER), "--arm-endpoint",
                runner.emu.server_url("arm"), "--all", "--subscription", S1, "--file", str(tmp_path / label)]
        leader, follower = pty.openpty()
        proc = subprocess.Popen(argv, env=env, stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        os.close(leader)
        outputs[label] = b"".join(chunks).decode()
    assert f"{ESC}1mCONTEXT{ESC}0m" in outputs["tty"] and "CONTEXT" in outputs["no-color"]
    assert ESC not in outputs["no-color"]


def test_whoami_audit_doctor_speak_yaml_and_colour_findings(runner: Runner, tmp_path: Path) -> None:
    from support.armworld import BREAKGLASS

    assert runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1).returncode == 0
    whoami = run_akslogin(["whoami", "-o", "yaml"], runner.env())
    assert whoami.returncode == 0, whoami.stderr
    assert yaml.safe_load(whoami.stdout)["cluster"]["username"] == DEPLOYER.object_id
    doctor = run_akslogin(["doctor", "-o", "yaml"], runner.env())
    report = yaml.safe_load(doctor.stdout)
    assert doctor.returncode == 0 and report["ok"] is True and report["steps"]
    admin = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "--subscription", S1, "--admin",
                                   "--file", str(tmp_path / "admin"), principal=BREAKGLASS)
    assert admin.returncode == 0, admin.stderr
    audit = run_akslogin(["audit", str(tmp_path / "admin"), "-o", "yaml"], runner.env())
    # AKS's admin credential: the certificate and the token beside it, both critical
    assert audit.returncode == 1 and yaml.safe_load(audit.stdout)["summary"]["critical"] == 2
    forced = run_akslogin(["audit", str(tmp_path / "admin")], runner.env(FORCE_COLOR="1"))
    assert f"{ESC}1;31m  CRITICAL" in forced.stdout and f"{ESC}1;31mFAILED:" in forced.stdout
    plain = run_akslogin(["audit", str(tmp_path / "admin")], runner.env(FORCE_COLOR="1", NO_COLOR="1"))
    assert ESC not in plain.stdout and "  CRITICAL" in plain.stdout
