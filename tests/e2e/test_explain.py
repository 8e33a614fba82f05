"""explain-forbidden: parsing Forbidden messages, RBAC matching, and explanations against the emulator.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import explain as shared
from support.explainworld import APPS, env_for, kubeconfig
from support.run import akslogin_bin, kubectl


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_message_from_real_kubectl_is_explained(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "config", emu, app=APPS["nobody"])
    env = env_for(tmp_path)
    denied = kubectl(kc, "get", "pods", "-n", "dev", env=env)
    assert denied.returncode == 1 and "Forbidden" in denied.stderr
    piped = subprocess.run([akslogin_bin(), "explain-forbidden", "--kubeconfig", str(kc), "--message", "-",
                            "-o", "json"], input=denied.stderr, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert piped.returncode == 1, piped.stderr
    data = json.loads(piped.stdout)
    assert data["request"] == {"verb": "list", "resource": "pods", "group": "", "namespace": "dev"}
    assert data["message_user"] == data["identity"]["username"] == APPS["nobody"].object_id
    assert data["suggestion"]["role"] == "view"
