"""The command surface: --version, --help, shell completion, and `kubectl akslogin` as a kubectl plugin.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from akslogin import __version__
from support.run import KUBECTL, akslogin_bin, clean_env


def test_kubectl_runs_akslogin_as_a_plugin(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env["PATH"] = os.path.dirname(akslogin_bin()) + os.pathsep + env.get("PATH", "")
    result = subprocess.run([KUBECTL, "akslogin", "--version"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"akslogin {__version__}"
