"""``akslogin doctor``: find the first broken link between a kubeconfig context and an authorized request."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.common import add_context_args, add_output_arg, add_verbosity_arg

EPILOG = """\
Checks, in order, stopping at the first failure: kubeconfig parses; context, cluster and user exist; the
credential is usable (exec command on PATH, certificate/token not expired); the login mode has what it
needs (flags, env vars, files, az signed in); the authority is reachable and its TLS certificate trusted;
a token is obtained for the right audience; the API server is reachable and trusted; the cluster accepts
the token (clock skew, wrong tenant and wrong server id are told apart); a basic read (list pods) is
allowed — and when it is not, why (as explain-forbidden).

examples:
  akslogin doctor
  akslogin doctor --context aks-prod -n payments
  akslogin doctor -o json | jq '.steps[] | select(.status=="fail")'

exit codes: 0 every check passed; 1 a check failed; 2 bad flags, no such kubeconfig or context.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor", help="check every link from kubeconfig to an authorized request; stop at the first broken one",
        description="Walk the chain kubeconfig → credential → sign-in → API server → RBAC and say what to fix.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_context_args(p)
    p.add_argument("-n", "--namespace", help="namespace for the basic read (default: the context's namespace)")
    add_output_arg(p)
    add_verbosity_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.doctor import DoctorRequest
    from akslogin.usecases.doctor import run as doctor

    req = DoctorRequest(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace,
                        output=args.output, verbosity=args.verbosity)
    return doctor(req, os.environ, sys.stdout, sys.stderr)
