"""The slow path of get-token: single-flight token acquisition under the per-identity lock.

Many kubectl processes may miss the cache at once (helm, k9s, CI fan-out). They queue on the per-identity
flock; the first one asks the identity provider, the others find its token when they get the lock. The
network stack (msal, requests) is imported only after the lock is held and the cache re-read, so waiters
that end up served from the cache never pay for it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from akslogin.errors import CacheError, DeadlineError, NetworkError, TLSError, UnsafeResponseError
from akslogin.log import Log
from akslogin.options import TokenOptions
from akslogin.tokencache import store
from akslogin.tokencache.entry import MIN_REMAINING, AccessToken, entry_path, parse_entry, read_private

if TYPE_CHECKING:
    from akslogin.http import MakeHttp

# Libraries (MSAL, urllib3) log through the logging module; without a handler Python prints their warnings,
# with tracebacks, on stderr. akslogin reports failures itself, so their records go nowhere.
logging.getLogger().addHandler(logging.NullHandler())


#: After a failed refresh, no process asks the identity provider again for this long (doubling per failure up
#: to ``MAX_BACKOFF``) while the cached token is still valid: 64 kubectl runs cost one request, not 64.
FIRST_BACKOFF = 30.0
MAX_BACKOFF = 300.0
#: A token with less than this left is not served as a fallback (kubectl would get a token about to die).
FALLBACK_MIN_LEFT = 30.0


def acquire(
    opts: TokenOptions,
    key: str,
    cache_dir: str,
    environ: Mapping[str, str],
    log: Log,
    clock: Callable[[], float],
    stderr: TextIO | None = None,
    min_remaining: float = MIN_REMAINING,
    pop_key: Any = None,
    attended: bool = True,
    explicit_sign_in: bool = False,
    make_http: MakeHttp | None = None,
) -> AccessToken:
    """``pop_key`` (akslogin.pop.PopKey): bind the token to it (Azure Arc).

    ``min_remaining``: a cached token with less time left than this is replaced (refresh-kubeconfig asks
    for more than get-token's five minutes). A token that is inside that margin but still valid is served
    when the refresh fails, when a recent failure says to wait, or when the lock wait times out. ``attended``:
    a person can answer a sign-in prompt (credentials/attendance.py); ``explicit_sign_in``: they asked for it.
    ``make_http``: what builds the HTTP client the login mode uses (default: akslogin.http.HttpClient)."""
    out = stderr if stderr is not None else sys.stderr
    store.prepare(cache_dir)
    started = clock()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.identity_lock(cache_dir, key, timeout=opts.timeout_seconds,
                                                    give_up=lambda: recent_failure(cache_dir, key, started)))
        except store.LockTimeout:
            fallback = _still_valid(read_private(entry_path(cache_dir, key)), clock())
            if fallback is None:
                raise
            log(1, "another process is still refreshing the token; serving the cached one, which is still valid")
            return fallback
        except OSError as exc:
            if exc.errno not in _UNWRITABLE:
                raise
            # A read-only (or full) cache: kubectl still gets a token, signed in without the cache.
            out.write(f"akslogin: warning: the token cache {cache_dir} cannot be written ({exc.strerror}, e.g. "
                      "a read-only file system); signing in without it, so every kubectl call signs in again. "
                      "Pass a writable --cache-dir or set KUBECACHEDIR.\n")
            return _under_lock(opts, key, cache_dir, environ, log, clock, out, min_remaining, pop_key,
                               cacheable=False, attendance=(attended, explicit_sign_in), make_http=make_http)
        return _under_lock(opts, key, cache_dir, environ, log, clock, out, min_remaining, pop_key,
                           queued_since=started, attendance=(attended, explicit_sign_in), make_http=make_http)
    raise AssertionError("unreachable")  # pragma: no cover


#: errno values of a cache that cannot take a new file: read-only file system, no permission, disk full.
_UNWRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC})


def _still_valid(raw: bytes | None, now: float) -> AccessToken | None:
    cached = None if raw is None else parse_entry(raw)
    return cached if cached is not None and cached.fresh(now, FALLBACK_MIN_LEFT) else None


def _backoff_state(raw: bytes | None) -> tuple[float, float]:
    """(retry_after, the wait it was set with): the back-off a failed refresh recorded in the entry (the hot
    path ignores both fields)."""
    from akslogin import jsonlite

    try:
        data = jsonlite.loads(raw or b"")
    except (ValueError, RecursionError):
        return 0.0, 0.0
    if not isinstance(data, dict):
        return 0.0, 0.0
    values = [data.get("retry_after"), data.get("written_at")]
    retry_after, written = (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
                            for v in values)
    return retry_after, max(retry_after - written, 0.0)


def _under_lock(opts: TokenOptions, key: str, cache_dir: str, environ: Mapping[str, str], log: Log,
                clock: Callable[[], float], out: TextIO, min_remaining: float, pop_key: Any, *,
                cacheable: bool = True, queued_since: float | None = None,
                attendance: tuple[bool, bool] = (True, False), make_http: MakeHttp | None = None) -> AccessToken:
    """``cacheable``: False when the cache cannot be written (nothing is moved aside or written then).
    ``queued_since``: when this process began waiting for the lock; a failure the holder before it recorded
    since then is this process's answer too (a process that came later tries for itself)."""
    path = entry_path(cache_dir, key)
    raw = read_private(path)
    cached = None if raw is None else parse_entry(raw)
    if raw is not None and cached is None and cacheable:
        try:
            moved = f"moved it to {store.quarantine(path)}"
        except OSError as exc:
            moved = f"could not move it aside ({exc.strerror})"
        out.write(f"akslogin: warning: the token cache file {path} was unreadable (cut short, corrupt or from "
                  f"another version); {moved} and getting a new token.\n")
    now = clock()
    if cached is not None and cached.fresh(now, min_remaining):
        log(2, "another process refreshed the token while we waited")
        return cached
    retry_after, last_wait = _backoff_state(raw)
    fallback = cached if cached is not None and cached.fresh(now, FALLBACK_MIN_LEFT) else None
    if fallback is None and queued_since is not None:
        failed = recent_failure(cache_dir, key, max(queued_since, now - FAILURE_REUSE))
        if failed is not None:  # the process before us in the queue just failed to reach the service
            raise failed
    if fallback is not None and retry_after > now:
        log(1, f"the last refresh failed; serving the cached token (still valid) and trying again in "
               f"{retry_after - now:.0f}s")
        return fallback
    from akslogin.credentials.base import CredentialContext, checked, create_credential
    from akslogin.credentials.msal_app import resolve_authority
    from akslogin.http import HttpClient

    http = (make_http or HttpClient)(opts.timeout_seconds, opts.certificate_authority, environ)
    ctx = CredentialContext(
        opts=opts,
        authority=resolve_authority(opts, cache_dir),
        http=http,
        environ=environ,
        cache_dir=cache_dir,
        identity_key=key,
        log=log,
        stderr=out,
        clock=clock,
        pop_key=pop_key,
        min_remaining=min_remaining,
        attended=attendance[0],
        explicit_sign_in=attendance[1],
    )
    log(1, f"requesting a token for {opts.server_id} with --login {opts.login}")
    try:
        credential = create_credential(ctx)  # may already talk to the authority (MSAL's discovery)
        token = checked(credential.get_token(opts.server_id), clock(), pop=pop_key is not None)
        received = clock()
    except NetworkError as exc:
        # Only a failing service: a refused sign-in (revoked refresh token, bad secret) is the user's to hear.
        if fallback is None:
            if cacheable:
                _record_failure(cache_dir, key, exc, clock())
            raise
        wait = min(max(last_wait * 2, FIRST_BACKOFF), MAX_BACKOFF)
        log(1, f"refreshing failed ({exc.message.rstrip('.')}); serving the cached token, still valid for "
               f"{fallback.expires_on - clock():.0f}s; the next try is in {wait:.0f}s")
        if cacheable:
            with contextlib.suppress(CacheError, OSError):
                store.write_entry(cache_dir, key, fallback.token, fallback.expires_on, opts.login,
                                  retry_after=clock() + wait, issued_on=fallback.issued_on)
        return fallback
    skew = server_skew(getattr(credential, "http", http), clock())
    if abs(skew) > MIN_REMAINING:
        log(1, f"this machine's clock is {abs(skew) / 60:.0f} minutes {'behind' if skew > 0 else 'ahead of'} the "
               "identity provider's; the token is cached for its own lifetime, not by the clock")
    if not cacheable:
        return AccessToken(token.token, token.expires_on, issued_on=received)
    try:
        store.write_entry(cache_dir, key, token.token, token.expires_on, opts.login, skew=skew,
                          issued_on=received)
        log(2, "token cached")
    except (CacheError, OSError) as exc:
        # The sign-in worked: kubectl gets its token; only the next run pays for another sign-in.
        reason = exc.message if isinstance(exc, CacheError) else (exc.strerror or type(exc).__name__)
        out.write(f"akslogin: warning: the token was obtained but could not be cached in {cache_dir} "
                  f"({reason.rstrip('.')}); the next kubectl call will sign in again. Free disk space or pass a "
                  "writable --cache-dir.\n")
    return AccessToken(token.token, token.expires_on, issued_on=received)


#: A failure to reach the identity provider (5xx after retries, refused connections, the deadline) is given to
#: the processes that were queued behind the one that saw it (at most this long after it), instead of each
#: asking again: an outage with 64 kubectl calls waiting costs the first caller's tries, and every caller says
#: what the service said. A process started after the failure tries for itself.
FAILURE_REUSE = 10.0
#: The NetworkError kinds a recorded failure may be raised again as.
_FAILURE_KINDS = {cls.__name__: cls for cls in (NetworkError, DeadlineError, TLSError, UnsafeResponseError)}


def _failure_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".failure")


