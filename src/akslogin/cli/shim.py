"""``akslogin install-kubelogin-shim``: thin CLI over :mod:`akslogin.usecases.shim`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.output import add_output_flag

EPILOG = """\
examples:
  akslogin install-kubelogin-shim                  # ~/.local/bin/kubelogin (on Windows: kubelogin.cmd)
  akslogin install-kubelogin-shim --dir /usr/local/bin
  az aks get-credentials -g rg -n aks && kubectl get pods   # the kubeconfig's 'kubelogin' is now akslogin

It refuses to shadow a real kubelogin (on PATH or at the target) unless --force. To edit kubeconfigs instead,
use 'akslogin convert-kubeconfig'.

exit codes: 0 installed; 1 a real kubelogin is in the way, or the file cannot be written; 2 bad flags.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("install-kubelogin-shim", help="put a 'kubelogin' command on PATH that runs akslogin",
                       description="Install a small 'kubelogin' launcher that runs akslogin, so kubeconfigs from "
                                   "'az aks get-credentials' (command: kubelogin) work unedited.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    p.add_argument("--dir", default=os.path.join("~", ".local", "bin"), metavar="DIR",
                   help="where to write it (default: ~/.local/bin)")
    p.add_argument("--force", action="store_true", help="replace a real kubelogin in the way")
    add_output_flag(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.shim import ShimRequest
    from akslogin.usecases.shim import run as install

    return install(ShimRequest(directory=args.dir, force=args.force, output=args.output), os.environ, sys.stdout)
