"""The ``akslogin`` command. ``get-token`` goes straight to its stdlib-only hot path; everything else
goes through argparse in :mod:`akslogin.cli.app`."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


#: Commands that take -v: kubelogin's global "-v N" before the command is handed to them.
_TAKE_V = frozenset({"get-token", "get-credentials", "convert-kubeconfig", "login", "logout", "remove-tokens",
                     "whoami", "doctor", "refresh-kubeconfig"})


def global_flags(args: list[str]) -> list[str]:
    """kubelogin's root flags before the command (``-v 5``, ``-v5``, ``--v=5``, ``--logtostderr[=true]``), as
    kubeconfigs written for kubelogin carry them: -v moves behind the command (a -v of the command's own,
    later, still wins), --logtostderr is accepted and has no effect (akslogin always logs to stderr)."""
    level: str | None = None
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name in ("-v", "--v") and (eq or i + 1 < len(args)):
            level, i = (value, i + 1) if eq else (args[i + 1], i + 2)
        elif len(name) > 2 and name.startswith("-v") and name[2:].isdigit() and not eq:
            level, i = name[2:], i + 1
        elif name in ("--logtostderr", "--alsologtostderr"):
            i += 1
        else:
            break
    rest = args[i:]
    if rest and rest[0] != "get-token":  # cobra takes root flags after the command too; get-token parses its own
        cut = rest.index("--") if "--" in rest else len(rest)
        rest = [a for a in rest[:cut] if a.partition("=")[0] not in ("--logtostderr", "--alsologtostderr")] + rest[cut:]
    if level is not None and rest and rest[0] in _TAKE_V:
        rest = [rest[0], "-v", level, *rest[1:]]
    return rest


def main(argv: Sequence[str] | None = None) -> int:
    args = global_flags(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] == "get-token":
        from akslogin.usecases.get_token import run

        return run(args[1:], os.environ, sys.stdout, sys.stderr)
    from akslogin.errors import report, stop_on_signals
    from akslogin.leanimport import import_requests
    from akslogin.options import check_utf8

    try:
        for arg in args:
            check_utf8(arg)
    except Exception as exc:
        return report(exc, sys.stderr, os.environ)
    stop_on_signals()  # commands that hold kubectl's lock release it on SIGTERM/SIGHUP too
    import_requests()  # before any command's imports load it
    from akslogin.cli.app import run_app
    from akslogin.term import degrade_to_ascii

    degrade_to_ascii(sys.stdout)
    degrade_to_ascii(sys.stderr)
    return run_app(args)
