"""``--output table|json|yaml`` for commands whose output is data, rendered in one place.

A command builds plain data (dicts, lists, strings, numbers: never tokens or secrets) and a table view of
it; :func:`emit` writes whichever the user asked for. JSON and YAML are for scripts, so they are never
coloured; the table is for people and styled through :mod:`akslogin.term`.
"""

from __future__ import annotations

import argparse
import json
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
        import yaml

        return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    raise ValueError(f"not a data format: {fmt!r}")


def emit(stream: TextIO, fmt: str, data: Any, table: Callable[[Painter], str]) -> None:
    """Write ``data`` in ``fmt``; for ``table``, the text ``table(painter)`` builds for ``stream``."""
    text = table(Painter(stream)) if fmt == "table" else render_data(data, fmt)
    if text and not text.endswith("\n"):
        text += "\n"
    stream.write(text)
    stream.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], painter: Painter | None = None, *,
          status_column: int | None = None, indent: int = 0) -> str:
    """Left-aligned columns under a bold header; the last column is not padded. ``status_column`` is coloured
    by meaning (imported/failed/...). Widths are measured before styling, so colour never breaks alignment."""
    paint = painter if painter is not None else Painter(None, enabled=False)
    all_rows = [list(headers), *[list(r) for r in rows]]
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
