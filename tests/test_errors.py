"""One error family: every exception venvprobe raises for its user is a VenvprobeError, which the CLI
catches once (one line on stderr, exit 2), so library code need not translate it into UsageError."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import venvprobe
from report_helpers import venvprobe_cli
from venvprobe import VenvprobeError
from venvprobe.errors import InputError, UsageError

PACKAGE = Path(venvprobe.__file__).resolve().parent
# Exceptions that are deliberately not "could not check" errors for the user.
NOT_USER_ERRORS = {
    "venvprobe.safeio.NotRegularFile": "an OSError, so every existing OSError handler catches it",
    "venvprobe.offline.pathconfig._Garbled": "private, caught where it is raised",
    "venvprobe.rules.registry.UndeclaredFinding": "a bug in venvprobe (a check emitted a code its rule does not "
                                                  "declare): it must fail the tests, not read as the user's error",
}


def _exception_classes():
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).replace(".__init__", "")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                    (getattr(b, "id", None) or getattr(b, "attr", "")).endswith(("Error", "Exception"))
                    for b in node.bases):
                yield module, node.name


CLASSES = sorted(_exception_classes())


def test_the_walk_finds_the_family():
    names = {name for _, name in CLASSES}
    assert {"FetchError", "ExpectationsError", "ConfigError", "IniError", "EmbedError", "CollectError"} <= names


@pytest.mark.parametrize("module, name", CLASSES)
def test_every_exception_class_is_a_venvprobe_error(module, name):
    cls = getattr(importlib.import_module(module), name)
    if f"{module}.{name}" in NOT_USER_ERRORS:
        assert not issubclass(cls, VenvprobeError)
    else:
        assert issubclass(cls, VenvprobeError), f"{module}.{name}"


def test_no_translation_into_usage_error_is_left():
    """`raise UsageError(str(exc))` only re-labels an error the CLI already prints the same way."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and getattr(node.exc.func, "id", None) == "UsageError" and len(node.exc.args) == 1:
                arg = node.exc.args[0]
                assert not (isinstance(arg, ast.Call) and getattr(arg.func, "id", None) == "str"), \
                    f"{path.name}:{node.lineno}"


def test_usage_and_input_errors_are_the_base():
    assert issubclass(UsageError, VenvprobeError) and issubclass(InputError, VenvprobeError)
    from venvprobe.commands import UsageError as reexported
    from venvprobe.safeio import InputError as reexported_input

    assert reexported is UsageError and reexported_input is InputError


@pytest.mark.parametrize("args, message", [
    # raised by library layers (uwsgi_config.IniError, fleet.FetchError, report_shape.InputError) and
    # printed by the CLI's one handler
    (("check-uwsgi", "/nonexistent/uwsgi.ini"), "venvprobe check-uwsgi: /nonexistent/uwsgi.ini does not exist\n"),
    (("diff", "-", "-"), "venvprobe diff: '-' (stdin) can be given only once\n"),
    (("report", "--input", "/nonexistent/r.json"), "venvprobe report: report '/nonexistent/r.json' does not exist\n"),
])
def test_a_library_error_is_one_line_and_exit_2(args, message):
    res = venvprobe_cli(*args, input=b"")
    assert (res.returncode, res.stdout, res.stderr.decode()) == (2, b"", message)
