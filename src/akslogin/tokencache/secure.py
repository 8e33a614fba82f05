"""Refresh-token files at rest: AES-256-GCM with a key held in an OS secret store, or plaintext 0600.

``--cache-storage`` (or AKSLOGIN_CACHE_STORAGE) chooses: ``auto`` (encrypt when a secret store works,
otherwise plaintext with a one-time notice), ``keyring``/``kernel`` (require that store: fail if missing),
``file`` (plaintext 0600, explicitly). Only the slow path uses this; the hot path never reads refresh tokens.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from typing import TextIO

from akslogin import jsonlite
from akslogin.errors import CacheError, UsageError
from akslogin.options import CACHE_STORAGES as STORAGES
from akslogin.tokencache.entry import read_private
from akslogin.tokencache.keystores import KEY_BYTES, KeyStore, open_keystore
from akslogin.tokencache.store import atomic_write

MAGIC = b"AKSLOGIN-ENC1\n"
NOTICE_FILE = ".plaintext-notice"


class SecretFiles:
    """Read and write private cache files, encrypted when a secret store is available."""

    def __init__(self, cache_dir: str, storage: str = "auto", stderr: TextIO | None = None) -> None:
        if storage not in STORAGES:
            raise UsageError(f"--cache-storage must be one of {', '.join(STORAGES)}, not {storage!r}.")
        self.cache_dir = cache_dir
        self.storage = storage
        self._stderr = stderr
        self._label = "akslogin:" + hashlib.sha256(os.path.abspath(cache_dir).encode()).hexdigest()[:24]
        self._store: KeyStore | None = None
        if storage != "file":
            self._store = open_keystore(storage)
            if self._store is None and storage != "auto":
                raise CacheError(
                    f"--cache-storage {storage} was asked for, but that secret store is not usable here.",
                    "Use --cache-storage auto (falls back to a 0600 file) or file.",
                )
        if self._store is None:
            self._notice_once()

    @property
    def encrypted(self) -> bool:
        return self._store is not None

    @property
    def backend(self) -> str:
        return self._store.name if self._store is not None else "file"

    def _notice_once(self) -> None:
        marker = os.path.join(self.cache_dir, NOTICE_FILE)
        if self.storage == "file" or os.path.exists(marker) or self._stderr is None:
            return
        self._stderr.write(
            "akslogin: note: no OS secret store is usable here (no Secret Service, Keychain or kernel keyring), so "
            f"refresh tokens are kept in plaintext files readable only by you (0600) under {self.cache_dir}. "
            "Pass --cache-storage file to choose this explicitly. This note is shown once.\n")
        with contextlib.suppress(OSError):
            atomic_write(marker, b"plaintext refresh-token storage acknowledged\n")

    def _key(self, create: bool) -> bytes | None:
        assert self._store is not None
        key = self._store.get(self._label)
        if key is None and create:
            key = secrets.token_bytes(KEY_BYTES)
            self._store.put(self._label, key)
        return key

    def read(self, path: str) -> bytes | None:
        """The plaintext content, or None when absent or no longer decryptable (e.g. key lost at reboot)."""
        raw = read_private(path, limit=1 << 22)
        if raw is None:
            return None
        if not raw.startswith(MAGIC):
            if self._store is None or os.path.exists(os.path.join(self.cache_dir, NOTICE_FILE)):
                return raw  # plaintext storage, now or before a secret store became usable (read once, re-encrypted)
            if self._stderr is not None:
                self._stderr.write(
                    f"akslogin: warning: {path} is not encrypted, but this cache keeps refresh tokens encrypted "
                    f"(key in {self.backend}) and has never stored them in plaintext, so akslogin did not write it; "
                    "ignoring it and signing in again. Delete the file if you did not put it there.\n")
            return None
        if self._store is None:
            return None
        key = self._key(create=False)
        if key is None:
            return None
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            envelope = jsonlite.loads(raw[len(MAGIC):])
            nonce = base64.b64decode(envelope["nonce"])
            data = base64.b64decode(envelope["data"])
            return AESGCM(key).decrypt(nonce, data, MAGIC)
        except (ValueError, KeyError, TypeError, InvalidTag):
            return None

    def write(self, path: str, plaintext: bytes) -> None:
        if self._store is None:
            atomic_write(path, plaintext)
            return
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._key(create=True)
        assert key is not None
        nonce = secrets.token_bytes(12)
        envelope = {"alg": "A256GCM", "store": self.backend, "nonce": base64.b64encode(nonce).decode(),
                    "data": base64.b64encode(AESGCM(key).encrypt(nonce, plaintext, MAGIC)).decode()}
        atomic_write(path, MAGIC + json.dumps(envelope).encode())
