"""Terminal styling: colour only for a person at a terminal who has not said NO_COLOR.

Rules (https://no-color.org and the FORCE_COLOR convention), in order:

1. ``NO_COLOR`` set to anything but the empty string: never colour;
2. ``FORCE_COLOR`` set to anything but ``""``/``0``/``false``: colour even into a pipe (CI logs that render ANSI);
3. ``TERM=dumb``: no colour;
4. otherwise colour only when the stream is a terminal.

Everything that styles text goes through :class:`Painter`, so the rules live in one place. Stdlib only and
cheap to import; not used on the get-token hot path (kubectl shows a plugin's stderr as it is).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


def is_terminal(stream: TextIO | None) -> bool:
    """True when ``stream`` is an interactive terminal (progress lines and colour make sense there)."""
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or exotic streams
        return False


def color_enabled(stream: TextIO | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` may carry ANSI colour (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    force = env.get("FORCE_COLOR")
    if force is not None and force.strip().lower() not in ("", "0", "false", "no"):
        return True
    if env.get("TERM", "") == "dumb":
        return False
    return is_terminal(stream)


class Painter:
    """Styles text for one stream; a no-op when colour is off, so callers never branch on it."""

    def __init__(self, stream: TextIO | None, environ: Mapping[str, str] | None = None,
                 enabled: bool | None = None) -> None:
        self.enabled = color_enabled(stream, environ) if enabled is None else enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def bold(self, text: str) -> str:
        return self(text, "bold")

    def dim(self, text: str) -> str:
        return self(text, "dim")

    def ok(self, text: str) -> str:
        return self(text, "green")

    def warn(self, text: str) -> str:
        return self(text, "yellow")

    def bad(self, text: str) -> str:
        return self(text, "red")

    def marks(self, text: str, styles: dict[str, tuple[str, ...]]) -> str:
        """``text`` with each exact token of ``styles`` styled: for output laid out first and coloured last,
        so colour never changes a width or a line break."""
        if not self.enabled:
            return text
        for token, style in styles.items():
            text = text.replace(token, self(token, *style))
        return text

    def status(self, text: str) -> str:
        """Colour a result word by what it means (ok / skipped / failed / critical...)."""
        word = text.split(":", 1)[0].strip().lower()
        if word in ("ok", "pass", "passed", "imported", "renewed", "allowed", "yes", "approved", "unchanged"):
            return self.ok(text)
        if word in ("skipped", "warn", "warning", "medium", "low", "still fresh"):
            return self.warn(text)
        if word in ("failed", "fail", "error", "denied", "no", "critical", "high"):
            return self.bad(text)
        return text


#: What the few non-ASCII characters akslogin prints become on a console that cannot show them.
_ASCII = {"—": "--", "–": "-", "…": "...", "→": "->", "←": "<-", "✓": "ok", "✗": "x", "✔": "ok", "✘": "x",
          "•": "*", "·": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "≥": ">=", "≤": "<=", "×": "x",
          "⚠": "!", "│": "|", "─": "-", "└": "`", "├": "|"}


def _degrade(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(_ASCII.get(ch, "?") for ch in text), exc.end


def degrade_to_ascii(stream: TextIO) -> None:
    """Make ``stream`` print what its encoding cannot (ASCII, latin-1, a cp1252 Windows console) as ASCII
    look-alikes instead of failing with UnicodeEncodeError."""
    import codecs

    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if encoding in ("utf8", "utf8sig", "utf16", "utf32") or not hasattr(stream, "reconfigure"):
        return
    try:
        codecs.lookup_error("akslogin-ascii")
    except LookupError:
        codecs.register_error("akslogin-ascii", _degrade)
    try:
        stream.reconfigure(errors="akslogin-ascii")
    except (AttributeError, ValueError, OSError):
        return
