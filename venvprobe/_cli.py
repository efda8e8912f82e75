"""The ``venvprobe`` command line.

Each sub-command lives in its own module under :mod:`venvprobe.commands`
and exposes ``add_parser(subparsers)`` and ``run(args) -> int``.  Exit codes
follow one rule everywhere: 0 clean, 1 problems found (checks not met,
findings at or above ``--fail-on``), 2 could not check (bad input, unreachable
target).  Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from venvprobe import __version__

# Order is the order shown in --help.
COMMAND_MODULES = [
    "venvprobe.commands.report",
    "venvprobe.commands.serve",
    "venvprobe.commands.compare",
    "venvprobe.commands.snapshot",
    "venvprobe.commands.fetch",
    "venvprobe.commands.diff",
    "venvprobe.commands.check_home",
    "venvprobe.commands.check_apache",
    "venvprobe.commands.check_uwsgi",
    "venvprobe.commands.explain_log",
]

from venvprobe.commands import EXIT_ERROR, EXIT_OK, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="venvprobe",
        description="Which Python, venv and sys.path does this (WSGI) interpreter really use?",
        epilog="Exit codes: 0 clean, 1 problems found, 2 could not check.",
    )
    parser.add_argument("--version", action="version", version=f"venvprobe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command not built yet in this checkout
            raise
        command = module.add_parser(sub)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args._run(args) or 0)
    except UsageError as exc:
        print(f"venvprobe {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("venvprobe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
