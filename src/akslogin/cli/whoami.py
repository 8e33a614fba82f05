"""``akslogin whoami``: the identity in the context's token next to the identity the cluster sees."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.common import add_context_args, add_output_arg, add_verbosity_arg

EPILOG = """\
The token is obtained the way the context's exec plugin would (akslogin/kubelogin get-token in-process,
from the cache when possible; any other plugin is run as kubectl runs it). It is never printed.

examples:
  akslogin whoami                         # current context
  akslogin whoami --context aks-prod --verify
  akslogin whoami -o json | jq .cluster.groups

exit codes: 0 the cluster confirmed the identity (and --verify passed); 1 otherwise; 2 bad flags, no such kubeconfig or
context.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "whoami", help="show who the context's token says you are, and who the cluster says you are",
        description="Show the identity in the token a context presents (type, UPN, object id, app id, tenant, "
                    "groups or group overage, audience, lifetime) next to the cluster's SelfSubjectReview.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_context_args(p)
    add_output_arg(p)
    add_verbosity_arg(p)
    p.add_argument("--verify", action="store_true",
                   help="verify the token's signature, issuer and lifetime against the tenant's published keys")
    p.add_argument("--authority-host", metavar="URL", default="",
                   help="authority for --verify when the context does not name one (default: its cloud's)")
    p.add_argument("--certificate-authority", metavar="FILE", action="append", default=[],
                   help="extra CA bundle to trust for the authority (repeatable)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.whoami import WhoamiRequest
    from akslogin.usecases.whoami import run as whoami

    req = WhoamiRequest(kubeconfig=args.kubeconfig, context=args.context, verify=args.verify, output=args.output,
                        authority_host=args.authority_host, certificate_authority=args.certificate_authority,
                        verbosity=args.verbosity)
    return whoami(req, os.environ, sys.stdout, sys.stderr)
