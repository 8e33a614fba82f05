"""The slow path of get-token: single-flight token acquisition under the per-identity lock."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from akslogin.credentials.base import CredentialContext, create_credential
from akslogin.credentials.msal_app import resolve_authority
from akslogin.http import HttpClient
from akslogin.log import Log
from akslogin.options import TokenOptions
from akslogin.tokencache import store
from akslogin.tokencache.entry import MIN_REMAINING, CachedToken, read_entry


def acquire(
    opts: TokenOptions,
    key: str,
    cache_dir: str,
    environ: Mapping[str, str],
    log: Log,
    clock: Callable[[], float],
    stderr: TextIO | None = None,
    min_remaining: float = MIN_REMAINING,
) -> CachedToken:
    """``min_remaining``: a cached token with less time left than this is replaced (refresh-kubeconfig asks
    for more than get-token's five minutes)."""
    store.prepare(cache_dir)
    with store.identity_lock(cache_dir, key, timeout=opts.timeout_seconds):
        cached = read_entry(cache_dir, key)
        if cached is not None and cached.fresh(clock(), min_remaining):
            log(2, "another process refreshed the token while we waited")
            return cached
        ctx = CredentialContext(
            opts=opts,
            authority=resolve_authority(opts),
            http=HttpClient(opts.timeout_seconds, opts.certificate_authority, environ),
            environ=environ,
            cache_dir=cache_dir,
            identity_key=key,
            log=log,
            stderr=stderr if stderr is not None else sys.stderr,
            clock=clock,
        )
        credential = create_credential(ctx)
        log(1, f"requesting a token for {opts.server_id} with --login {opts.login}")
        token = credential.get_token(opts.server_id)
        store.write_entry(cache_dir, key, token.token, token.expires_on, opts.login)
        log(2, "token cached")
        return CachedToken(token.token, token.expires_on)
