"""Each command's one-line help is written once, in venvprobe._cli.COMMANDS."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from venvprobe._cli import COMMANDS, build_parser


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_modules_do_not_write_their_own_help(name):
    path = Path(importlib.import_module(COMMANDS[name][0]).__file__)
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "add_parser"]
    assert calls, f"{path.name} defines no sub-parser"
    assert all("help" not in {k.arg for k in call.keywords} for call in calls), path.name


def test_every_parser_shows_the_one_help_text():
    for argv in (None, ["report"], ["--help"]):
        parser = build_parser(argv)
        sub = next(a for a in parser._actions if a.dest == "command")
        shown = {action.dest: action.help for action in sub._choices_actions}
        assert shown == {name: text for name, (_, text) in COMMANDS.items()}, argv
