"""Issue 25: one wheel that works on every platform. The wheel and the sdist built from this checkout are opened
and read: both commands are console-script entry points (installers make akslogin.exe on Windows from them), no
data scripts, the emulator's world files and py.typed are in, the sdist carries the docs, and the metadata has
classifiers, project URLs and keywords.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import packaging as shared


@pytest.fixture(scope='module')
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    yield from shared.built(tmp_path_factory)


def test_the_metadata_says_what_the_package_is(built: tuple[Path, Path]) -> None:
    wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        dist_info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    classifiers = metadata.get_all("Classifier") or []
    assert "Operating System :: Microsoft :: Windows" in classifiers and "Typing :: Typed" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.10") for c in classifiers)
    assert metadata.get_all("Project-URL") and "kubectl" in (metadata["Keywords"] or "")
    assert metadata["Requires-Python"] == ">=3.10"
    floors = {r.split(";")[0].replace(" ", "") for r in metadata.get_all("Requires-Dist") or [] if "extra" not in r}
    assert "urllib3>=2.0" in floors, floors  # urllib3 1.26 cannot sign in to an IP-address host (issue 25)


def test_an_installed_wheel_runs_the_hot_path_and_the_cli(built: tuple[Path, Path], tmp_path: Path) -> None:
    """The wheel, installed as a user installs it, answers --version through both commands (the CLI) and serves
    a cached token (the hot path)."""
    wheel, _ = built
    venv = tmp_path / "venv"
    assert subprocess.run([sys.executable, "-m", "venv", str(venv)], timeout=300).returncode == 0
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    version = subprocess.run([str(venv / "bin" / "akslogin"), "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("akslogin "), version.stderr
    kubectl_plugin = subprocess.run([str(venv / "bin" / "kubectl-akslogin"), "--version"], capture_output=True,
                                    text=True, timeout=60)
    assert kubectl_plugin.stdout == version.stdout
    from support.hot_path import _seed
    from support.run import clean_env
    from support.worlds import TENANT_ID

    argv = ["--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abce", "--cache-dir", str(tmp_path / "cache")]
    _seed(tmp_path / "cache", argv)
    token = subprocess.run([str(venv / "bin" / "akslogin"), "get-token", *argv], env=clean_env(tmp_path),
                           capture_output=True, text=True, timeout=60)
    assert token.returncode == 0 and "header.payload.signature" in token.stdout, token.stderr
