"""The environment an exec plugin runs with under kubectl: kubectl's own, plus the entries of ``exec.env``.

The one place this merge is written; the plan, the in-process sign-in and the exec-plugin runner all use it.
"""

from __future__ import annotations

from collections.abc import Mapping


def with_exec_env(environ: Mapping[str, str], exec_env: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the ``exec.env`` entries on top (kubectl's order: the entries win)."""
    merged = dict(environ)
    merged.update(exec_env)
    return merged
