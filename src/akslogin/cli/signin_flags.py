"""get-token's sign-in flags on argparse commands (get-credentials, convert-kubeconfig, login, logout).

The flags come from the one table in :mod:`akslogin.options`, so every login mode and flag that get-token
knows is accepted here too. Unset flags stay unset (``SUPPRESS``): commands that copy flags into a kubeconfig
must know which ones the user actually gave, as kubelogin does.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

from akslogin import options


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false", "1", "0", "t", "f"):
        raise argparse.ArgumentTypeError(f"expected true or false, not {text[:30]!r}")
    return lowered in ("true", "1", "t")


def add_signin_flags(parser: argparse.ArgumentParser, *, exclude: Iterable[str] = (),
                     title: str = "sign-in (the flags and environment variables of get-token)") -> None:
    skip = set(exclude)
    group = parser.add_argument_group(title)
    for flag in options.FLAGS:
        if flag.long in skip or flag.dest in skip:
            continue
        names = [flag.short, flag.long] if flag.short and flag.short not in skip else [flag.long]
        kwargs: dict[str, Any] = {"dest": flag.dest, "default": argparse.SUPPRESS,
                                  "help": flag.help + flag.env_help}
        if flag.boolean:
            kwargs.update(nargs="?", const=True, type=_boolean, metavar="BOOL")
        else:
            kwargs["metavar"] = flag.metavar
            if flag.repeatable:
                kwargs["action"] = "append"
        group.add_argument(*names, **kwargs)


def signin_options(args: argparse.Namespace, environ: Mapping[str, str], *, env: bool = True) -> options.TokenOptions:
    """TokenOptions from the parsed flags (``explicit`` = the flags given), then the environment as get-token
    applies it (variables win over flags unless --disable-environment-override)."""
    opts = options.TokenOptions()
    for name in options.FIELDS:
        if name != "explicit" and hasattr(args, name):
            setattr(opts, name, getattr(args, name))
            opts.explicit.add(name)
    if env:
        options.apply_env(opts, environ)
    return opts
