"""``akslogin refresh-kubeconfig``: renew tokens embedded with --embed-tokens (meant for cron)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.errors import UsageError
from akslogin.kubeconfig import paths
from akslogin.log import Log
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
    from akslogin.usecases.embed import refresh_kubeconfig, warn_embedded

    try:
        level = int(args.verbosity)
    except ValueError:
        raise UsageError(f"-v takes a number from 0 to 10, not {args.verbosity!r}.") from None
    min_remaining = parse_duration(args.min_remaining)
    environ = os.environ
    log = Log(level, sys.stderr)
    targets = [p for p in paths.read_paths(args.kubeconfig, environ) if os.path.exists(p)]
    if not targets:
        raise UsageError("no kubeconfig found.", "Pass --kubeconfig or set KUBECONFIG.")
    failed = 0
    for path in targets:
        if args.context is not None and len(targets) > 1 and not _has_context(path, args.context):
            continue
        result = refresh_kubeconfig(path, context=args.context, min_remaining=min_remaining, force=args.force,
                                    environ=environ, stderr=sys.stderr, log=log)
        for name, reason in result.failed:
            sys.stderr.write(f"akslogin: could not renew the token of user {name!r} in {path}: {reason}\n")
        failed += len(result.failed)
        if result.renewed:
            print(f"Renewed {len(result.renewed)} embedded token(s) in {path}: {', '.join(result.renewed)}"
                  f" (backup: {path}.akslogin-backup)")
            warn_embedded(sys.stderr, path, len(result.renewed), result.earliest)
        if result.still_fresh:
            print(f"{len(result.still_fresh)} token(s) in {path} still have more than {args.min_remaining} left: "
                  f"{', '.join(result.still_fresh)}")
        if not (result.renewed or result.still_fresh or result.failed):
            print(f"No token embedded by akslogin in {path}.")
    return 1 if failed else 0


def _has_context(path: str, context: str) -> bool:
    from akslogin.kubeconfig import files

    return files.load(path).get("contexts", context) is not None
