"""The token kubectl would get for these options, for every caller: get-token's slow path, login, get-credentials'
ARM token, whoami, doctor, explain-forbidden, embedded tokens and the Python API.

One path: the same options and environment precedence, the same identity key and cache, the same single-flight
acquisition (:mod:`akslogin.tokens.acquire`) and, for Azure Arc, the same proof-of-possession presentation, so
a token one command fetched serves the others and they all fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from akslogin import options
from akslogin.clouds import AZURE_CLI_CLIENT_ID
from akslogin.log import Log
from akslogin.tokencache.entry import MIN_REMAINING, AccessToken, read_entry
from akslogin.tokencache.key import authority_for_key, identity_key

#: Modes that sign a user in; without --client-id they sign in to Resource Manager with Azure CLI's client.
USER_MODES = frozenset({"devicecode", "interactive", "ropc"})
#: ``cached`` not given: the cache is read here.
_READ = object()


def cache_dir_for(opts: options.TokenOptions, environ: Mapping[str, str]) -> str:
    return opts.cache_dir or options.default_cache_dir(environ)


def key_for(opts: options.TokenOptions, environ: Mapping[str, str] | None = None, pop_kid: str = "") -> str:
    """The cache key get-token computes (with ``environ``, azurecli/azd keys include the CLI's sign-in; a PoP
    token's key names the key it is bound to)."""
    return identity_key(opts, authority_for_key(opts), environ, pop_kid)


def for_resource(opts: options.TokenOptions, server_id: str) -> options.TokenOptions:
    """A checked copy of ``opts`` that asks for a token for ``server_id`` (an app id or an ARM resource)."""
    copy = opts.replace(server_id=server_id)
    options.validate(copy)
    return copy


def for_arm(opts: options.TokenOptions, arm_resource: str) -> options.TokenOptions:
    """The options for a Resource Manager token: users without --client-id sign in with Azure CLI's client."""
    arm = for_resource(opts, arm_resource)
    if arm.login in USER_MODES and not arm.client_id:
        arm.client_id = AZURE_CLI_CLIENT_ID
    return arm


def options_from_exec_args(args: Sequence[str], environ: Mapping[str, str]) -> options.TokenOptions:
    """The options an akslogin exec block runs with (``get-token`` and its flags), environment applied."""
    argv = list(args)
    if argv and argv[0] == "get-token":
        argv = argv[1:]
    opts = options.parse_args(argv)
    options.apply_env(opts, environ)
    options.validate(opts)
    return opts


def pop_key_for(opts: options.TokenOptions, cache_dir: str, stderr: TextIO) -> Any:
    """This cache's proof-of-possession key (Azure Arc), or None when the options do not ask for PoP."""
    if not opts.pop_enabled:
        return None
    from akslogin.tokencache import popkey

    return popkey.load_or_create(cache_dir, opts.cache_storage, stderr, opts.timeout_seconds)


def obtain(
    opts: options.TokenOptions,
    environ: Mapping[str, str],
    stderr: TextIO,
    log: Log,
    clock: Callable[[], float] = time.time,
    min_remaining: float = MIN_REMAINING,
    *,
    attended: bool | None = None,
    explicit_sign_in: bool = False,
) -> AccessToken:
    """A bearer token for ``opts.server_id`` with at least ``min_remaining`` seconds left (validated options).
    ``attended``: whether a user sign-in may prompt (default: when stderr or stdin is a terminal, or
    AKSLOGIN_PROMPT); ``explicit_sign_in``: the person asked for this sign-in (``akslogin login``)."""
    return _cached_or_acquired(opts, environ, stderr, log, clock, min_remaining, None, attended,
                               explicit_sign_in, _READ, None)[0]


def presented(opts: options.TokenOptions, environ: Mapping[str, str], stderr: TextIO, log: Log,
              clock: Callable[[], float] = time.time, *, attended: bool | None = None, pop_key: Any = None,
              key: str | None = None, cached: Any = _READ) -> tuple[str, float, bool]:
    """What get-token hands kubectl for ``opts``: (bearer value, until when, from the cache). For an Azure Arc
    PoP identity that is a fresh proof signed by this cache's key. get-token passes what its hot path already
    has (``pop_key``, ``key``, the ``cached`` entry it read), so nothing is computed twice."""
    cache_dir = cache_dir_for(opts, environ)
    if pop_key is None:
        pop_key = pop_key_for(opts, cache_dir, stderr)
    token, from_cache = _cached_or_acquired(opts, environ, stderr, log, clock, MIN_REMAINING, pop_key, attended,
                                            False, cached, key)
    if pop_key is None:
        return token.token, token.expires_on, from_cache

    from akslogin import pop

    value, until = pop.presentation(token.token, token.expires_on, pop_key, opts.pop_claims, clock())
    return value, until, from_cache


def _cached_or_acquired(opts: options.TokenOptions, environ: Mapping[str, str], stderr: TextIO, log: Log,
                        clock: Callable[[], float], min_remaining: float, pop_key: Any,
                        attended: bool | None, explicit_sign_in: bool, cached: Any,
                        key: str | None) -> tuple[AccessToken, bool]:
    """Cache first, then a single-flight sign-in."""
    cache_dir = cache_dir_for(opts, environ)
    if key is None:
        key = key_for(opts, environ, pop_key.kid if pop_key is not None else "")
    entry = read_entry(cache_dir, key) if cached is _READ else cached
    if entry is not None and entry.fresh(clock(), min_remaining):
        log(2, f"token for {opts.server_id} served from the cache")
        return entry, True
    from akslogin.credentials.attendance import attended as someone_there
    from akslogin.tokens.acquire import acquire

    if attended is None:  # a command a person runs (whoami, rbac bind, ...): their terminal is the sign
        import sys

        attended = someone_there(False, stderr, environ, sys.stdin)
    return acquire(opts, key, cache_dir, environ, log, clock, stderr, min_remaining=min_remaining,
                   pop_key=pop_key, attended=attended, explicit_sign_in=explicit_sign_in), False
