"""The cached get-token path stays import-light, and its hand-written parts equal what they replaced.

Nothing here is timed: the imports a cache hit pays for are checked with ``python -X importtime`` on the
installed console script, and the stdlib-free replacements (JSON, key hashing, durations, URL check) are
compared with the json/hashlib/re versions on generated input.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from akslogin import exec_credential
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.hot_path import _seed
from support.run import akslogin_bin, clean_env
from support.worlds import TENANT_ID

#: Modules a cache hit must never load: the network stack, YAML, crypto, and the costly stdlib helpers.
FORBIDDEN = (
    "msal", "requests", "urllib3", "yaml", "cryptography", "jwt", "akslogin.http", "akslogin.credentials",
    "akslogin.tokens.acquire", "typing", "dataclasses", "inspect", "re", "json", "hashlib", "_hashlib",
    "argparse", "tempfile", "ssl", "socket", "logging", "fcntl",
    # a module each, for a cache hit that needs neither: annotations are quoted instead of postponed, and the
    # error classes are imported where an error is raised
    "__future__", "akslogin.errors", "akslogin.tokencache.store",
)


def _imported(cmd: list[str], env: dict[str, str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    result = subprocess.run([sys.executable, "-X", "importtime", *cmd], env=env, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2 and "self [us]" not in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names, result




@pytest.mark.parametrize("authority", ["https://127.0.0.1:1/", None], ids=["authority-host", "public-cloud"])
def test_cache_hit_imports_nothing_heavy(tmp_path: Path, authority: str | None) -> None:
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abcd", "--cache-dir", str(tmp_path / "cache"),
            "--timeout", "1m30s"]
    if authority:
        argv += ["--authority-host", authority]
    _seed(tmp_path / "cache", argv)
    env = clean_env(tmp_path, KUBERNETES_EXEC_INFO=json.dumps(
        {"apiVersion": exec_credential.V1, "kind": "ExecCredential", "spec": {"interactive": False}}))
    baseline, _ = _imported(["-c", "pass"], env)
    names, result = _imported([akslogin_bin(), "get-token", *argv], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"] == "header.payload.signature"
    assert "akslogin.usecases.get_token" in names  # the check below is only meaningful if this works
    loaded = sorted(m for m in FORBIDDEN if m in names and m not in baseline)
    assert loaded == [], f"the cached get-token path imported {loaded}"


def test_the_installed_command_is_the_console_script_of_akslogin_entry(tmp_path: Path) -> None:
    """The `akslogin` on PATH is the installer's console script for akslogin.entry:main (as on Windows, where it is
    an .exe): one universal wheel. kubelogin's root flags before the command still work through it (they go to
    akslogin.cli)."""
    installed = Path(akslogin_bin()).read_text(errors="replace")
    assert "akslogin.entry" in installed and "import main" in installed
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abce", "--cache-dir", str(tmp_path / "cache")]
    _seed(tmp_path / "cache", argv)
    env = clean_env(tmp_path)
    for prefix in ([], ["-v", "0"], ["--logtostderr"]):
        result = subprocess.run([akslogin_bin(), *prefix, "get-token", *argv], env=env, capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["status"]["token"] == "header.payload.signature"


def test_a_cache_miss_does_load_the_network_stack(tmp_path: Path) -> None:
    """Counter-check for the test above: the same harness sees msal when the slow path runs."""
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID, "--client-id", "c",
            "--authority-host", "https://127.0.0.1:9/", "--timeout", "2s", "--cache-dir", str(tmp_path / "c")]
    names, result = _imported([akslogin_bin(), "get-token", *argv], clean_env(tmp_path, AZURE_CLIENT_SECRET="s"))
    assert result.returncode == 1 and "cannot connect" in result.stderr
    assert {"msal", "requests"} <= names


#: A sitecustomize for the child: one file when its atexit handlers run, another when the interpreter's teardown
#: frees module globals (the witness object's __del__). The arguments are bound early: teardown clears globals.
WITNESS = '''
import atexit
import os

_MARKS = os.environ["AKSLOGIN_TEST_MARKS"]


def _mark(name, _open=open, _join=os.path.join):
    with _open(_join(_MARKS, name), "w"):
        pass


atexit.register(_mark, "atexit")


class _Teardown:
    def __del__(self, _mark=_mark):
        _mark("teardown")


_witness = _Teardown()
'''


def test_a_cached_token_ends_without_teardown_and_loses_nothing(tmp_path: Path) -> None:
    """Issue 29: a cache hit leaves with os._exit as a sign-in does (the interpreter's teardown is ~2 ms, more
    than the hit's own work, and kubectl waits for the exit): atexit handlers still run, stdout and the last
    line of a verbose stderr arrive whole, and an error's exit code and message come through."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WITNESS)
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abcf", "--cache-dir", str(tmp_path / "cache")]
    _seed(tmp_path / "cache", argv)

    def run(marks: str, *args: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / marks).mkdir()
        env = clean_env(tmp_path, PYTHONPATH=str(site), AKSLOGIN_TEST_MARKS=str(tmp_path / marks))
        return subprocess.run([akslogin_bin(), *args], env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    hit = run("hit", "get-token", *argv, "-v", "3")
    assert hit.returncode == 0, hit.stderr
    assert json.loads(hit.stdout)["status"]["token"] == "header.payload.signature"
    assert hit.stderr.endswith("served from the cache\n")
    assert sorted(p.name for p in (tmp_path / "hit").iterdir()) == ["atexit"]
    bad = run("bad", "get-token", *argv, "--timeout", "soon")
    assert bad.returncode != 0 and bad.stdout == ""
    assert "--timeout" in bad.stderr and bad.stderr.endswith("\n")
    assert sorted(p.name for p in (tmp_path / "bad").iterdir()) == ["atexit"]
    # The witness works: any other command ends with the usual teardown.
    version = run("version", "--version")
    assert version.returncode == 0
    assert sorted(p.name for p in (tmp_path / "version").iterdir()) == ["atexit", "teardown"]
