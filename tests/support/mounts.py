"""File systems that misbehave on purpose: a tiny tmpfs to fill, a read-only bind mount (root), or a read-only
directory (anyone else). Tests that use them are end to end: their names start with ``_mounted``, which
tests/conftest.py counts as starting a process."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def _mounted_tmpfs(path: Path, size: str = "64k") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (root only; the test is skipped where it cannot be mounted)."""
    path.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(directory: Path) -> None:
    """Write zeros into ``directory`` until its file system is full."""
    with contextlib.suppress(OSError), open(directory / "filler", "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


@contextlib.contextmanager
def _mounted_read_only(directory: Path) -> Iterator[None]:
    """``directory`` read-only: a read-only bind mount for root (who ignores modes), mode 0500 for others."""
    if ROOT:
        ok = subprocess.run(["mount", "--bind", str(directory), str(directory)], capture_output=True).returncode == 0
        ok = ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(directory)],
                                   capture_output=True).returncode == 0
        if not ok:
            subprocess.run(["umount", str(directory)], capture_output=True)
            pytest.skip("cannot make a read-only bind mount here")
        try:
            yield
        finally:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)
        return
    dirs = [p for p in [directory, *directory.rglob("*")] if p.is_dir()]
    for path in dirs:
        path.chmod(0o500)
    try:
        yield
    finally:
        for path in dirs:
            path.chmod(0o700)
