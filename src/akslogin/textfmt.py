"""Small text helpers shared by the human-readable outputs (times, aligned columns, indented paragraphs)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Sequence
from typing import Any, TextIO


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
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append(" " * indent + (" " * gap).join(cells).rstrip())
    return "\n".join(lines)


def paragraph(text: str, indent: int = 4, width: int = 100, first: str = "") -> str:
    """``text`` wrapped at ``width``, every line indented; ``first`` prefixes the first line."""
    pad = " " * indent
    return textwrap.fill(text, width=width, initial_indent=pad + first,
                         subsequent_indent=pad + " " * len(first), break_on_hyphens=False, break_long_words=False)


def summarize_list(values: Sequence[str], limit: int = 8) -> str:
    if not values:
        return "(none)"
    shown = ", ".join(values[:limit])
    return shown + (f" … +{len(values) - limit} more" if len(values) > limit else "")


def write_data(stream: TextIO, payload: Any, fmt: str) -> None:
    """``payload`` as JSON or YAML (``--output json|yaml``), through :mod:`akslogin.output`."""
    from akslogin.output import render_data

    stream.write(render_data(payload, fmt))
