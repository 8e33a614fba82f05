"""Refresh tokens at rest: encrypted with a key in an OS secret store, or an explicit, announced 0600 file.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from akslogin.errors import CacheError, UsageError
from akslogin.tokencache import secure
from akslogin.tokencache.store import prepare
from support.secure_storage import _kernel_available

SECRET = b'{"RefreshToken": {"x": {"secret": "rt-very-secret-value"}}}'


@pytest.mark.skipif(not _kernel_available(), reason="no kernel keyring in this sandbox")
def test_kernel_keyring_encrypts_at_rest(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    prepare(cache)
    files = secure.SecretFiles(cache, "kernel", io.StringIO())
    assert files.encrypted and files.backend == "kernel"
    path = os.path.join(cache, "msal.bin")
    files.write(path, SECRET)
    raw = Path(path).read_bytes()
    assert raw.startswith(secure.MAGIC) and b"rt-very-secret-value" not in raw
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert secure.SecretFiles(cache, "kernel").read(path) == SECRET  # another process: same key
    Path(path).write_bytes(raw[:-8] + b"tampered")
    assert files.read(path) is None  # authenticated encryption: tampering reads as "sign in again"


def test_file_storage_is_plaintext_0600_and_explicit(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    prepare(cache)
    err = io.StringIO()
    files = secure.SecretFiles(cache, "file", err)
    path = os.path.join(cache, "msal.json")
    files.write(path, SECRET)
    assert Path(path).read_bytes() == SECRET and os.stat(path).st_mode & 0o777 == 0o600
    assert err.getvalue() == ""  # chosen explicitly: no notice


def test_auto_without_a_store_falls_back_and_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secure, "open_keystore", lambda preference: None)
    cache = str(tmp_path / "cache")
    prepare(cache)
    first, second = io.StringIO(), io.StringIO()
    assert not secure.SecretFiles(cache, "auto", first).encrypted
    secure.SecretFiles(cache, "auto", second)
    assert "plaintext" in first.getvalue() and "shown once" in first.getvalue()
    assert second.getvalue() == ""


def test_required_store_missing_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secure, "open_keystore", lambda preference: None)
    with pytest.raises(CacheError, match="not usable"):
        secure.SecretFiles(str(tmp_path), "keyring")
    with pytest.raises(UsageError):
        secure.SecretFiles(str(tmp_path), "vault")
