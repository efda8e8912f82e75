"""One CLI: the same --format names everywhere, a sub-command's own usage on a bad option,
and one line with exit 2 when `serve` cannot listen."""

from __future__ import annotations

import socket

import pytest

from report_helpers import venvprobe_cli
from venvprobe._cli import COMMANDS, build_parser

KNOWN_FORMATS = {"text", "json", "markdown", "html", "junit", "tap"}


def _format_choices() -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    out = {}
    for name, command in sub.choices.items():
        for action in command._actions:
            if "--format" in action.option_strings:
                out[name] = (tuple(action.choices), action.default)
    return out


def test_format_names_are_the_same_everywhere():
    formats = _format_choices()
    assert {"report", "compare", "diff", "check-home", "check-apache", "check-uwsgi", "explain-log"} <= set(formats)
    for name, (choices, default) in formats.items():
        # compare keeps "table" only as a deprecated alias of text (it warns and renders text).
        assert set(choices) - {"table"} <= KNOWN_FORMATS, (name, choices)
        assert default == "text" and "json" in choices, (name, choices, default)
        assert name == "compare" or "table" not in choices
    # Every command with people as readers has the ticket and the browser format.
    for name in ("report", "diff", "check-home", "check-apache", "check-uwsgi", "explain-log"):
        assert {"markdown", "html"} <= set(formats[name][0]), name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_option_shows_the_sub_commands_usage(command):
    res = venvprobe_cli(command, "--no-such-option")
    err = res.stderr.decode()
    assert res.returncode == 2 and res.stdout == b"" and "Traceback" not in err
    assert err.startswith(f"usage: venvprobe {command} "), err
    assert err.rstrip().splitlines()[-1].startswith(f"venvprobe {command}: error: "), err


def test_serve_on_a_busy_port_is_one_line_exit_2():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        res = venvprobe_cli("serve", "--port", str(port), timeout=60)
    finally:
        busy.close()
    assert res.returncode == 2 and res.stdout == b""
    assert res.stderr.decode() == f"venvprobe serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    res = venvprobe_cli("serve", "--port", "70000", timeout=60)
    assert res.returncode == 2 and res.stderr.decode().count("\n") == 1 and "cannot listen" in res.stderr.decode()
