"""The ``akslogin`` command. ``get-token`` goes straight to its stdlib-only hot path; everything else
goes through argparse in :mod:`akslogin.cli.app`."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "get-token":
        from akslogin.usecases.get_token import run

        return run(args[1:], os.environ, sys.stdout, sys.stderr)
    from akslogin.cli.app import run_app
    from akslogin.term import degrade_to_ascii

    degrade_to_ascii(sys.stdout)
    degrade_to_ascii(sys.stderr)
    return run_app(args)