def _record_failure(cache_dir: str, key: str, exc: NetworkError, now: float) -> None:
    import json

    kind = type(exc).__name__ if type(exc).__name__ in _FAILURE_KINDS else "NetworkError"
    data = json.dumps({"at": now, "kind": kind, "message": exc.message, "hint": exc.hint or ""})
    with contextlib.suppress(CacheError, OSError):
        store.atomic_write(_failure_path(cache_dir, key), data.encode("utf-8"))


def recent_failure(cache_dir: str, key: str, since: float) -> NetworkError | None:
    """The error another process recorded for this identity at or after ``since``, or None."""
    from akslogin import jsonlite

    try:
        raw = read_private(_failure_path(cache_dir, key), limit=16 * 1024)
        data = jsonlite.loads(raw) if raw else None
    except (CacheError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    at, message, hint = data.get("at"), data.get("message"), data.get("hint")
    if not isinstance(at, (int, float)) or not since <= at or not isinstance(message, str):
        return None
    cls = _FAILURE_KINDS.get(str(data.get("kind")), NetworkError)
    return cls(message, hint if isinstance(hint, str) and hint else None)


def server_skew(http: Any, now: float) -> float:
    """The identity provider's clock minus ours, from the Date header of its last answer (0 when unknown).
    Whole seconds only matter: Date has one-second resolution."""
    import email.utils

    response = getattr(http, "last_response", None)
    value = response.headers.get("Date") if response is not None else None
    if not value:
        return 0.0
    try:
        return round(email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError):
        return 0.0
