"""Arguments several commands share (which kubeconfig/context, output format)."""

from __future__ import annotations

import argparse
from typing import Any


def add_context_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig to read (default: $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current context)")


def verbosity_level(text: str) -> int:
    """argparse type for ``-v``: a klog level as kubelogin takes it (any whole number; 10 and above log all)."""
    try:
        return max(0, int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a whole number (a klog level, e.g. 5), not {text[:20]!r}") from None


def add_verbosity_arg(parser: argparse.ArgumentParser) -> None:
    """``-v/--v LEVEL``: how much the in-process sign-in logs on stderr (as get-token's -v; no secrets)."""
    parser.add_argument("-v", "--v", dest="verbosity", type=verbosity_level, default=None, metavar="LEVEL",
                        help="log verbosity of the sign-in on stderr, a klog level: 0 quiet, 10 and above everything "
                             "(default: the context's own -v)")


def add_exec_api_version_arg(parser: Any) -> None:
    from akslogin.kubeconfig.execblock import API_VERSIONS

    parser.add_argument(
        "--exec-api-version", choices=sorted(API_VERSIONS), metavar="VERSION",
        help="client.authentication.k8s.io version of the exec blocks written: v1beta1 (the default, as kubelogin; "
             "works with every client-go since 1.11) or v1 (kubectl 1.22+). An existing block keeps its own")


def exec_api_version(args: Any) -> str | None:
    from akslogin.kubeconfig.execblock import API_VERSIONS

    return API_VERSIONS[args.exec_api_version] if args.exec_api_version else None


def add_output_arg(parser: argparse.ArgumentParser) -> None:
    """``-o/--output table|json|yaml`` (see :mod:`akslogin.output`)."""
    from akslogin.output import add_output_flag

    add_output_flag(parser)
