"""The real Azure CLI against the emulator, end to end: az login as a service principal, az account
get-access-token, akslogin --login azurecli from that sign-in, get-credentials (one cluster, and --all across
two subscriptions), az aks get-credentials → convert-kubeconfig → real kubectl, --admin, az logout, and az login
as another identity. And docs/emulator.md's recipe, run as written.

The CLI comes from .ci/run, which installs PyPI's azure-cli into .venv-az/ (not a project dependency: it is a
judge of the emulator's fidelity, like kubectl). Without it these tests skip with one line saying why. The
stand-in az of tests/machine_world.py stays for what the real CLI cannot do offline: hanging, printing garbage,
the pre-2.54 output without expires_on, and azd (not on PyPI).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import real_az as shared
from support.real_az import AZ, ROOT, Az
from support.run import akslogin_bin

pytestmark = pytest.mark.skipif(not os.access(AZ, os.X_OK),
                                reason=f"the real Azure CLI is not installed at {AZ} (.ci/run installs it)")



@pytest.fixture(scope='module')
def cert_pem_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared.cert_pem_path(tmp_path_factory)


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory, cert_pem_path: Path) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory, cert_pem_path)


@pytest.fixture
def az(emu: Emulator, tmp_path: Path) -> Az:
    return shared.az(emu, tmp_path)


def test_the_docs_recipe_runs_as_written(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "emulator.md").read_text()
    section = text.split("## Run your az + kubectl pipeline offline", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE"))}
    env.update({"HOME": str(tmp_path), "AZURE_CORE_COLLECT_TELEMETRY": "no",
                "PATH": f"{Path(AZ).parent}{os.pathsep}{Path(akslogin_bin()).parent}{os.pathsep}{os.environ['PATH']}"})
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", block.group(1)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, err[-3000:]
    assert out.count("Converted 1 user(s)") == 2  # az's kubeconfig, then the build VM's
    assert out.count("web-") >= 2 or "No resources found" in err
