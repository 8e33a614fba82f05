"""Arguments several commands share (which kubeconfig/context, output format)."""

from __future__ import annotations

import argparse


def add_context_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig to read (default: $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current context)")


def add_output_arg(parser: argparse.ArgumentParser) -> None:
    """``-o/--output table|json|yaml`` (see :mod:`akslogin.output`)."""
    from akslogin.output import add_output_flag

    add_output_flag(parser)
