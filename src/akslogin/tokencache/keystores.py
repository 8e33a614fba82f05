"""Where the key that encrypts refresh tokens at rest lives: an OS secret store, never the disk.

- ``kernel``: the Linux kernel's per-user keyring (works headless, in CI runners and SSH sessions; the key is
  gone after a reboot, which only means signing in once more).
- ``keyring``: the ``keyring`` package's system backend (Secret Service on a Linux desktop, macOS Keychain,
  Windows Credential Locker), when it is installed and has a usable backend.
When neither is available the caller falls back to plaintext files (0600) and says so once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import secrets
from typing import Protocol

KEY_BYTES = 32


class KeyStore(Protocol):
    name: str

    def get(self, label: str) -> bytes | None: ...

    def put(self, label: str, key: bytes) -> None: ...

    def delete(self, label: str) -> None: ...


# x86_64 and aarch64 syscall numbers for add_key / request_key / keyctl.
_SYSCALLS = {"x86_64": (248, 249, 250), "amd64": (248, 249, 250), "aarch64": (217, 218, 219),
             "arm64": (217, 218, 219)}
_KEY_SPEC_USER_KEYRING = -4
_KEYCTL_READ = 11
_KEYCTL_UNLINK = 9


class KernelKeyring:
    """The Linux user keyring through raw syscalls (no libkeyutils needed)."""

    name = "kernel"

    def __init__(self) -> None:
        numbers = _SYSCALLS.get(platform.machine().lower())
        if os.name != "posix" or platform.system() != "Linux" or numbers is None:
            raise OSError("the kernel keyring is only available on Linux x86_64/aarch64")
        self._add, self._request, self._keyctl = numbers
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long

    def _id(self, label: str) -> int | None:
        res = self._libc.syscall(self._request, b"user", label.encode(), None, 0)
        return None if res < 0 else int(res)

    def get(self, label: str) -> bytes | None:
        key_id = self._id(label)
        if key_id is None:
            return None
        buf = ctypes.create_string_buffer(KEY_BYTES * 2)
        size = self._libc.syscall(self._keyctl, _KEYCTL_READ, key_id, buf, len(buf))
        return None if size != KEY_BYTES else buf.raw[:KEY_BYTES]

    def put(self, label: str, key: bytes) -> None:
        res = self._libc.syscall(self._add, b"user", label.encode(), key, len(key), _KEY_SPEC_USER_KEYRING)
        if res < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def delete(self, label: str) -> None:
        key_id = self._id(label)
        if key_id is not None:
            self._libc.syscall(self._keyctl, _KEYCTL_UNLINK, key_id, _KEY_SPEC_USER_KEYRING)


class KeyringPackage:
    """The ``keyring`` package, only with a backend that really stores secrets securely."""

    name = "keyring"
    SERVICE = "akslogin"

    def __init__(self) -> None:
        import keyring  # optional dependency
        from keyring.backends import fail

        backend = keyring.get_keyring()
        kind = type(backend).__module__ + "." + type(backend).__name__
        if isinstance(backend, fail.Keyring) or "plaintext" in kind.lower() or "null" in kind.lower() \
                or getattr(backend, "priority", 0) <= 0:
            raise OSError(f"no secure keyring backend ({kind})")
        self._keyring = keyring

    def get(self, label: str) -> bytes | None:
        value = self._keyring.get_password(self.SERVICE, label)
        if not value:
            return None
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            return None
        return raw if len(raw) == KEY_BYTES else None

    def put(self, label: str, key: bytes) -> None:
        self._keyring.set_password(self.SERVICE, label, key.hex())

    def delete(self, label: str) -> None:
        # Already gone is fine; keyring raises backend-specific error types.
        with contextlib.suppress(Exception):
            self._keyring.delete_password(self.SERVICE, label)


def open_keystore(preference: str) -> KeyStore | None:
    """The first usable store for ``preference`` (auto, kernel, keyring); None when there is none."""
    candidates: list[type[KernelKeyring] | type[KeyringPackage]]
    if preference == "kernel":
        candidates = [KernelKeyring]
    elif preference == "keyring":
        candidates = [KeyringPackage]
    else:
        candidates = [KeyringPackage, KernelKeyring]
    for cls in candidates:
        try:
            store: KeyStore = cls()
            probe = "akslogin-probe-" + secrets.token_hex(4)
            store.put(probe, secrets.token_bytes(KEY_BYTES))
            ok = store.get(probe) is not None
            store.delete(probe)
            if ok:
                return store
        except (OSError, ImportError, RuntimeError):
            continue
    return None
