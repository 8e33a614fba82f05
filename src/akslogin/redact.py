"""Recognising secrets in exec arguments and environment entries, so they are never shown and can be flagged."""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "***"
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|api[-_]?key|credential", re.IGNORECASE)
#: Names that mention a secret but hold a path or a setting, not the secret itself.
_NOT_SECRET = re.compile(r"file|path|dir|cache|url|uri|endpoint|type|mode|hint", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """``--client-secret``, ``AZURE_CLIENT_SECRET``, ``ARM_CLIENT_PASSWORD`` yes; ``--federated-token-file`` no."""
    bare = name.lstrip("-")
    return bool(_SECRET_WORDS.search(bare)) and not _NOT_SECRET.search(bare)


def secret_flags(args: Sequence[str]) -> list[str]:
    """The secret-carrying flags present in ``args`` (names only, in order)."""
    found = []
    for arg in args:
        if arg.startswith("-"):
            name = arg.partition("=")[0]
            if is_secret_name(name):
                found.append(name)
    return found


def redact_args(args: Sequence[str]) -> list[str]:
    """``args`` with the value of every secret flag replaced by ``***`` (both ``--f v`` and ``--f=v``)."""
    out: list[str] = []
    mask_next = False
    for arg in args:
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        name, eq, _ = arg.partition("=")
        if arg.startswith("-") and is_secret_name(name):
            if eq:
                out.append(f"{name}={MASK}")
            else:
                out.append(arg)
                mask_next = True
            continue
        out.append(arg)
    return out


def remove_flags(args: Sequence[str], names: Sequence[str]) -> list[str]:
    """``args`` without the given flags and their values."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name, eq, _ = arg.partition("=")
        if name in names:
            skip = not eq
            continue
        out.append(arg)
    return out
