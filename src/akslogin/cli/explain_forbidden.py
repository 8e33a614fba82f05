"""``akslogin explain-forbidden``: why a request is Forbidden and the binding that would allow it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from akslogin.cli.common import add_context_args, add_output_arg
from akslogin.errors import UsageError

#: A Forbidden message is one line; a pipe that keeps going (a whole log) is cut off, not read to the end.
MAX_MESSAGE_CHARS = 1 << 20

EPILOG = """\
Give the request as for 'kubectl auth can-i', or paste the Forbidden message (use '-' to read it from
stdin). The answer shows who the cluster thinks you are, the decision, the bindings that name you or your
groups (when you may list RBAC objects), the roles that would grant it, and the exact
'akslogin rbac bind' command plus manifest that fixes it.

examples:
  akslogin explain-forbidden list pods -n dev
  akslogin explain-forbidden get deployments.apps/web -n prod
  akslogin explain-forbidden create pods --subresource exec -n dev
  kubectl get nodes 2>&1 | akslogin explain-forbidden --message -
  akslogin explain-forbidden --message 'pods is forbidden: User "alice@contoso.com" cannot list ...'

exit codes: 0 allowed now; 1 denied (explained) or a failure; 2 bad input (flags, no such kubeconfig or
context).
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "explain-forbidden", help="explain a Forbidden answer and print the binding that fixes it",
        description="Explain why the cluster denies a request, and which RoleBinding/ClusterRoleBinding is missing.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("verb", nargs="?", default="", help="verb, e.g. get, list, create, delete, watch, or *")
    p.add_argument("resource", nargs="?", default="",
                   help="resource[.group][/name] (plural, singular or short name), or a non-resource URL like /logs")
    p.add_argument("-n", "--namespace", help="namespace (default: the context's namespace)")
    p.add_argument("--subresource", default="", help="subresource, e.g. log, exec, scale")
    p.add_argument("--message", default="", metavar="TEXT",
                   help="the Forbidden message kubectl printed ('-' reads it from stdin)")
    add_context_args(p)
    add_output_arg(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.explain import ExplainRequest
    from akslogin.usecases.explain import run as explain

    message = _read_message(sys.stdin) if args.message == "-" else args.message
    req = ExplainRequest(kubeconfig=args.kubeconfig, context=args.context, verb=args.verb, resource=args.resource,
                         namespace=args.namespace, subresource=args.subresource, message=message, output=args.output)
    return explain(req, os.environ, sys.stdout, sys.stderr)


def _read_message(stream: TextIO) -> str:
    text = stream.read(MAX_MESSAGE_CHARS + 1)
    if len(text) > MAX_MESSAGE_CHARS:
        raise UsageError("the message on stdin is longer than 1 MiB; a Forbidden message is one line.",
                         "Pipe only kubectl's error (e.g. kubectl get pods 2>&1 >/dev/null | akslogin "
                         "explain-forbidden --message -), or give the request: explain-forbidden list pods -n dev.")
    return text
