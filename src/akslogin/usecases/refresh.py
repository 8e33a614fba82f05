"""refresh-kubeconfig: renew the tokens --embed-tokens wrote, file by file of the kubeconfig list (for cron)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from akslogin.errors import UsageError
from akslogin.kubeconfig import files, paths
from akslogin.log import Log


@dataclass
class RefreshRequest:
    kubeconfig: str | None = None
    context: str | None = None
    force: bool = False
    verbosity: int = 0
    #: Renew what has less than this left (seconds), and the flag's own spelling for messages.
    min_remaining: float = 1800.0
    min_remaining_text: str = "30m"


def run(req: RefreshRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    """Exit 0 when every embedded token was renewed or is still fresh, 1 when one could not be renewed."""
    from akslogin.usecases.embed import refresh_kubeconfig, warn_embedded

    log = Log(req.verbosity, stderr)
    targets = [p for p in paths.read_paths(req.kubeconfig, environ) if os.path.exists(p)]
    if not targets:
        raise UsageError("no kubeconfig found.", "Pass --kubeconfig or set KUBECONFIG.")
    failed = 0
    for path in targets:
        if req.context is not None and len(targets) > 1 and files.load(path).get("contexts", req.context) is None:
            continue
        result = refresh_kubeconfig(path, context=req.context, min_remaining=req.min_remaining, force=req.force,
                                    environ=environ, stderr=stderr, log=log)
        for name, reason in result.failed:
            stderr.write(f"akslogin: could not renew the token of user {name!r} in {path}: {reason}\n")
        failed += len(result.failed)
        if result.renewed:
            stdout.write(f"Renewed {len(result.renewed)} embedded token(s) in {path}: {', '.join(result.renewed)}"
                         f" (backup: {path}.akslogin-backup)\n")
            warn_embedded(stderr, path, len(result.renewed), result.earliest)
        if result.still_fresh:
            stdout.write(f"{len(result.still_fresh)} token(s) in {path} still have more than "
                         f"{req.min_remaining_text} left: {', '.join(result.still_fresh)}\n")
        if not (result.renewed or result.still_fresh or result.failed):
            stdout.write(f"No token embedded by akslogin in {path}.\n")
    return 1 if failed else 0
