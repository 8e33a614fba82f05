"""``akslogin login`` (warm the token cache) and ``akslogin logout`` / ``remove-tokens`` (forget tokens)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from akslogin.cli.signin import add_signin_flags, check_login, signin_options
from akslogin.errors import ConfigError, UsageError
from akslogin.kubeconfig import embedded, files, paths
from akslogin.options import TokenOptions

LOGIN_EPILOG = """\
Signs in now and caches the token exactly where 'akslogin get-token' (and so kubectl) looks for it, so later
kubectl runs are served from the cache (a device-code sign-in happens here, not in the middle of a script).
Without sign-in flags, the flags come from a kubeconfig context's exec plugin (--context, or the current one).

examples:
  akslogin login                                      # the current context's identity
  akslogin login --context aks-prod
  akslogin login -l spn -t <tenant> --client-id <app> # flags as for get-token (--server-id defaults to AKS)
"""

LOGOUT_EPILOG = """\
Deletes cached tokens. With sign-in flags or --context: only that identity's tokens (for the AKS server app and
Resource Manager, or the --server-id given). Without either, or with --all: every cached token.

examples:
  akslogin logout --all
  akslogin logout --context aks-prod
  akslogin logout -l spn -t <tenant> --client-id <app>
"""
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"  # the AKS server app, the same in every cloud
#: Flags that only say where the cache is or how verbose to be: they do not pick an identity.
NOT_IDENTITY = frozenset({"cache_dir", "verbosity", "timeout", "certificate_authority"})


def register(sub: Any) -> None:
    p = sub.add_parser("login", help="sign in now and cache the token for kubectl",
                       description="Sign in and warm akslogin's token cache.", epilog=LOGIN_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    _kubeconfig_flags(p)
    add_signin_flags(p)
    p.set_defaults(handler=run_login)

    q = sub.add_parser("logout", aliases=["remove-tokens"], help="delete cached tokens (one identity or all)",
                       description="Delete akslogin's cached tokens.", epilog=LOGOUT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    _kubeconfig_flags(q)
    q.add_argument("--all", action="store_true", help="every cached token in the cache directory")
    add_signin_flags(q)
    q.set_defaults(handler=run_logout)


def _kubeconfig_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to read --context from")
    p.add_argument("--context", metavar="NAME", help="take the sign-in flags from this context's exec plugin")


def _identity_flags_given(opts: TokenOptions) -> bool:
    return bool(opts.explicit - NOT_IDENTITY)


def context_args(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> list[str]:
    """The get-token arguments of a context's user (akslogin/kubelogin exec plugin or embedded token)."""
    from akslogin.usecases.convert import is_entra_user

    loaded = [files.load(p) for p in paths.read_paths(kubeconfig, environ) if os.path.exists(p)]
    if not loaded:
        raise UsageError("no kubeconfig found to read the context from.",
                         "Pass sign-in flags (as for get-token), --kubeconfig or set KUBECONFIG.")
    name = context or next((c.current_context for c in loaded if c.current_context), "")
    body = next((c.get("contexts", name) for c in loaded if name and c.get("contexts", name) is not None), None)
    if body is None:
        raise UsageError(f"no context named {name!r}." if name else "the kubeconfig has no current context.",
                         "Pass --context NAME or sign-in flags.")
    user_name = str(body.get("user") or "")
    user = next((c.get("users", user_name) for c in loaded if c.get("users", user_name) is not None), None)
    if user is None or not is_entra_user(user):
        raise ConfigError(f"the user of context {name!r} does not sign in with akslogin or kubelogin.",
                          "Run 'akslogin convert-kubeconfig', or pass sign-in flags.")
    recorded = embedded.embedded_args(user)
    if recorded is not None:
        return recorded
    block = user.get("exec")
    if not isinstance(block, dict):
        raise ConfigError(f"the user of context {name!r} uses the legacy azure auth-provider.",
                          "Run 'akslogin convert-kubeconfig' first, or pass sign-in flags.")
    return [str(a) for a in block.get("args") or []]


def _identity(args: argparse.Namespace, environ: Mapping[str, str]) -> TokenOptions:
    from akslogin.usecases.access import options_from_exec_args

    flags = signin_options(args, environ)
    if args.context is not None or args.kubeconfig is not None or not _identity_flags_given(flags):
        opts = options_from_exec_args(context_args(args.kubeconfig, args.context, environ), environ)
        for dest in NOT_IDENTITY & flags.explicit:  # e.g. -v, --cache-dir given on the command line
            setattr(opts, dest, getattr(flags, dest))
        return opts
    check_login(flags)
    return flags


def run_login(args: argparse.Namespace) -> int:
    from akslogin.exec_credential import format_timestamp
    from akslogin.log import Log
    from akslogin.usecases import access

    environ = os.environ
    identity = _identity(args, environ)
    opts = access.for_resource(identity, identity.server_id or AKS_SERVER_ID)
    token = access.obtain(opts, environ, sys.stderr, Log(opts.verbosity_level, sys.stderr))
    who = f"client {opts.client_id}" if opts.client_id else "the default identity"
    print(f"Signed in with --login {opts.login} ({who}, tenant {opts.tenant_id or '-'}): token for {opts.server_id} "
          f"valid until {format_timestamp(token.expires_on)}, cached in {access.cache_dir_for(opts, environ)}.")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from akslogin.usecases import access, tokens

    environ = os.environ
    flags = signin_options(args, environ)
    cache_dir = access.cache_dir_for(flags, environ)
    if args.all or (args.context is None and args.kubeconfig is None and not _identity_flags_given(flags)):
        removed = tokens.remove_all(cache_dir)
        print(f"Removed {len(removed)} cached token file(s) from {cache_dir}.")
        return 0
    opts = _identity(args, environ)
    cache_dir = access.cache_dir_for(opts, environ)
    removed = tokens.remove_identity(cache_dir, tokens.identity_keys(opts, tokens.servers_of(opts), environ))
    who = f"client {opts.client_id}" if opts.client_id else f"--login {opts.login}"
    print(f"Removed {len(removed)} cached token file(s) for {who} (tenant {opts.tenant_id or '-'}) from {cache_dir}.")
    return 0
