"""Arguments several commands share (which kubeconfig/context, output format)."""

from __future__ import annotations

import argparse


def add_context_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig to read (default: $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current context)")


def add_output_arg(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    parser.add_argument("-o", "--output", choices=choices, default=choices[0],
                        help=f"output format (default {choices[0]}); json is for scripts and never holds tokens")
