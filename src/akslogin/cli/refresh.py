"""``akslogin refresh-kubeconfig``: renew tokens embedded with --embed-tokens (meant for cron)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.errors import UsageError
from akslogin.options import parse_duration

EPILOG = """\
Only users whose token akslogin embedded are touched; their recorded get-token arguments say how to sign in
again, and secrets come from the environment as for get-token. The previous file is kept as
<file>.akslogin-backup (one rolling backup, 0600): it holds the previous tokens too.

examples:
  akslogin refresh-kubeconfig                            # renew what expires within 30 minutes
  */15 * * * *  AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=... akslogin refresh-kubeconfig --kubeconfig ~/.kube/legacy
  akslogin refresh-kubeconfig --context aks-prod --force

exit codes: 0 every embedded token renewed or still fresh; 1 a token could not be renewed; 2 bad flags or no
            kubeconfig.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "refresh-kubeconfig", help="renew tokens embedded in a kubeconfig (for cron)",
        description="Renew the access tokens that get-credentials/convert-kubeconfig --embed-tokens wrote.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: KUBECONFIG, else ~/.kube/config)")
    p.add_argument("--context", metavar="NAME", help="renew only the user of this context")
    p.add_argument("--min-remaining", default="30m", metavar="DURATION",
                   help="renew tokens with less than this left (default 30m)")
    p.add_argument("--force", action="store_true", help="renew every embedded token now")
    p.add_argument("-v", "--v", dest="verbosity", default="0", metavar="LEVEL", help="log verbosity on stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.refresh import RefreshRequest
    from akslogin.usecases.refresh import run as refresh

    try:
        level = int(args.verbosity)
    except ValueError:
        raise UsageError(f"-v takes a number from 0 to 10, not {args.verbosity!r}.") from None
    req = RefreshRequest(kubeconfig=args.kubeconfig, context=args.context, force=args.force, verbosity=level,
                         min_remaining=parse_duration(args.min_remaining), min_remaining_text=args.min_remaining)
    return refresh(req, os.environ, sys.stdout, sys.stderr)
