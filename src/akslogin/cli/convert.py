"""``akslogin convert-kubeconfig``: kubelogin's convert-kubeconfig, writing akslogin exec plugin users."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin import options
from akslogin.cli.common import add_exec_api_version_arg, exec_api_version
from akslogin.cli.signin_flags import add_signin_flags, check_login, signin_options
from akslogin.errors import UsageError
from akslogin.kubeconfig import embedded, files, paths
from akslogin.kubeconfig.execblock import SECRET_DESTS, flag_for
from akslogin.kubeconfig.model import known_contexts
from akslogin.log import Log
from akslogin.output import summarize_list

#: Users named in the one-line summary (a 5000-user file gets a count, not a wall of names).
USERS_SHOWN = 20

EPILOG = """\
Converted: users with the legacy 'auth-provider: azure' and users whose exec command is kubelogin or akslogin;
every other user is left untouched. Values given as flags win over values read from the file; environment
variables are not written (they still apply when kubectl runs the plugin). Without --login (or
AAD_LOGIN_METHOD) a converted exec user keeps its login mode; an auth-provider user becomes devicecode.
A timestamped backup (<file>.akslogin-backup-<time>, 0600) is kept next to each file that changes.

examples:
  akslogin convert-kubeconfig -l spn                     # CI: the secret comes from the environment
  akslogin convert-kubeconfig -l workloadidentity        # in a pod with Azure Workload Identity
  akslogin convert-kubeconfig -l azurecli --context aks-prod
  akslogin convert-kubeconfig -l msi --client-id <identity client id>
  akslogin convert-kubeconfig -l spn --embed-tokens token  # for a client that cannot run exec plugins

