"""Windows and macOS, proven from Linux where they can be: the lock without fcntl, the replace retry,
paths, and the secret-store adapter macOS and Windows use.

The subprocess tests run the real console script with tests/support/windows_like on PYTHONPATH: no
``fcntl`` (as on Windows) and an ``msvcrt`` whose ``locking()`` is backed by POSIX record locks, so
akslogin's Windows lock path runs for real across processes. Type checking for the other platforms is
``mypy --platform win32`` and ``--platform darwin`` in ``make lint``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin import fileops, options
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


def test_replace_retries_a_sharing_violation_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target, source = tmp_path / "config", tmp_path / "new"
    target.write_text("old")
    source.write_text("new")
    real = os.replace
    failures = iter([PermissionError(13, "in use"), PermissionError(13, "in use")])

    def flaky(a: str, b: str) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        real(a, b)

    monkeypatch.setattr(os, "replace", flaky)
    monkeypatch.setattr(fileops, "RETRY_REPLACE", True)
    fileops.replace(str(source), str(target))
    assert target.read_text() == "new"

    # Elsewhere a PermissionError is a real refusal and is raised at once.
    failures = iter([PermissionError(13, "denied")])
    source.write_text("newer")
    monkeypatch.setattr(fileops, "RETRY_REPLACE", False)
    with pytest.raises(PermissionError):
        fileops.replace(str(source), str(target))


def test_the_cache_lives_under_userprofile_when_home_is_unset() -> None:
    profile = r"C:\Users\dev" if os.name == "nt" else "/profiles/dev"
    assert options.default_cache_dir({"USERPROFILE": profile}) == os.path.join(profile, ".kube", "cache", "akslogin")
    assert options.default_cache_dir({"HOME": "/home/dev", "USERPROFILE": profile}).startswith("/home/dev")


def test_the_keyring_adapter_macos_and_windows_use_encrypts_refresh_tokens(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """On macOS and Windows the key lives in the ``keyring`` package's Keychain / Credential Locker backend.
    Here a backend with the package's interface stands in (the package itself is not installed on Linux)."""
    import types

    from akslogin.tokencache import secure
    from akslogin.tokencache.store import prepare

    vault: dict[tuple[str, str], str] = {}

    class Backend:
        priority = 5

    keyring = types.ModuleType("keyring")
    keyring.get_keyring = lambda: Backend()  # type: ignore[attr-defined]
    keyring.get_password = lambda s, k: vault.get((s, k))  # type: ignore[attr-defined]
    keyring.set_password = lambda s, k, v: vault.__setitem__((s, k), v)  # type: ignore[attr-defined]
    keyring.delete_password = lambda s, k: vault.pop((s, k))  # type: ignore[attr-defined]
    backends = types.ModuleType("keyring.backends")
    fail = types.ModuleType("keyring.backends.fail")
    fail.Keyring = type("Keyring", (), {})  # type: ignore[attr-defined]
    backends.fail = fail  # type: ignore[attr-defined]
    for name, module in (("keyring", keyring), ("keyring.backends", backends), ("keyring.backends.fail", fail)):
        monkeypatch.setitem(sys.modules, name, module)

    cache = str(tmp_path / "cache")
    prepare(cache)
    files = secure.SecretFiles(cache, "keyring")
    assert files.backend == "keyring" and files.encrypted
    path = os.path.join(cache, "msal", "x.json")
    files.write(path, b"refresh-token-value")
    assert b"refresh-token-value" not in Path(path).read_bytes()
    assert files.read(path) == b"refresh-token-value"
    assert [k for k in vault if not k[1].startswith("akslogin-probe")]  # the key is in the store, not on disk
    vault.clear()  # the key is gone (another machine, a wiped keychain): unreadable, never garbage
    assert secure.SecretFiles(cache, "keyring").read(path) is None
