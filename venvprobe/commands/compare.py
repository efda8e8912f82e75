"""``venvprobe compare EXPECTATIONS TARGET...``: check reports against an expectations file."""

from __future__ import annotations

import argparse
import datetime
from typing import List, Optional

from venvprobe.commands import UsageError, write_output
from venvprobe.commands.fetch import add_fetch_options, fetch_targets, options_from_args
from venvprobe.compare import COMPARE_FORMATS, TargetOutcome, compare_workers, exit_code, render
from venvprobe.fleet import FetchError, parse_targets, worker_differences


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compare",
        help="check reports (files, probe URLs, interpreters) against an expectations file",
        description="Check one or more targets against a TOML expectations file (see docs/expectations.md; "
        "`venvprobe snapshot` writes one).  A TARGET is a saved report, - (stdin), a probe URL, or "
        "python:PATH; --python PATH collects a report in that interpreter.",
        epilog="Exit codes: 0 every check met on every target, 1 some check not met, "
        "2 could not check (bad expectations file, unreachable target, bad or too new report).",
    )
    p.add_argument("expectations", metavar="EXPECTATIONS", help="TOML expectations file")
    p.add_argument("targets", metavar="TARGET", nargs="*", help="report file, -, probe URL or python:PATH")
    p.add_argument("--python", metavar="PATH", action="append", default=[],
                   help="collect a report in this interpreter or venv (repeatable)")
    p.add_argument("--format", "-f", choices=COMPARE_FORMATS, default="table",
                   help="table (default), json, junit (JUnit XML) or tap (TAP 13)")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--only-failures", action="store_true", help="table: show only the checks not met")
    add_fetch_options(p)
    return p


def _iso(when: Optional[float]) -> Optional[str]:
    if when is None:
        return None
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).isoformat(timespec="seconds")


def run(args: argparse.Namespace) -> int:
    from venvprobe.expectations import ExpectationsError, load_file

    try:
        expectations = load_file(args.expectations)
    except ExpectationsError as exc:
        raise UsageError(str(exc)) from None
    try:
        targets = parse_targets(args.targets, args.python)
    except FetchError as exc:
        raise UsageError(str(exc)) from None
    if not targets:
        raise UsageError("give at least one TARGET (report file, -, probe URL) or --python PATH")
    options = options_from_args(args, [t.value for t in targets])
    outcomes: List[TargetOutcome] = []
    for result in fetch_targets(targets, options):
        timing = {"seconds": result.seconds, "checked_at": _iso(result.started)}
        if result.error:
            outcomes.append(TargetOutcome(result.target.label, error=result.error, samples=result.samples, **timing))
            continue
        workers = result.workers
        notes = result.notes()
        # Shown even without a [workers] rule: an odd worker out is news.
        for label, parts in worker_differences(workers, ignore=expectations.workers.ignore).items():
            notes.append(f"{label} differs from the other workers: {'; '.join(parts)}")
        outcomes.append(TargetOutcome(
            result.target.label,
            results=compare_workers(expectations, result.reports),
            workers=[w.label for w in workers],
            samples=result.samples,
            notes=notes,
            **timing,
        ))
    write_output(render(outcomes, args.format, expectations.source, args.only_failures), args.output)
    return exit_code(outcomes)
