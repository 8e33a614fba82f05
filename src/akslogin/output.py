"""How results are shown, in one place: ``--output table|json|yaml`` and the text helpers of the human view.

A command builds plain data (dicts, lists, strings, numbers: never tokens or secrets) and a table view of
it; :func:`emit` writes whichever the user asked for. JSON and YAML are for scripts, so they are never
coloured; the table is for people and styled through :mod:`akslogin.term` (what the terminal can show). The
text helpers (times, aligned columns, indented paragraphs, short lists) are at the end.
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from akslogin.term import Painter

FORMATS = ("table", "json", "yaml")


def add_output_flag(parser: argparse.ArgumentParser, *, choices: Sequence[str] = FORMATS,
                    default: str = "table") -> None:
    """The shared ``-o/--output`` flag."""
    parser.add_argument("-o", "--output", choices=tuple(choices), default=default, metavar="FORMAT",
                        help=f"output format: {', '.join(choices)} (default {default}); json and yaml are for "
                             "scripts and never hold tokens or secrets")


def render_data(data: Any, fmt: str) -> str:
    """``data`` as JSON (2-space indent) or YAML (block style, key order kept), ending with a newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    if fmt == "yaml":
        from akslogin import yaml11

        return yaml11.dump(data)
    raise ValueError(f"not a data format: {fmt!r}")


def emit(stream: TextIO, fmt: str, data: Any, table: Callable[[Painter], str]) -> None:
    """Write ``data`` in ``fmt``; for ``table``, the text ``table(painter)`` builds for ``stream``."""
    text = table(Painter(stream)) if fmt == "table" else render_data(data, fmt)
    if text and not text.endswith("\n"):
        text += "\n"
    stream.write(text)
    stream.flush()


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)]}
_CONTROL_BUT_NEWLINE = {c: v for c, v in _CONTROL.items() if c != 0x0A}


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with C0 and C1 control characters (ESC, CR, BEL, CSI, ...) shown as ``\\xNN``: a name out of a
    kubeconfig or a server's answer cannot move the cursor, clear the screen or forge a line of the report.
    ``keep_newlines`` for a whole rendered text whose values were escaped already."""
    return text.translate(_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], painter: Painter | None = None, *,
          status_column: int | None = None, indent: int = 0) -> str:
    """Left-aligned columns under a bold header; the last column is not padded. ``status_column`` is coloured
    by meaning (imported/failed/...). Widths are measured before styling, so colour never breaks alignment."""
    paint = painter if painter is not None else Painter(None, enabled=False)
    all_rows = [list(headers), *[[printable(cell) for cell in r] for r in rows]]
    count = max(len(r) for r in all_rows)
    widths = [max((len(r[i]) for r in all_rows if i < len(r)), default=0) for i in range(count)]
    lines = []
    for n, row in enumerate(all_rows):
        cells = []
        for i, cell in enumerate(row):
            pad = "" if i == len(row) - 1 else " " * (widths[i] - len(cell))
            styled = paint.bold(cell) if n == 0 else paint.status(cell) if i == status_column else cell
            cells.append(styled + pad)
        lines.append((" " * indent + "  ".join(cells)).rstrip())
    return "\n".join(lines) + "\n"


# -- text helpers of the human-readable views ----------------------------------------------------------


def human_delta(seconds: float) -> str:
    s = int(abs(seconds))
    if s < 120:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 2 * 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def when(epoch: float | None, now: float) -> str:
    """``2026-01-02T03:04:05Z (in 59m)`` / ``(3m ago)``."""
    if epoch is None:
        return "-"
    delta = epoch - now
    rel = f"in {human_delta(delta)}" if delta >= 0 else f"{human_delta(delta)} ago"
    return f"{stamp(epoch)} ({rel})"


def columns(rows: Sequence[Sequence[str]], indent: int = 0, gap: int = 2) -> str:
    """Left-aligned columns; the last column is not padded."""
    if not rows:
        return ""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append(" " * indent + (" " * gap).join(cells).rstrip())
    return "\n".join(lines)


def paragraph(text: str, indent: int = 4, width: int = 100, first: str = "") -> str:
    """``text`` wrapped at ``width``, every line indented; ``first`` prefixes the first line."""
    pad = " " * indent
    return textwrap.fill(printable(text), width=width, initial_indent=pad + first,
                         subsequent_indent=pad + " " * len(first), break_on_hyphens=False, break_long_words=False)


def summarize_list(values: Sequence[str], limit: int = 8) -> str:
    if not values:
        return "(none)"
    shown = ", ".join(printable(v) for v in values[:limit])
    return shown + (f" … +{len(values) - limit} more" if len(values) > limit else "")


def write_data(stream: TextIO, payload: Any, fmt: str) -> None:
    """``payload`` as JSON or YAML (``--output json|yaml``), without a table view."""
    stream.write(render_data(payload, fmt))
