"""get-token: print an ExecCredential, from the cache when possible (the hot path is stdlib only).

hot path:  options → identity key → read cache entry → fresh (> 5 min left)? → print
slow path: :func:`akslogin.tokens.source.presented` (per-identity lock, re-read, credential, write) → print
"""

import time

from akslogin import exec_credential, options
from akslogin.log import Log
from akslogin.tokencache.entry import read_entry
from akslogin.tokencache.key import authority_for_key, identity_key

# Annotations only: importing typing/collections.abc here would cost more than the rest of a cache hit.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

    Clock = Callable[[], float]


def run(
    argv: "Sequence[str]",
    environ: "Mapping[str, str]",
    stdout: "TextIO",
    stderr: "TextIO",
    clock: "Clock" = time.time,
) -> int:
    def serve() -> int:
        try:
            opts = options.parse_args(argv)
        except options.HelpRequested:
            stdout.write(options.render_help() + "\n")
            return 0
        notes = options.apply_env(opts, environ)
        notes += options.validate(opts)
        log = Log(opts.verbosity_level, stderr)
        info = exec_credential.read_exec_info(environ)
        cache_dir = opts.cache_dir or options.default_cache_dir(environ)
        for note in notes:
            if note.startswith(options.UNKNOWN_ENVIRONMENT_NOTE):
                from akslogin.tokencache.store import first_time

                if not first_time(cache_dir, note):
                    log(1, note)
                    continue
            stderr.write(f"akslogin: warning: {note}\n")
        pop_key = None
        if opts.pop_enabled:  # Azure Arc: the token is bound to this cache's key, and presented signed by it
            from akslogin import pop
            from akslogin.tokencache import popkey

            pop_key = popkey.load_or_create(cache_dir, opts.cache_storage, stderr, opts.timeout_seconds)
        key = identity_key(opts, authority_for_key(opts), environ, pop_key.kid if pop_key is not None else "")
        log(5, f"options: {opts.describe()}")
        log(3, f"identity key {key}, cache {cache_dir}")
        cached = read_entry(cache_dir, key)
        now = clock()
        if cached is not None and cached.fresh(now):
            log(2, "served from the cache")
            value, expires_on = cached.token, cached.expires_on
            if pop_key is not None:
                value, expires_on = pop.presentation(value, expires_on, pop_key, opts.pop_claims, now)
            if cached.renew_soon(now):
                from akslogin.tokens import refresh_ahead

                if log.level >= 1:
                    failure = refresh_ahead.last_failure(cache_dir, key)
                    if failure:
                        log(1, failure)
                refresh_ahead.start(argv, environ, cache_dir, key, cached, now, log)
        else:
            value, expires_on = _slow_path(argv, opts, environ, stderr, log, clock, info.interactive, pop_key,
                                           key, cached)
        stdout.write(exec_credential.render(info, value, expires_on) + "\n")
        stdout.flush()
        return 0

    try:
        return serve()
    except (Exception, KeyboardInterrupt) as exc:
        from akslogin.errors import report  # the one top-level handler (errors.guarded's), imported on failure

        return report(exc, stderr, environ)


def _slow_path(argv: "Sequence[str]", opts: options.TokenOptions, environ: "Mapping[str, str]", stderr: "TextIO",
               log: Log, clock: "Clock", interactive: bool, pop_key: object, key: str,
               cached: object) -> "tuple[str, float]":
    """The token source every command shares (tokens/source.py), with what the hot path already computed; a
    sign-in nobody can answer names the one command a person should run."""
    from akslogin.leanimport import import_requests

    import_requests()  # before MSAL imports it
    from akslogin.credentials.attendance import UnattendedSignIn, attended
    from akslogin.tokens.source import presented

    try:
        value, until, _ = presented(opts, environ, stderr, log, clock, pop_key=pop_key, key=key, cached=cached,
                                    attended=attended(interactive, stderr, environ))
    except UnattendedSignIn as exc:
        from akslogin.usecases.login import login_command

        exc.hint = (f"Run '{login_command(list(argv), environ)}' once in a terminal; later kubectl calls use the "
                    "saved sign-in without asking.")
        raise
    return value, until
