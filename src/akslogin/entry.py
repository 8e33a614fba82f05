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
    """End get-token's process. After a sign-in (the engine is loaded: requests, urllib3, MSAL and a few hundred
    modules), without the interpreter's teardown, which frees every module one by one for nobody: some 20 ms of
    every sign-in kubectl waits for. The output is flushed and atexit handlers run first; files get-token
    writes are complete before it prints (replaced atomically), and the kernel closes sockets and releases
    the cache's locks. After a cached token, teardown is short: the usual exit."""
    if "requests" not in sys.modules:
        return code
    import atexit
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # kubectl closed the pipe, or the stream is closed
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