exit codes: 0 converted (or nothing to convert); 1 a file could not be written, or --embed-tokens could not sign
            in; 2 bad flags, a secret without --allow-secrets-in-kubeconfig, no such file or context.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "convert-kubeconfig", help="convert Entra users of a kubeconfig to the akslogin exec plugin",
        description="Rewrite kubeconfig users that sign in with Entra ID (legacy azure auth-provider, kubelogin or "
                    "akslogin exec) into an akslogin exec plugin for the chosen login mode.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: KUBECONFIG, else ~/.kube/config)")
    p.add_argument("--context", metavar="NAME", help="convert only the user of this context")
    p.add_argument("--exec-command", default="akslogin", metavar="CMD",
                   help="command the exec plugin runs (default 'akslogin' from PATH)")
    p.add_argument("--allow-secrets-in-kubeconfig", action="store_true",
                   help="write --client-secret / --password / --client-certificate-password into the exec arguments "
                        "(clear text; a warning is printed). Without it, giving one of them is an error")
    p.add_argument("--azure-config-dir", metavar="DIR", help="AZURE_CONFIG_DIR for --login azurecli")
    add_exec_api_version_arg(p)
    p.add_argument("--embed-tokens", nargs="?", const="auth-provider", choices=embedded.STYLES, metavar="STYLE",
                   help="embed a current token instead (auth-provider or token); see refresh-kubeconfig")
    add_signin_flags(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.convert import ConvertOptions, convert_file
    from akslogin.usecases.embed import embed_users, warn_embedded

    environ = os.environ
    flags = signin_options(args, environ, env=False)
    secrets = sorted(d for d in SECRET_DESTS if d in flags.explicit)
    login: str | None = flags.login if "login" in flags.explicit else None
    if login is None and not flags.disable_environment_override and environ.get("AAD_LOGIN_METHOD"):
        login = environ["AAD_LOGIN_METHOD"]
    if login is not None:
        flags.login = login
        check_login(flags)
        login = flags.login
    given = {d: getattr(flags, d) for d in flags.explicit if d not in ("login", "verbosity")}
    opts = ConvertOptions(login=login, given=given, context=args.context, command=args.exec_command,
                          allow_secrets=args.allow_secrets_in_kubeconfig, azure_config_dir=args.azure_config_dir,
                          api_version=exec_api_version(args))
    log = Log(flags.verbosity_level, sys.stderr)
    targets = _targets(args.kubeconfig, args.context, environ, opts)
    if secrets and not args.allow_secrets_in_kubeconfig:
        _check_secrets(secrets, targets, opts)
    converted = 0
    for path, user in targets:
        opts.user = user
        done = convert_file(path, opts, embed_style=args.embed_tokens,
                            embed_with=lambda cfg, users, style: embed_users(cfg, users, style, environ, sys.stderr,
                                                                            log))
        converted += len(done.result.converted)
        if done.changed:
            print(f"Converted {len(done.changed)} user(s) in {path}: {summarize_list(done.changed, USERS_SHOWN)} "
                  f"(backup: {done.backup})")
        elif done.result.converted:
            print(f"{path} is already converted ({summarize_list(done.result.converted, USERS_SHOWN)}); "
                  "nothing changed.")
        if done.result.secrets_written:
            sys.stderr.write(f"akslogin: warning: {', '.join(done.result.secrets_written)} written in clear text "
                             f"into {path}. Anyone who can read the file can sign in as this identity.\n")
        if done.embedded:
            warn_embedded(sys.stderr, path, done.embedded, done.earliest_expiry)
    if not converted:
        print("No Entra ID user to convert (only users with auth-provider azure or a kubelogin/akslogin exec "
              "command are converted).")
    return 0


def _check_secrets(secrets: list[str], targets: list[tuple[str, str | None]], opts: Any) -> None:
    """A secret flag is refused only where it would be written (kubelogin writes --client-secret for spn, and
    --password for ropc, nothing else); for the other modes it is not written, which one note says."""
    from akslogin.kubeconfig.execblock import writes
    from akslogin.usecases.convert import modes_in

    modes: set[str] = set()
    for path, user in targets:
        opts.user = user
        modes |= modes_in(path, opts)
    opts.user = None
    written = [d for d in secrets if any(writes(mode, d) for mode in modes)]
    if written:
        names = ", ".join(flag_for(d) for d in written)
        variables = ", ".join(f"{options.variable_for(d)} for {flag_for(d)}" for d in written)
        raise UsageError(f"{names} would be written in clear text into the kubeconfig.",
                         "Pass --allow-secrets-in-kubeconfig if you mean it, or leave it out and provide it at kubectl "
                         f"time through the environment ({variables}); nothing was changed.")
    for dest in secrets:
        used_by = ", ".join(f"--login {m}" for m in sorted(modes)) or "the users converted here"
        sys.stderr.write(f"akslogin: note: {flag_for(dest)} is not used by {used_by}; it is not written.\n")


def _targets(explicit: str | None, context: str | None, environ: Any,
             opts: Any) -> list[tuple[str, str | None]]:
    """(file, only this user) pairs: every readable kubeconfig file, or the file holding the context's user."""
    candidates = paths.read_paths(explicit, environ)
    existing = [p for p in candidates if os.path.exists(p)]
    if explicit and not existing:
        raise UsageError(f"the kubeconfig {explicit} does not exist.")
    if not existing:
        raise UsageError(f"no kubeconfig found (looked at {', '.join(candidates)}).",
                         "Pass --kubeconfig or set KUBECONFIG.")
    if context is None:
        return [(p, None) for p in existing]
    loaded = [(p, files.load(p)) for p in existing]
    body = next((cfg.get("contexts", context) for _, cfg in loaded if cfg.get("contexts", context) is not None), None)
    if body is None:
        known = sorted({n for _, cfg in loaded for n in cfg.names("contexts")})
        raise UsageError(f"no context exists with the name: {context!r}.", known_contexts(known))
    user = str(body.get("user") or "")
    holder = next((p for p, cfg in loaded if cfg.get("users", user) is not None), None)
    if holder is None:
        raise UsageError(f"context {context!r} refers to user {user!r}, which no kubeconfig file defines.")
    return [(holder, user)]
