"""Issue 25: the dependency floors pyproject.toml states are true. A venv on the oldest supported Python gets the
lowest versions of akslogin's direct dependencies (uv's --resolution lowest-direct) and akslogin itself, not
editable; then tests/support/smoke.py runs there: the emulator, get-credentials, kubectl through the plugin and
whoami. The oldest Python is AKSLOGIN_OLDEST_PYTHON, else python3.10 on PATH (.ci/run finds it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import REPO

ROOT = REPO


def _oldest_python() -> str | None:
    found = os.environ.get("AKSLOGIN_OLDEST_PYTHON") or shutil.which("python3.10")
    if not found:
        return None
    probe = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"], capture_output=True,
                           text=True, timeout=60)
    return found if probe.stdout.strip() == "True" else None


def _uv() -> str | None:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


@pytest.mark.skipif(_oldest_python() is None, reason="no Python 3.10 here (set AKSLOGIN_OLDEST_PYTHON)")
@pytest.mark.skipif(_uv() is None, reason="uv is not installed (it is a test dependency)")
def test_the_lowest_allowed_dependencies_on_the_oldest_python_pass_the_smoke(tmp_path: Path) -> None:
    python, uv = _oldest_python(), _uv()
    assert python is not None and uv is not None
    venv = tmp_path / "lowest"
    made = subprocess.run([uv, "venv", "-q", "--python", python, str(venv)], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    interpreter = str(venv / "bin" / "python")
    installed = subprocess.run([uv, "pip", "install", "-q", "--python", interpreter, "--resolution", "lowest-direct",
                                str(ROOT)], capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    versions = subprocess.run([uv, "pip", "freeze", "--python", interpreter], capture_output=True, text=True,
                              timeout=120).stdout
    # The floors themselves were installed (a newer version would prove nothing about them).
    for floor in ("msal==1.39.0", "requests==2.32.2", "pyjwt==2.8.0", "cryptography==42.0.0", "pyyaml==6.0"):
        assert floor in versions.lower(), versions
    assert "urllib3==2.0." in versions, versions
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    smoke = subprocess.run([interpreter, str(ROOT / "tests" / "support" / "smoke.py")], capture_output=True,
                           text=True, timeout=600, env=env, cwd=tmp_path)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr[-3000:]
    assert "smoke: passed on Python 3.10" in smoke.stdout
