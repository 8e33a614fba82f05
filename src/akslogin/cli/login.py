"""``akslogin login`` (warm the token cache) and ``akslogin logout`` / ``remove-tokens`` (forget tokens)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from akslogin.cli.signin_flags import add_signin_flags, check_login, signin_options
from akslogin.options import TokenOptions
from akslogin.output import add_output_flag, emit

LOGIN_EPILOG = """\
Signs in now and caches the token exactly where 'akslogin get-token' (and so kubectl) looks for it, so later
kubectl runs are served from the cache (a device-code sign-in happens here, not in the middle of a script).
Without sign-in flags, the flags come from a kubeconfig context's exec plugin (--context, or the current one).

examples:
  akslogin login                                      # the current context's identity
  akslogin login --context aks-prod
  akslogin login -l spn -t <tenant> --client-id <app> # flags as for get-token (--server-id defaults to AKS)
  akslogin login -o json | jq -r .expires_on          # when the cached token runs out

exit codes: 0 signed in and cached; 1 sign-in failed, or the context's user does not use akslogin/kubelogin;
            2 bad flags, no such kubeconfig or context.
"""

REMOVE_CACHE_EPILOG = """\
examples:
  akslogin remove-cache-dir                        # ~/.kube/cache/akslogin (or $KUBECACHEDIR)
  akslogin remove-cache-dir --cache-dir /tmp/ci-cache

To forget one identity only, use 'akslogin logout' with its sign-in flags (or --context).

exit codes: 0 removed (also when there was nothing to remove); 1 a file could not be removed; 2 bad flags.
"""

LOGOUT_EPILOG = """\
Deletes cached tokens. With sign-in flags or --context: only that identity's tokens (for the AKS server app and
Resource Manager, or the --server-id given). Without either, or with --all: every cached token.

examples:
  akslogin logout --all
  akslogin logout --context aks-prod
  akslogin logout -l spn -t <tenant> --client-id <app>
  akslogin logout --all -o yaml

exit codes: 0 done (also when nothing was cached); 1 the cache directory is unusable; 2 bad flags, no such
kubeconfig or context.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("login", help="sign in now and cache the token for kubectl",
                       description="Sign in and warm akslogin's token cache.", epilog=LOGIN_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    _kubeconfig_flags(p)
    add_output_flag(p)
    add_signin_flags(p)
    p.set_defaults(handler=run_login)

    q = sub.add_parser("logout", aliases=["remove-tokens"], help="delete cached tokens (one identity or all)",
                       description="Delete akslogin's cached tokens.", epilog=LOGOUT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    _kubeconfig_flags(q)
    q.add_argument("--all", action="store_true", help="every cached token in the cache directory")
    add_output_flag(q)
    add_signin_flags(q)
    q.set_defaults(handler=run_logout)
    register_remove_cache_dir(sub)


def register_remove_cache_dir(sub: Any) -> None:
    r = sub.add_parser(
        "remove-cache-dir", help="delete akslogin's whole token cache directory (kubelogin's command)",
        description="Delete every token, saved sign-in and cached discovery document in the cache directory, "
                    "then the directory itself. Files akslogin did not write are left where they are.",
        epilog=REMOVE_CACHE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    r.add_argument("--cache-dir", metavar="DIR", default="",
                   help="the cache directory (default: $KUBECACHEDIR, else ~/.kube/cache/akslogin)")
    add_output_flag(r)
    r.set_defaults(handler=run_remove_cache_dir)


def run_remove_cache_dir(args: argparse.Namespace) -> int:
    from akslogin import options
    from akslogin.usecases import login

    cache_dir = os.path.abspath(os.path.expanduser(args.cache_dir or os.environ.get("KUBECACHEDIR", "")
                                                   or options.default_cache_dir(os.environ)))
    if not os.path.isdir(cache_dir):
        emit(sys.stdout, args.output, {"cache_dir": cache_dir, "removed": [], "kept": []},
             lambda _paint: f"Nothing to remove: {cache_dir} does not exist.")
        return 0
    removed, kept = login.remove_cache_dir(cache_dir)

    def text(_paint: Any) -> str:
        line = f"Removed {len(removed)} file(s) from {cache_dir}"
        if kept:
            shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
            return line + f"; kept {len(kept)} that akslogin did not write or another process holds: {shown}."
        return line + ("; the directory is gone." if not os.path.exists(cache_dir) else ".")

    emit(sys.stdout, args.output, {"cache_dir": cache_dir, "removed": removed, "kept": kept}, text)
    return 0


def _kubeconfig_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to read --context from")
    p.add_argument("--context", metavar="NAME", help="take the sign-in flags from this context's exec plugin")


def _identity(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[TokenOptions, Mapping[str, str]]:
    from akslogin.usecases import login

    flags = signin_options(args, environ)
    opts, env = login.identity_for(flags, args.kubeconfig, args.context, environ)
    if opts is flags:
        check_login(flags)
    return opts, env


def run_login(args: argparse.Namespace) -> int:
    from akslogin.exec_credential import format_timestamp
    from akslogin.usecases import login

    identity, environ = _identity(args, os.environ)
    done = login.login(identity, environ, sys.stderr)
    opts, until = done.opts, format_timestamp(done.token.expires_on)
    who = f"client {opts.client_id}" if opts.client_id else "the default identity"
    data = {"login": opts.login, "client_id": opts.client_id or None, "tenant_id": opts.tenant_id or None,
            "server_id": opts.server_id, "expires_on": until, "cache_dir": done.cache_dir}
    emit(sys.stdout, args.output, data, lambda paint: (
        f"{paint.ok('Signed in')} with --login {opts.login} ({who}, tenant {opts.tenant_id or '-'}): token for "
        f"{opts.server_id} valid until {until}, cached in {done.cache_dir}."))
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from akslogin.tokens import source
    from akslogin.usecases import login

    environ = os.environ
    flags = signin_options(args, environ)
    if args.all or (args.context is None and args.kubeconfig is None and not login.names_an_identity(flags)):
        cache_dir = source.cache_dir_for(flags, environ)
        removed = login.remove_all(cache_dir)
        emit(sys.stdout, args.output, {"cache_dir": cache_dir, "removed": removed},
             lambda _paint: f"Removed {len(removed)} cached token file(s) from {cache_dir}.")
        return 0
    opts, plugin_env = _identity(args, environ)
    cache_dir, removed = login.logout(opts, plugin_env)
    who = f"client {opts.client_id}" if opts.client_id else f"--login {opts.login}"
    emit(sys.stdout, args.output, {"cache_dir": cache_dir, "removed": removed, "login": opts.login,
                                   "client_id": opts.client_id or None, "tenant_id": opts.tenant_id or None},
         lambda _paint: f"Removed {len(removed)} cached token file(s) for {who} (tenant {opts.tenant_id or '-'}) "
                        f"from {cache_dir}.")
    return 0
