"""The ``venvprobe`` command line.

Each sub-command lives in its own module under :mod:`venvprobe.commands`
and exposes ``add_parser(subparsers)`` and ``run(args) -> int``.  Exit codes
follow one rule everywhere: 0 clean, 1 problems found (checks not met,
findings at or above ``--fail-on``), 2 could not check (bad input, unreachable
target).  Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

from venvprobe import __version__

# Nothing heavier at module level: `venvprobe --version`, `--help` and
# `report --python X -f json` are answered by venvprobe._quick without
# argparse, typing or the command modules (each imports re; benchmarks/).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, Dict, List, Optional, Sequence, Tuple

# name -> (module, one-line help).  Order is the order shown in --help.  Only
# the module of the command being run is imported: start-up time is part of
# every `venvprobe report --python X` and of every deploy check.
COMMANDS: Dict[str, Tuple[str, str]] = {
    "report": ("venvprobe.commands.report", "report on an interpreter: prefix, venv, sys.path, shadowing, findings"),
    "serve": ("venvprobe.commands.serve", "serve the probe for this interpreter on 127.0.0.1"),
    "compare": ("venvprobe.commands.compare", "check reports, probe URLs or interpreters against an expectations file"),
    "snapshot": ("venvprobe.commands.snapshot", "write an expectations file from a known-good report"),
    "fetch": ("venvprobe.commands.fetch", "fetch a report from a probe URL and save it"),
    "diff": ("venvprobe.commands.diff", "show what differs between two reports"),
    "check-home": ("venvprobe.commands.check_home", "check a python-home / venv before mod_wsgi or uWSGI uses it"),
    "check-apache": ("venvprobe.commands.check_apache", "check an Apache configuration's mod_wsgi directives per app"),
    "check-uwsgi": ("venvprobe.commands.check_uwsgi", "check a uWSGI ini file's Python settings"),
    "explain-log": ("venvprobe.commands.explain_log", "explain Python start-up failures in an Apache/uWSGI error log"),
    "probe-script": ("venvprobe.commands.probe_script", "write the probe as one standard-library-only WSGI file"),
    "check-extensions": ("venvprobe.commands.check_extensions",
                         "load each C extension in a throwaway own-GIL sub-interpreter (opt-in, 3.12+)"),
}
COMMAND_MODULES = [module for module, _ in COMMANDS.values()]

# Set once the fast path (venvprobe._quick) has answered: the process may then
# end without tearing the interpreter down (exit_now).
_ANSWERED = False


def _chosen(argv: Sequence[str]) -> Optional[str]:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


class _OneHelp:
    """The sub-parsers action as a command module sees it: the one-line help comes from COMMANDS.

    The fast --help (venvprobe._quick) prints COMMANDS without importing the
    command modules, so that is where each text is written, once; a module that
    passes its own help= fails here (TypeError: multiple values for 'help').
    """

    def __init__(self, sub: Any, help_text: str) -> None:
        self._sub, self._help = sub, help_text

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self._sub.add_parser(name, help=self._help, **kwargs)


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The CLI parser; with *argv*, only the chosen command's module is imported."""
    import argparse
    import importlib

    from venvprobe._quick import DESCRIPTION, EPILOG

    parser = argparse.ArgumentParser(prog="venvprobe", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"venvprobe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen(argv) if argv is not None else None
    for name, (module_name, help_text) in COMMANDS.items():
        if argv is not None and name != chosen:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        module = importlib.import_module(module_name)
        command = module.add_parser(_OneHelp(sub, help_text))
        command.set_defaults(_run=module.run, _parser=command)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _main(argv)
    except Exception as exc:
        # Nothing but sys is imported before this point, so a standard-library
        # module shadowed by a file on PYTHONPATH or in the current directory
        # ends here: one line naming the file, not a traceback.
        from venvprobe.probe.guard import diagnose

        doc = diagnose(exc)
        if doc is None:
            raise
        where = doc["fix"]
        if doc["shadowed_by"]:
            where = f"rename {doc['shadowed_by']} or take its directory off PYTHONPATH"
        print(f"venvprobe: {doc['message']} ({doc['exception']}): {where}", file=sys.stderr)
        return 2


def _main(argv: Optional[List[str]] = None) -> int:
    global _ANSWERED
    argv = list(sys.argv[1:] if argv is None else argv)
    from venvprobe import _quick

    try:
        code = _quick.run(argv, [(name, text) for name, (_, text) in COMMANDS.items()], __version__)
    except KeyboardInterrupt:
        print("venvprobe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    if code is not None:
        _ANSWERED = True
        return code
    from venvprobe import VenvprobeError
    from venvprobe.commands import EXIT_ERROR, EXIT_OK

    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        # An option the sub-command does not know: its own usage, not the top-level one.
        (getattr(args, "_parser", None) or parser).error("unrecognized arguments: " + " ".join(extra))
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args._run(args) or 0)
    except VenvprobeError as exc:
        from venvprobe.render.safe import one_line

        # Every "could not check" of every layer ends here, once (venvprobe.errors).
        # The message may quote a remote error body or a hostile file name.
        print(f"venvprobe {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("venvprobe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def exit_now(code: int) -> None:
    """``sys.exit(code)``; after a fast-path answer, without tearing the interpreter down.

    Finalising even a bare interpreter costs about a fifth of its start-up
    (benchmarks/bench_report.py), and the fast paths hold nothing that needs
    it: their output is flushed here, and they open no files and start no
    threads.  The full CLI (Flask, temporary files, atexit hooks) exits the
    usual way.
    """
    if _ANSWERED:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            sys.exit(code)  # the interpreter reports a closed pipe as it always has
        import os

        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    exit_now(main())
