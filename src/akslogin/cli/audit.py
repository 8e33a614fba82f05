"""``akslogin audit``: security scan of kubeconfig files (for people and CI gates)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.output import add_output_flag

EPILOG = """\
Checks: AKS admin credentials (clusterAdmin_*, system:masters certificates: cannot be revoked), other client
certificates and static tokens, the legacy azure auth-provider and its plain-text refresh tokens, secrets in
exec args or env, insecure-skip-tls-verify, plain-HTTP servers, file modes wider than 0600, exec plugins
missing from PATH, expired or expiring certificates and tokens. Findings name entries and flags, never
secret values. See docs/audit.md for every finding id.

--fix applies only safe rewrites (mode 0600, removing secret flags from exec args, removing stored legacy
tokens) after confirmation (--yes in CI), keeping a backup of each changed file.

examples:
  akslogin audit                               # $KUBECONFIG or ~/.kube/config
  akslogin audit ./ci/kubeconfig --fail-on critical -o json
  akslogin audit -o yaml | yq '.summary'                 # counts by severity
  akslogin audit --fix

exit codes: 0 no finding at or above --fail-on (default high); 1 at least one; 2 bad flags or no file.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "audit", help="security scan of kubeconfig files (admin certs, plain-text secrets, weak settings)",
        description="Scan kubeconfig files for risky credentials and settings, each with why it matters and the fix.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="KUBECONFIG", help="files to scan (default: what kubectl reads)")
    p.add_argument("--kubeconfig", metavar="FILE", help="scan this file (as kubectl --kubeconfig)")
    p.add_argument("--fail-on", default="high", metavar="SEVERITY",
                   help="exit 1 when a finding is at least this severe: low, medium, high (default), critical, "
                        "or none")
    add_output_flag(p)
    p.add_argument("--fix", action="store_true", help="apply the safe rewrites (asks first; a backup is kept)")
    p.add_argument("--yes", action="store_true", help="with --fix: do not ask (for CI)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.audit import AuditRequest
    from akslogin.usecases.audit import run as audit

    req = AuditRequest(files=args.files, kubeconfig=args.kubeconfig, fail_on=args.fail_on, output=args.output,
                       fix=args.fix, yes=args.yes)
    return audit(req, os.environ, sys.stdout, sys.stderr, sys.stdin)
