"""install-kubelogin-shim: a ``kubelogin`` command that runs akslogin, for kubeconfigs that say ``kubelogin``.

Every ``az aks get-credentials`` writes ``command: kubelogin``; akslogin takes kubelogin's flags, so a small
launcher named kubelogin lets those files work unedited. It never shadows a real kubelogin unless asked.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from akslogin.errors import ConfigError
from akslogin.fileops import write_atomic
from akslogin.output import emit

MARK = "akslogin-kubelogin-shim"


@dataclass
class ShimResult:
    path: str
    target: str
    replaced: str | None  # a previous file at path (ours, or a real kubelogin with --force)
    on_path: bool


def shim_text(akslogin: str, windows: bool) -> str:
    if windows:
        return f'@echo off\r\nrem {MARK}: kubeconfigs that run kubelogin get akslogin\r\n"{akslogin}" %*\r\n'
    return (f"#!/bin/sh\n# {MARK}: kubeconfigs written by 'az aks get-credentials' run kubelogin; akslogin "
            f"takes the same flags.\nexec '{akslogin}' \"$@\"\n")


def is_shim(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return MARK.encode() in fh.read(4096)
    except OSError:
        return False


def install(directory: str, environ: Mapping[str, str], *, force: bool = False, akslogin: str | None = None,
            windows: bool = os.name == "nt") -> ShimResult:
    """Write ``<directory>/kubelogin`` (``kubelogin.cmd`` on Windows) that runs ``akslogin``."""
    target = akslogin or shutil.which("akslogin", path=environ.get("PATH")) or os.path.abspath(sys.argv[0])
    directory = os.path.abspath(os.path.expanduser(directory))
    path = os.path.join(directory, "kubelogin.cmd" if windows else "kubelogin")
    real = shutil.which("kubelogin", path=environ.get("PATH"))
    replaced = path if os.path.lexists(path) else None
    for found in (p for p in (replaced, real) if p):
        if not is_shim(found) and not force:
            raise ConfigError(
                f"a real kubelogin is installed at {found}; a shim would shadow it.",
                "Use it as it is, convert kubeconfigs with 'akslogin convert-kubeconfig', or pass --force to "
                "replace it with akslogin's shim.")
    try:
        os.makedirs(directory, exist_ok=True)
        write_atomic(path, shim_text(target, windows).encode(), mode=0o755)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}.", "Pass a writable --dir that is on PATH.") from None
    on_path = any(os.path.abspath(p) == directory for p in environ.get("PATH", "").split(os.pathsep) if p)
    return ShimResult(path, target, replaced, on_path)


@dataclass
class ShimRequest:
    directory: str
    force: bool = False
    output: str = "table"


def run(req: ShimRequest, environ: Mapping[str, str], stdout: TextIO) -> int:
    result = install(req.directory, environ, force=req.force)

    def text(_paint: Any) -> str:
        line = f"Installed {result.path}: it runs {result.target}."
        if result.replaced:
            line += f" (replaced {result.replaced})"
        if not result.on_path:
            line += f" {os.path.dirname(result.path)} is not on PATH: add it, or kubectl will not find kubelogin."
        return line

    emit(stdout, req.output, {"path": result.path, "runs": result.target, "replaced": result.replaced,
                              "on_path": result.on_path}, text)
    return 0
