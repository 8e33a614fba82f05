"""The slow path of get-token: single-flight token acquisition under the per-identity lock.

Many kubectl processes may miss the cache at once (helm, k9s, CI fan-out). They queue on the per-identity
flock; the first one asks the identity provider, the others find its token when they get the lock. The
network stack (msal, requests) is imported only after the lock is held and the cache re-read, so waiters
that end up served from the cache never pay for it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from akslogin.errors import CacheError
from akslogin.log import Log
from akslogin.options import TokenOptions
from akslogin.tokencache import store
from akslogin.tokencache.entry import MIN_REMAINING, CachedToken, entry_path, parse_entry, read_private

# Libraries (MSAL, urllib3) log through the logging module; without a handler Python prints their warnings,
# with tracebacks, on stderr. akslogin reports failures itself, so their records go nowhere.
logging.getLogger().addHandler(logging.NullHandler())


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
    out = stderr if stderr is not None else sys.stderr
    store.prepare(cache_dir)
    with store.identity_lock(cache_dir, key, timeout=opts.timeout_seconds):
        path = entry_path(cache_dir, key)
        raw = read_private(path)
        cached = None if raw is None else parse_entry(raw)
        if raw is not None and cached is None:
            try:
                moved = f"moved it to {store.quarantine(path)}"
            except OSError as exc:
                moved = f"could not move it aside ({exc.strerror})"
            out.write(f"akslogin: warning: the token cache file {path} was unreadable (cut short, corrupt or from "
                      f"another version); {moved} and getting a new token.\n")
        if cached is not None and cached.fresh(clock(), min_remaining):
            log(2, "another process refreshed the token while we waited")
            return cached
        from akslogin.credentials.base import CredentialContext, checked, create_credential
        from akslogin.credentials.msal_app import resolve_authority
        from akslogin.http import HttpClient

        ctx = CredentialContext(
            opts=opts,
            authority=resolve_authority(opts, cache_dir),
            http=HttpClient(opts.timeout_seconds, opts.certificate_authority, environ),
            environ=environ,
            cache_dir=cache_dir,
            identity_key=key,
            log=log,
            stderr=out,
            clock=clock,
        )
        credential = create_credential(ctx)
        log(1, f"requesting a token for {opts.server_id} with --login {opts.login}")
        token = checked(credential.get_token(opts.server_id), clock())
        try:
            store.write_entry(cache_dir, key, token.token, token.expires_on, opts.login)
            log(2, "token cached")
        except (CacheError, OSError) as exc:
            # The sign-in worked: kubectl gets its token; only the next run pays for another sign-in.
            reason = exc.message if isinstance(exc, CacheError) else (exc.strerror or type(exc).__name__)
            out.write(f"akslogin: warning: the token was obtained but could not be cached in {cache_dir} "
                      f"({reason.rstrip('.')}); the next kubectl call will sign in again. Free disk space or pass a "
                      "writable --cache-dir.\n")
        return CachedToken(token.token, token.expires_on)
