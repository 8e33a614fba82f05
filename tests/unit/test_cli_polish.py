"""CLI polish: --help with examples everywhere, --output table|json|yaml on data commands, colour rules
(NO_COLOR, FORCE_COLOR, terminals), completion covering every command.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import io
import json

import yaml

from akslogin.cli.app import build_parser
from akslogin.cli.completion import command_table
from akslogin.output import render_data, table
from akslogin.term import Painter, color_enabled
from support.cli_polish import ESC, _subparsers


def test_completion_covers_every_command_and_the_output_flag() -> None:
    table_ = command_table()
    assert set(dict(_subparsers(build_parser()))) >= {n for n in table_ if " " not in n}
    for name in ("get-credentials", "login", "logout", "emulator", "whoami", "audit", "doctor", "explain-forbidden"):
        assert "--output" in table_[name], name
    assert {"bind", "--user", "--role", "--apply"} <= set(table_["rbac"])  # nested subcommands complete too


def test_term_rules() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    assert color_enabled(tty, {}) and not color_enabled(pipe, {})
    assert not color_enabled(tty, {"NO_COLOR": "1"})
    assert color_enabled(tty, {"NO_COLOR": ""})  # no-color.org: only a non-empty value counts
    assert color_enabled(pipe, {"FORCE_COLOR": "1"}) and not color_enabled(pipe, {"FORCE_COLOR": "0"})
    assert not color_enabled(pipe, {"FORCE_COLOR": "1", "NO_COLOR": "1"})  # NO_COLOR wins
    assert not color_enabled(tty, {"TERM": "dumb"})
    paint = Painter(pipe, {"FORCE_COLOR": "1"})
    assert paint.status("failed: x") == f"{ESC}31mfailed: x{ESC}0m" and paint.status("imported") != "imported"
    assert Painter(pipe, {}).bold("x") == "x"


def test_table_aligns_before_styling() -> None:
    plain = table(("A", "STATUS"), [("long-name", "imported"), ("x", "failed: why")])
    assert plain.splitlines() == ["A          STATUS", "long-name  imported", "x          failed: why"]
    styled = table(("A", "STATUS"), [("long-name", "imported")], Painter(None, enabled=True), status_column=1)
    assert styled.replace(f"{ESC}1m", "").replace(f"{ESC}32m", "").replace(f"{ESC}0m", "").splitlines() == \
        plain.splitlines()[:2]
    assert yaml.safe_load(render_data({"a": [1, "b"]}, "yaml")) == {"a": [1, "b"]}
    assert json.loads(render_data({"a": [1, "b"]}, "json")) == {"a": [1, "b"]}
