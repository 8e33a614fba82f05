"""Opening the user's web browser for interactive sign-in, or saying clearly that there is none.

The launcher is a plain callable (URL → opened?) so tests and embedders can inject their own. ``$BROWSER``
is honoured from the environment akslogin was given (as :mod:`webbrowser` does from the process's): each
``os.pathsep``-separated command is tried in turn, with ``%s`` replaced by the URL or the URL appended.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping

Launcher = Callable[[str], bool]
#: A $BROWSER command still running after this long is a browser that stays open: count it as opened.
SETTLE_SECONDS = 10.0


def system_browser(environ: Mapping[str, str]) -> Launcher | None:
    """$BROWSER, else the desktop's browser via :mod:`webbrowser`, or None on a headless machine."""
    commands = [c for c in environ.get("BROWSER", "").split(os.pathsep) if c.strip()]
    if commands:
        return lambda url: any(_run(command, url, environ) for command in commands)
    graphical = bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")
    if not graphical:
        return None

    def launch(url: str) -> bool:
        import webbrowser

        try:
            return bool(webbrowser.open(url))
        except webbrowser.Error:
            return False

    return launch


def _run(command: str, url: str, environ: Mapping[str, str]) -> bool:
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if not argv:
        return False
    argv = [a.replace("%s", url) for a in argv] if any("%s" in a for a in argv) else [*argv, url]
    try:
        proc = subprocess.Popen(argv, env=dict(environ), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return False
    try:
        return proc.wait(timeout=SETTLE_SECONDS) == 0
    except subprocess.TimeoutExpired:
        return True
