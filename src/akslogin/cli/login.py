"""``akslogin login`` (warm the token cache) and ``akslogin logout`` / ``remove-tokens`` (forget tokens)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.signin_flags import add_signin_flags, signin_options
from akslogin.output import add_output_flag

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
    from akslogin.usecases.login import RemoveCacheDirRequest
    from akslogin.usecases.login import run_remove_cache_dir as remove_cache_dir

    return remove_cache_dir(RemoveCacheDirRequest(args.cache_dir, args.output), os.environ, sys.stdout)


def _kubeconfig_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to read --context from")
    p.add_argument("--context", metavar="NAME", help="take the sign-in flags from this context's exec plugin")


def run_login(args: argparse.Namespace) -> int:
    from akslogin.usecases.login import LoginRequest
    from akslogin.usecases.login import run_login as login

    req = LoginRequest(signin_options(args, os.environ), args.kubeconfig, args.context, output=args.output)
    return login(req, os.environ, sys.stdout, sys.stderr)


def run_logout(args: argparse.Namespace) -> int:
    from akslogin.usecases.login import LoginRequest
    from akslogin.usecases.login import run_logout as logout

    req = LoginRequest(signin_options(args, os.environ), args.kubeconfig, args.context, all=args.all,
                       output=args.output)
    return logout(req, os.environ, sys.stdout)
