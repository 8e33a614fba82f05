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

        return leave(run(sys.argv[2:], os.environ, sys.stdout, sys.stderr))
    from akslogin.cli import main as cli_main

    return cli_main()


def leave(code: int) -> int:
    """End get-token's process without the interpreter's teardown, which frees every module and object one by
    one for nobody: about 2 ms even for ``python -c pass`` (the whole of a cached token's own work is less),
    some 20 ms after a sign-in, and kubectl waits for the exit. The output is flushed and atexit handlers run
    first; files get-token writes are complete before it prints (replaced atomically), a background renewal
    is its own detached process, and the kernel closes sockets and releases the cache's locks."""
    import atexit
    import os

    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib would import collections and functools: more than this whole path)
            stream.flush()
        except (OSError, ValueError):  # kubectl closed the pipe, or the stream is closed
            pass
    atexit._run_exitfuncs()
    os._exit(code)
