"""Opening the user's web browser for interactive sign-in, or saying clearly that there is none.

The launcher is a plain callable (URL → opened?) so tests and embedders can inject their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

Launcher = Callable[[str], bool]


def system_browser(environ: Mapping[str, str]) -> Launcher | None:
    """The desktop's browser via :mod:`webbrowser` (honours $BROWSER), or None on a headless machine."""
    graphical = bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")
    if not environ.get("BROWSER") and not graphical:
        return None

    def launch(url: str) -> bool:
        import webbrowser

        try:
            return bool(webbrowser.open(url))
        except webbrowser.Error:
            return False

    return launch
