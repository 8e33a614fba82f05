"""Crash safety: SIGKILL at random points while akslogin writes token caches and kubeconfigs.

After every kill each file must parse and hold either the previous or the next version, and no entry that the
writer was not changing may be lost.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from akslogin.emulator import Emulator
from akslogin.kubeconfig import files
from akslogin.tokencache.entry import read_entry
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo

KILLS = 200

# Writes versions 1, 2, 3, ... forever: token entry "k" and a kubeconfig whose user "writer" carries the version
# (as a username: a credential would make the shared writer narrow the mode this test checks is kept).
WRITER = r"""
import sys
from akslogin.kubeconfig import files
from akslogin.tokencache import store
cache, kubeconfig, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
store.prepare(cache)
version = start
while True:
    version += 1
    store.write_entry(cache, "k", f"token-{version}", 2_000_000_000 + version, "spn")
    files.update(kubeconfig, lambda c: c.put("users", "writer", {"username": f"v{version}"}),
                 keep_backup=version % 10 == 0)
    if version == start + 1:
        print("busy", flush=True)  # one full version written: the loop is running
"""


def _versions(cache: str, kubeconfig: str) -> tuple[int, int]:
    entry = read_entry(cache, "k")
    assert entry is not None, "token cache entry unreadable after a kill"
    token_version = int(entry.token.split("-")[1])
    assert entry.expires_on == 2_000_000_000 + token_version
    config = files.load(kubeconfig, missing_ok=False)
    body = config.get("users", "writer")
    assert body is not None
    kube_version = int(body["username"][1:])
    # Unrelated entries written once at the start must survive every kill.
    assert config.get("clusters", "keep-me") == {"server": "https://keep.example", "extra-field": [1, 2, 3]}
    assert config.data["preferences"] == {"colors": True}
    return token_version, kube_version


def test_sigkill_during_writes_never_leaves_partial_files(tmp_path: Path) -> None:
    cache, kubeconfig = str(tmp_path / "cache"), str(tmp_path / "config")
    Path(kubeconfig).write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {"colors": True},
        "clusters": [{"name": "keep-me", "cluster": {"server": "https://keep.example", "extra-field": [1, 2, 3]}}],
        "users": [{"name": "writer", "user": {"username": "v0"}}], "contexts": [],
    }))
    from akslogin.tokencache import store

    store.write_entry(cache, "k", "token-0", 2_000_000_000, "spn")
    rng = random.Random(20261128)
    previous = (0, 0)
    partial = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, cache, kubeconfig, str(max(previous))],
                                stdout=subprocess.PIPE, text=True)
        # Killed at a random moment after the writer completed a version, so every kill lands in a busy
        # write loop however slow the machine is (no sleep decides whether the writer had started).
        assert proc.stdout is not None and proc.stdout.readline().strip() == "busy"
        time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            current = _versions(cache, kubeconfig)
        except (AssertionError, ValueError, json.JSONDecodeError):
            partial += 1
            continue
        # Each file is the old version or a newer complete one: never older, never torn.
        assert current[0] >= previous[0] and current[1] >= previous[1]
        previous = current
    assert partial == 0, f"{partial} of {KILLS} kills left a partial or unreadable file"
    # Each writer completed at least one version before its kill, and nothing went backwards.
    assert min(previous) >= KILLS, previous
    leftovers = [p for p in Path(tmp_path).rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
    # Temp files of a killed writer may remain until the next write (they are never read); they are private
    # (a complete one just before its rename has the target's own mode, here 0644, and the same content).
    assert all(p.stat().st_mode & 0o077 == 0 or p.stat().st_mode & 0o777 == 0o644 for p in leftovers)
    # Every backup is a complete kubeconfig (written like every file), and only the newest few are kept
    # (one more at most when a kill fell between writing a backup and pruning the oldest).
    backups = files.existing_backups(kubeconfig)
    assert 1 <= len(backups) <= files.DEFAULT_BACKUPS + 1
    for b in backups:
        assert files.load(b, missing_ok=False).get("clusters", "keep-me") is not None
    # The next write cleans up after the killed ones: temp files, kubectl's lock file, surplus backups.
    files.update(kubeconfig, lambda c: c.put("users", "writer", {"username": "v-final"}), keep_backup=True)
    store.write_entry(cache, "k", "token-final", 2_100_000_000, "spn")
    assert not [p for p in Path(tmp_path).rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not Path(kubeconfig + ".lock").exists()
    assert len(files.existing_backups(kubeconfig)) == files.DEFAULT_BACKUPS
    assert os.stat(kubeconfig).st_mode & 0o777 == 0o644  # the file keeps the mode it was created with


def test_sigkill_of_get_token_keeps_cache_valid(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    """The real command, killed at random points of a refresh: the next run always works."""
    emulator.entra.settings.access_token_lifetime = 200  # every run must refresh and rewrite the cache
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    args = spn_args(emulator, app)
    rng = random.Random(7)
    from support.run import akslogin_bin

    for _ in range(20):
        proc = subprocess.Popen([akslogin_bin(), *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = run_akslogin(args, env)
        assert after.returncode == 0, after.stderr
        assert json.loads(after.stdout)["status"]["token"]
