"""The slow path of get-token: single-flight token acquisition under the per-identity lock."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from akslogin.credentials.base import Credential
from akslogin.errors import UsageError
from akslogin.http import HttpClient
from akslogin.log import Log
from akslogin.options import TokenOptions
from akslogin.tokencache import store
from akslogin.tokencache.entry import CachedToken, read_entry

IMPLEMENTED_MODES = ("spn",)


def build_credential(opts: TokenOptions, http: HttpClient) -> Credential:
    from akslogin.credentials.msal_app import resolve_authority

    if opts.login == "spn":
        from akslogin.credentials.spn import ServicePrincipalCredential

        return ServicePrincipalCredential(opts, resolve_authority(opts), http)
    raise UsageError(
        f"--login {opts.login} is not available in this version of akslogin.",
        "Available: " + ", ".join(IMPLEMENTED_MODES) + ".",
    )


def acquire(
    opts: TokenOptions,
    key: str,
    cache_dir: str,
    environ: Mapping[str, str],
    log: Log,
    clock: Callable[[], float],
) -> CachedToken:
    store.prepare(cache_dir)
    with store.identity_lock(cache_dir, key, timeout=opts.timeout_seconds):
        cached = read_entry(cache_dir, key)
        if cached is not None and cached.fresh(clock()):
            log(2, "another process refreshed the token while we waited")
            return cached
        http = HttpClient(opts.timeout_seconds, opts.certificate_authority, environ)
        credential = build_credential(opts, http)
        log(1, f"requesting a token for {opts.server_id} with --login {opts.login}")
        token = credential.get_token(opts.server_id)
        store.write_entry(cache_dir, key, token.token, token.expires_on, opts.login)
        log(2, "token cached")
        return CachedToken(token.token, token.expires_on)
