"""Issue 25: one wheel that works on every platform. The wheel and the sdist built from this checkout are opened
and read: both commands are console-script entry points (installers make akslogin.exe on Windows from them), no
data scripts, the emulator's world files and py.typed are in, the sdist carries the docs, and the metadata has
classifiers, project URLs and keywords.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import configparser
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import packaging as shared


@pytest.fixture(scope='module')
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    yield from shared.built(tmp_path_factory)


def test_the_wheel_is_universal_and_declares_both_commands_as_entry_points(built: tuple[Path, Path]) -> None:
    wheel, _ = built
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
    assert dict(entry_points["console_scripts"]) == {"akslogin": "akslogin.entry:main",
                                                     "kubectl-akslogin": "akslogin.entry:main"}
    assert not [n for n in names if ".data/scripts/" in n], "a data script gets no .exe on Windows"
    assert "akslogin/py.typed" in names and "akslogin/entry.py" in names
    assert {"akslogin/emulator/worlds/demo.yaml"} <= {n for n in names if n.startswith("akslogin/emulator/worlds/")}
    assert not [n for n in names if n.startswith(("tests/", "docs/", "bench/"))]


def test_the_sdist_carries_the_docs_and_the_tests(built: tuple[Path, Path]) -> None:
    _, sdist = built
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"README.md", "pyproject.toml", "MANIFEST.in", "docs/README.md", "docs/security.md",
            "tests/conftest.py", "tests/e2e/test_packaging.py", "src/akslogin/entry.py", "src/akslogin/py.typed",
            "src/akslogin/emulator/worlds/demo.yaml"} <= names
    assert not {"setup.py", "launcher/akslogin"} & names
