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
    """Where new entries are written, by kubectl's rule (client-go's default filename): the explicit file;
    else with one ``KUBECONFIG`` entry that entry, with several the first that exists, or the last when none
    does; else the default. So ``KUBECONFIG=a:b`` with ``a`` missing writes into ``b``, as kubectl does."""
    if explicit:
        return os.path.expanduser(explicit)
    listed = [os.path.expanduser(p) for p in dict.fromkeys(environ.get("KUBECONFIG", "").split(os.pathsep)) if p]
    if len(listed) == 1:
        return listed[0]
    if listed:
        return next((p for p in listed if os.path.exists(p)), listed[-1])
    return default_path(environ)
