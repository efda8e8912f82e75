"""``venvprobe snapshot [TARGET]``: write an expectations file from a known-good report."""

from __future__ import annotations

import argparse
import os
import sys

from venvprobe.commands import EXIT_OK, UsageError, write_output
from venvprobe.commands._options import add_fetch_options, fetch_targets, options_from_args
from venvprobe.fleet import parse_targets


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "snapshot",
        description="Write expectations (TOML) that pin what should not drift: prefix, Python major.minor, "
        "venv, server group names, sys.path shape, distributions with ==, and no shadowing or findings beyond "
        "the current ones (each allowed with a TODO reason to fill in).  TARGET is a report file, -, a probe "
        "URL or python:PATH; without one, this interpreter is reported.  Trim the result by hand.",
        epilog="Exit codes: 0 written, 2 could not read the target or write the file.",
    )
    p.add_argument("target", metavar="TARGET", nargs="?", help="report file, -, probe URL or python:PATH")
    p.add_argument("--python", metavar="PATH", help="collect the report in this interpreter or venv")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.add_argument("--no-distributions", action="store_true", help="do not pin distribution versions")
    add_fetch_options(p, samples=False)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.expectations import ExpectationsError, loads
    from venvprobe.snapshot import pinned_placeholders, snapshot

    if args.target and args.python:
        raise UsageError("give a TARGET or --python, not both")
    if args.output and args.output != "-" and os.path.exists(args.output) and not args.force:
        raise UsageError(f"{args.output!r} exists: it may hold hand-trimmed expectations (use --force to overwrite)")
    if args.target or args.python:
        targets = parse_targets([args.target] if args.target else [], [args.python] if args.python else [])
        options = options_from_args(args, [t.value for t in targets])
        result = fetch_targets(targets, options)[0]
        if result.error:
            raise UsageError(result.error)
        report, source = result.reports[0], targets[0].label
    else:
        from venvprobe.report import build_report

        report, source = build_report(), f"{sys.executable} (the interpreter running venvprobe)"
    text = snapshot(report, source, distributions=not args.no_distributions)
    try:
        loads(text, "<snapshot>")  # never hand out a file compare would reject
    except ExpectationsError as exc:  # pragma: no cover - a bug in snapshot()
        raise UsageError(f"internal error, the snapshot does not load: {exc}") from None
    write_output(text, args.output)
    if args.output and args.output != "-":
        todo = pinned_placeholders(text)
        said = f"{todo} reason says" if todo == 1 else f"{todo} reasons say"
        print(f"venvprobe snapshot: wrote {args.output}" + (f"; {said} TODO: fill them in" if todo else ""),
              file=sys.stderr)
    return EXIT_OK
