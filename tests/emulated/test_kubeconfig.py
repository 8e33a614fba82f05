"""Kubeconfig loading, merging and safe concurrent writes.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from akslogin.kubeconfig import files


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config"
    script = (
        "import sys\n"
        "from akslogin.kubeconfig import files\n"
        "for i in range(int(sys.argv[3])):\n"
        "    name = f'{sys.argv[2]}-{i}'\n"
        "    files.update(sys.argv[1], lambda c: c.put('clusters', name, {'server': 'https://' + name}))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), f"w{n}", "15"]) for n in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    names = set(files.load(str(path)).names("clusters"))
    assert names == {f"w{n}-{i}" for n in range(4) for i in range(15)}
