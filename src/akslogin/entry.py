"""The ``akslogin`` and ``kubectl-akslogin`` commands: one console-script entry point on every platform.

Installers generate the command from this function (an ``.exe`` on Windows, a small script elsewhere), so one
universal wheel gives every platform its ``akslogin``. kubectl's call, ``akslogin get-token ...``, goes straight
to the cached-token path: nothing of the CLI is imported for it. Everything else, root flags before the command
included (``akslogin -v 5 get-token``), is :mod:`akslogin.cli`'s.
"""

import sys


def main() -> int:
    if sys.argv[1:2] == ["get-token"]:
        import os

        from akslogin.usecases.get_token import run

        return run(sys.argv[2:], os.environ, sys.stdout, sys.stderr)
    from akslogin.cli import main as cli_main

    return cli_main()
