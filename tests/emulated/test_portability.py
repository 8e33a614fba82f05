"""Windows and macOS, proven from Linux where they can be: the lock without fcntl, the replace retry,
paths, and the secret-store adapter macOS and Windows use.

The subprocess tests run the real console script with tests/support/windows_like on PYTHONPATH: no
``fcntl`` (as on Windows) and an ``msvcrt`` whose ``locking()`` is backed by POSIX record locks, so
akslogin's Windows lock path runs for real across processes. Type checking for the other platforms is
``mypy --platform win32`` and ``--platform darwin`` in ``make lint``.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.paths import BENCH, SUPPORT

sys.path.insert(0, str(BENCH))

from harness import exec_credential_token, spn_invocation, swarm, world

WINDOWS_LIKE = SUPPORT / "windows_like"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world(), tmp_path_factory.mktemp("portability-emulator")) as emulator:
        yield emulator


def _windows_like(env: dict[str, str], log: Path) -> dict[str, str]:
    path = [str(WINDOWS_LIKE), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(path), "FAKE_MSVCRT_LOG": str(log)}


def test_the_stand_in_really_hides_fcntl(tmp_path: Path) -> None:
    import subprocess

    env = _windows_like(dict(os.environ), tmp_path / "log")
    probe = subprocess.run([sys.executable, "-c", "import fcntl"], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "import of fcntl halted" in probe.stderr
    plain = subprocess.run([sys.executable, "-c", "import fcntl"], capture_output=True, text=True)
    assert plain.returncode == 0


def test_without_fcntl_a_cached_token_is_served_and_a_fan_out_signs_in_once(tmp_path: Path, emu: Emulator) -> None:
    emu.request_log.reset()
    invocation = spn_invocation(emu, tmp_path, "a")
    log = tmp_path / "msvcrt.log"
    env = _windows_like(invocation.env, log)
    runs, _ = swarm(invocation.argv, env, 12, timeout=90)
    assert [r.stderr for r in runs if r.returncode != 0] == []
    tokens = {exec_credential_token(r.stdout) for r in runs}
    assert None not in tokens and len(tokens) == 1
    assert len(emu.request_log.token_requests()) == 1  # single flight held through msvcrt.locking
    calls = log.read_text().split()
    assert calls.count("locked") >= 1 and calls.count("locked") == calls.count("unlocked")

    # The hot path: served from the cache, no request, and no lock needed at all.
    log.unlink()
    cached, _ = swarm(invocation.argv, env, 4, timeout=60)
    assert {exec_credential_token(r.stdout) for r in cached} == tokens
    assert len(emu.request_log.token_requests()) == 1 and not log.exists()
