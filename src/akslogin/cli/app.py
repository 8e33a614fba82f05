"""Argument parsing for every command except the get-token hot path. Thin: parse, call, render."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from akslogin import __version__
from akslogin.errors import guarded
from akslogin.term import Painter

DESCRIPTION = """\
Sign in to AKS clusters that use Microsoft Entra ID, without anyone at the keyboard.

akslogin is a kubectl exec credential plugin compatible with Azure/kubelogin's get-token flags, for every
login mode, with a fast on-disk token cache; it fetches kubeconfigs from Azure Resource Manager, explains who
you are and why a request is Forbidden, audits kubeconfigs, and carries an offline emulator of Entra ID, ARM
and AKS for tests and demos.
"""

EPILOG = """\
examples:
  akslogin get-credentials --login spn -t <tenant> -g <rg> -n <cluster>   # kubeconfig from ARM, ready for kubectl
  akslogin get-token --login spn --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 -t <tenant> --client-id <app>
  akslogin convert-kubeconfig -l azurecli      # switch kubelogin kubeconfigs to akslogin
  akslogin login                                # sign in now for the current context (no prompt later)
  akslogin whoami                               # who the cluster thinks you are
  akslogin doctor                               # the first broken link between kubeconfig and the cluster
  akslogin emulator --state-dir ./.state        # the offline Entra ID + ARM + AKS emulator
  kubectl akslogin --version                    # also works as a kubectl plugin
  source <(akslogin completion bash)            # shell completion (bash, zsh, fish)

Each command has its own --help with examples. Data output: -o table|json|yaml where a command prints data.
Colour only on a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 forces it.

exit codes: 0 success; 1 sign-in, network, cluster or file failure (or, for checks, a finding);
            2 bad flags or input; 130 interrupted. Details per command: docs/cli.md.
"""


#: Modules under akslogin.cli that each define ``register(subparsers)``; one line per command group.
COMMAND_MODULES: list[str] = [
    # sign-in and kubeconfigs
    "get_credentials",
    "convert",
    "login",
    "refresh",
    # when something is wrong
    "whoami",
    "explain_forbidden",
    "rbac",
    "doctor",
    "audit",
    # tools
    "shim",
    "emulator",
    "completion",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="akslogin", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"akslogin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("get-token", help="print an ExecCredential for kubectl (see 'akslogin get-token --help')",
                   add_help=False)
    for name in COMMAND_MODULES:
        importlib.import_module(f"akslogin.cli.{name}").register(sub)
    help_cmd = sub.add_parser("help", help="show the help of akslogin or of one command ('akslogin help get-token')",
                              description="Show the help of akslogin, or of COMMAND (as 'akslogin COMMAND --help').",
                              epilog="examples:\n  akslogin help\n  akslogin help get-token\n\n"
                                     "exit codes: 0 shown; 2 unknown command.",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    help_cmd.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")
    help_cmd.set_defaults(handler=lambda args: _help(parser, args.topic))
    return parser


def _help(parser: argparse.ArgumentParser, topic: str | None) -> int:
    """``akslogin help [COMMAND]``, as kubelogin (cobra) has it."""
    from akslogin.errors import UsageError

    if topic is None:
        parser.print_help()
        return 0
    if topic == "get-token":
        from akslogin import options

        sys.stdout.write(options.render_help() + "\n")
        return 0
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if topic not in subs.choices:
        raise UsageError(f"unknown command {topic[:40]!r}.", "Commands: " + ", ".join(sorted(subs.choices)) + ".")
    subs.choices[topic].print_help()
    return 0


def _reject_unknown(parser: argparse.ArgumentParser, argv: list[str], extra: list[str]) -> None:
    """Report unknown arguments with the usage of the (sub)command they were given to, and the nearest flag."""
    import difflib

    current = parser
    for token in argv:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and token in subs[0].choices:
            current = subs[0].choices[token]
    known = [o for a in current._actions for o in a.option_strings]
    hint = ""
    first = extra[0].split("=", 1)[0]
    if first.startswith("-"):
        close = difflib.get_close_matches(first, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
    current.error(f"unrecognized arguments: {' '.join(extra)}{hint}")


def run_app(argv: Sequence[str]) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _reject_unknown(parser, list(argv), extra)
    if args.command is None:
        parser.print_help()
        return 2
    return guarded(lambda: int(args.handler(args)), sys.stderr, os.environ, Painter(sys.stderr).bad)
