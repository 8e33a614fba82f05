"""Issue 24.2-24.4 against the emulated Resource Manager: --all into a new file sets a current context that
kubectl reads, and never switches an existing one.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin.emulator import Emulator
from support import new_user_arm as shared
from support.armworld import Runner
from support.new_user_arm import S1, S2
from support.run import KUBECTL


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def test_all_into_a_new_file_sets_a_current_context_and_never_switches_an_existing_one(runner: Runner) -> None:
    new = runner.home / "new-config"
    result = runner.get_credentials("--all", "-s", S1, "--file", str(new))
    assert result.returncode in (0, 1), result.stderr
    data = yaml.safe_load(new.read_text())
    assert data["current-context"] in {c["name"] for c in data["contexts"]}
    kubectl_view = subprocess.run([KUBECTL, "--kubeconfig", str(new), "config", "current-context"],
                                  capture_output=True, text=True, timeout=60)
    assert kubectl_view.returncode == 0 and kubectl_view.stdout.strip() == data["current-context"]
    data["current-context"] = "aks1"
    new.write_text(yaml.safe_dump(data))
    again = runner.get_credentials("--all", "-s", S2, "--file", str(new))
    assert again.returncode in (0, 1), again.stderr
    assert yaml.safe_load(new.read_text())["current-context"] == "aks1"
