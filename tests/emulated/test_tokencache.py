"""The token cache: private files, atomic writes, a lock that a dead holder cannot keep.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from akslogin.tokencache import store


def test_lock_wait_is_bounded(tmp_path: Path) -> None:
    cache = str(tmp_path)
    with store.identity_lock(cache, "k", timeout=1):
        # fcntl locks are per open file description: a second process sees the lock as held.
        code = subprocess.run(
            [sys.executable, "-c",
             "import sys; from akslogin.tokencache import store\n"
             "from akslogin.errors import CacheError\n"
             "try:\n    with store.identity_lock(sys.argv[1], 'k', timeout=0.3): sys.exit(0)\n"
             "except CacheError: sys.exit(3)", cache],
            timeout=30,
        ).returncode
    assert code == 3


def test_killed_lock_holder_does_not_block(tmp_path: Path) -> None:
    cache = str(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from akslogin.tokencache import store\n"
         "with store.identity_lock(sys.argv[1], 'k', timeout=5):\n    print('held', flush=True); time.sleep(60)",
         cache], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    start = time.monotonic()
    with store.identity_lock(cache, "k", timeout=5):
        pass
    assert time.monotonic() - start < 5
