"""``akslogin convert-kubeconfig``: kubelogin's convert-kubeconfig, writing akslogin exec plugin users."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.common import add_exec_api_version_arg, exec_api_version
from akslogin.cli.signin_flags import add_signin_flags, signin_options
from akslogin.kubeconfig import embedded

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
    from akslogin.usecases.convert import ConvertRequest
    from akslogin.usecases.convert import run as convert

    req = ConvertRequest(signin=signin_options(args, os.environ, env=False), kubeconfig=args.kubeconfig,
                         context=args.context, exec_command=args.exec_command,
                         allow_secrets=args.allow_secrets_in_kubeconfig, azure_config_dir=args.azure_config_dir,
                         api_version=exec_api_version(args), embed_tokens=args.embed_tokens)
    return convert(req, os.environ, sys.stdout, sys.stderr)
