"""get-token: print an ExecCredential, from the cache when possible (the hot path is stdlib only).

hot path:  options → identity key → read cache entry → fresh (> 5 min left)? → print
slow path: per-identity lock → re-read (another process may have refreshed) → credential → write → print
"""

import time

from akslogin import exec_credential, options
from akslogin.log import Log
from akslogin.tokencache.entry import AccessToken, read_entry
from akslogin.tokencache.key import identity_key

# Annotations only: importing typing/collections.abc here would cost more than the rest of a cache hit.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

    Clock = Callable[[], float]


def authority_for_key(opts: options.TokenOptions) -> str:
    """The authority host that goes into the cache key, without importing the network stack."""
    if opts.authority_host:
        return opts.authority_host
    from akslogin.clouds import cloud

    return cloud(opts.environment).authority_host


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

            pop_key = pop.load_or_create(cache_dir, opts.cache_storage, stderr, opts.timeout_seconds)
        key = identity_key(opts, authority_for_key(opts), environ, pop_key.kid if pop_key is not None else "")
        log(5, f"options: {opts.describe()}")
        log(3, f"identity key {key}, cache {cache_dir}")
        cached = read_entry(cache_dir, key)
        if environ.get("AKSLOGIN_BACKGROUND_REFRESH"):  # the detached renewal refresh_ahead.start runs
            from akslogin.leanimport import import_requests
            from akslogin.usecases import refresh_ahead

            import_requests()  # before MSAL imports it
            return refresh_ahead.renew(opts, key, cache_dir, environ, clock, pop_key, cached)
        now = clock()
        if cached is not None and cached.fresh(now):
            log(2, "served from the cache")
            token: AccessToken = cached
            if cached.renew_soon(now):
                from akslogin.usecases import refresh_ahead

                if log.level >= 1:
                    failure = refresh_ahead.last_failure(cache_dir, key)
                    if failure:
                        log(1, failure)
                refresh_ahead.start(argv, environ, cache_dir, key, now, log)
        else:
            from akslogin.leanimport import import_requests

            import_requests()  # before MSAL imports it
            from akslogin.credentials.attendance import UnattendedSignIn, attended
            from akslogin.usecases.acquire import acquire

            try:
                token = acquire(opts, key, cache_dir, environ, log, clock, stderr, pop_key=pop_key,
                                attended=attended(info.interactive, stderr, environ))
            except UnattendedSignIn as exc:
                from akslogin.usecases.login import login_command

                exc.hint = (f"Run '{login_command(list(argv), environ)}' once in a terminal; later kubectl calls "
                            "use the saved sign-in without asking.")
                raise
        value, expires_on = token.token, token.expires_on
        if pop_key is not None:
            value, expires_on = pop.presentation(value, expires_on, pop_key, opts.pop_claims, clock())
        stdout.write(exec_credential.render(info, value, expires_on) + "\n")
        stdout.flush()
        return 0

    try:
        return serve()
    except (Exception, KeyboardInterrupt) as exc:
        from akslogin.errors import report  # the one top-level handler (errors.guarded's), imported on failure

        return report(exc, stderr, environ)
