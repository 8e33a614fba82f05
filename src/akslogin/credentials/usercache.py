"""Where a signed-in user's MSAL token cache (refresh token, account, id token) lives between runs.

One file per identity, ``<cache dir>/msal/<identity key>.json``: MSAL's own JSON schema, encrypted at rest
when an OS secret store is usable (``--cache-storage``, see tokencache/secure.py), else a 0600 file; in a
0700 directory, replaced atomically and only when MSAL changed it. It is read and written only on the slow
path, which holds the per-identity lock, so parallel kubectl runs neither race nor lose a rotated refresh
token. Refresh tokens are secrets: nothing here logs contents.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

import msal

from akslogin import jsonlite
from akslogin.tokencache.secure import SecretFiles

if TYPE_CHECKING:
    from akslogin.credentials.base import CredentialContext


def cache_path(cache_dir: str, key: str, suffix: str = ".json") -> str:
    return os.path.join(cache_dir, "msal", key + suffix)


def _files(ctx: CredentialContext) -> SecretFiles:
    return SecretFiles(ctx.cache_dir, ctx.opts.cache_storage, ctx.stderr)


def load(ctx: CredentialContext) -> Any:
    """A SerializableTokenCache filled from disk (empty when absent, unreadable or no longer decryptable)."""
    cache = msal.SerializableTokenCache()
    raw = _files(ctx).read(cache_path(ctx.cache_dir, ctx.identity_key))
    if raw:
        try:
            cache.deserialize(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            ctx.log(1, "the saved sign-in could not be read and will be replaced after the next sign-in")
            cache = msal.SerializableTokenCache()
    return cache


def save(ctx: CredentialContext, cache: Any) -> None:
    if not cache.has_state_changed:
        return
    _files(ctx).write(cache_path(ctx.cache_dir, ctx.identity_key), cache.serialize().encode("utf-8"))
    cache.has_state_changed = False


def load_json(ctx: CredentialContext, suffix: str) -> dict[str, Any]:
    """A small private JSON document next to the MSAL cache (the legacy v1 refresh token)."""
    raw = _files(ctx).read(cache_path(ctx.cache_dir, ctx.identity_key, suffix))
    if not raw:
        return {}
    try:
        data = jsonlite.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def save_json(ctx: CredentialContext, suffix: str, data: dict[str, Any]) -> None:
    _files(ctx).write(cache_path(ctx.cache_dir, ctx.identity_key, suffix), json.dumps(data).encode("utf-8"))


def forget(ctx: CredentialContext, suffix: str = ".json") -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(cache_path(ctx.cache_dir, ctx.identity_key, suffix))
