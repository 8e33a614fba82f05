"""Where a cache directory keeps its proof-of-possession key: at rest like refresh tokens, made once per directory.

The key lives beside the tokens it is bound to (a token cached in one directory is useless with another
directory's key), so it is part of the cache, not of the PoP protocol in :mod:`akslogin.pop`.
"""

from __future__ import annotations

import os
from typing import TextIO

from akslogin.pop import PopKey
from akslogin.tokencache import store
from akslogin.tokencache.secure import SecretFiles

KEY_FILE = os.path.join("pop", "rsa-key.pem")


def key_path(cache_dir: str) -> str:
    return os.path.join(cache_dir, KEY_FILE)


def load_or_create(cache_dir: str, storage: str, stderr: TextIO | None, timeout: float) -> PopKey:
    """This cache directory's PoP key; made once (under a lock, so parallel first runs agree on one key)."""
    files = SecretFiles(cache_dir, storage, stderr)
    path = key_path(cache_dir)
    existing = _read(files, path)
    if existing is not None:
        return existing
    store.prepare(cache_dir)
    with store.identity_lock(cache_dir, "pop-key", timeout):
        existing = _read(files, path)
        if existing is not None:
            return existing
        if os.path.exists(path) and stderr is not None:
            stderr.write(f"akslogin: warning: the proof-of-possession key {path} could not be read (damaged, or "
                         "its encryption key is gone); making a new one, so the next token is requested anew.\n")
        key = PopKey.generate()
        files.write(path, key.to_pem())
        return key


def _read(files: SecretFiles, path: str) -> PopKey | None:
    raw = files.read(path)
    return PopKey.from_pem(raw) if raw else None
