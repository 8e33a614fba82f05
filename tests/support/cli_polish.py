"""What the tiers of test_cli_polish.py share: tests/{emulated,unit}/test_cli_polish.py."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

ESC = "\033["


def _subparsers(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _subparsers(sub, f"{prefix}{name} ")
