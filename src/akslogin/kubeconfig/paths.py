"""Which kubeconfig files a command reads and which one it writes, following kubectl's rules."""

from __future__ import annotations

import os
from collections.abc import Mapping


def default_path(environ: Mapping[str, str]) -> str:
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "config")


def read_paths(explicit: str | None, environ: Mapping[str, str]) -> list[str]:
    """Files to read, in precedence order: the explicit file, else every ``KUBECONFIG`` entry, else the default."""
    if explicit:
        return [os.path.expanduser(explicit)]
    listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return [os.path.expanduser(p) for p in dict.fromkeys(listed)]
    return [default_path(environ)]


def write_path(explicit: str | None, environ: Mapping[str, str]) -> str:
    """Where a merge writes: the explicit file, else the first ``KUBECONFIG`` entry, else the default."""
    return read_paths(explicit, environ)[0]
