"""Windows and macOS, proven from Linux where they can be: the lock without fcntl, the replace retry,
paths, and the secret-store adapter macOS and Windows use.

The subprocess tests run the real console script with tests/support/windows_like on PYTHONPATH: no
``fcntl`` (as on Windows) and an ``msvcrt`` whose ``locking()`` is backed by POSIX record locks, so
akslogin's Windows lock path runs for real across processes. Type checking for the other platforms is
``mypy --platform win32`` and ``--platform darwin`` in ``make lint``.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from akslogin import fileops, options
from support.paths import BENCH

sys.path.insert(0, str(BENCH))




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
