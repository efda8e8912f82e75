"""``venvprobe compare EXPECTATIONS TARGET...``: check reports against an expectations file."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from typing import TYPE_CHECKING, List, Optional

from venvprobe.commands import UsageError, text_width, write_output
from venvprobe.commands._options import add_fetch_options, fetch_targets, options_from_args
from venvprobe.compare import compare_workers
from venvprobe.render.checks import FORMATS as COMPARE_FORMATS
from venvprobe.render.checks import render
from venvprobe.results import FAIL, PASS, TargetOutcome, exit_code
from venvprobe.fleet import FetchOptions, Target, TargetResult, parse_targets
from venvprobe.workers import worker_differences

if TYPE_CHECKING:
    from venvprobe.expectations import Expectations


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compare",
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
    p.add_argument("--format", "-f", choices=COMPARE_FORMATS + ("table",), default="text", metavar="{%s}" % ",".join(COMPARE_FORMATS),
                   help="text (default; fits $COLUMNS or the terminal), json, junit (JUnit XML) or tap (TAP 13); "
                   "'table' is an old name of text")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--all", dest="only_failures", action="store_false", default=True,
                       help="text: list every check (met and skipped too), failures first")
    shown.add_argument("--only-failures", dest="only_failures", action="store_true",
                       help="text: list only the checks not met (the default; met and skipped ones are counted "
                       "in each target's summary line)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="deploy gate: check again (probe URLs and --python) until every target meets the "
                   "expectations or SECONDS pass; honours Retry-After; says on stderr why it gave up")
    p.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                   help="with --wait: pause between rounds (default: 2; a longer Retry-After wins)")
    add_fetch_options(p)
    return p


def _outcome(result: TargetResult, expectations: "Expectations") -> TargetOutcome:
    checked_at = _iso(result.started)
    if result.error:
        return TargetOutcome(result.target.label, error=result.error, samples=result.samples,
                             seconds=result.seconds, checked_at=checked_at)
    workers = result.workers
    notes = result.notes()
    # Shown even without a [workers] rule: an odd worker out is news.
    for label, parts in worker_differences(workers, ignore=expectations.workers.ignore).items():
        notes.append(f"{label} differs from the other workers: {'; '.join(parts)}")
    return TargetOutcome(result.target.label, results=compare_workers(expectations, result.reports),
                         workers=[w.label for w in workers], samples=result.samples, notes=notes,
                         seconds=result.seconds, checked_at=checked_at)


def _why(outcome: TargetOutcome) -> str:
    if outcome.error:
        return f"{outcome.target}: could not check: {outcome.error}"
    failed = [f"{r.check} (expected {r.expected}, got {r.actual})" for r in outcome.results if r.status == FAIL]
    return f"{outcome.target}: " + "; ".join(failed)


def _check_until(targets: List[Target], options: FetchOptions, expectations: "Expectations",
                 wait: float, interval: float) -> List[TargetOutcome]:
    """Check every target; with *wait*, check the ones not met again until they are or time runs out.

    After a reload, workers converge at different speeds: a gate that
    checks once fails on the slowest.  Saved reports and stdin do not change,
    so only probe URLs and interpreters are checked again.
    """
    deadline = time.monotonic() + wait
    outcomes: List[Optional[TargetOutcome]] = [None] * len(targets)
    pending = list(range(len(targets)))
    rounds = 0
    while True:
        rounds += 1
        batch = list(pending)

        def check(position: int, result: TargetResult) -> None:
            # Checked as soon as its samples are in, then its reports are dropped: a
            # fleet of 1,000 targets does not hold 1,000 parsed reports at once.
            outcomes[batch[position]] = _outcome(result, expectations)
            result.reports = []

        results = fetch_targets([targets[i] for i in batch], options, on_target=check)
        retry_after = max([r.retry_after or 0.0 for r in results] + [0.0])
        pending = [i for i in pending if outcomes[i].status != PASS]  # type: ignore[union-attr]
        if not wait or not pending:
            break
        again = [i for i in pending if targets[i].kind in ("url", "python")]
        left = deadline - time.monotonic()
        pause = max(interval, retry_after)
        if not again or pause > left:
            fixed = len(pending) - len(again)
            why = (f"gave up after {wait:g} s and {rounds} round{'s' if rounds != 1 else ''}"
                   if again else f"gave up after {rounds} round{'s' if rounds != 1 else ''}")
            if again and retry_after > left:
                why += f" (the next try would be after Retry-After: {retry_after:g} s)"
            elif fixed:
                why += f" ({fixed} target{'s' if fixed != 1 else ''} cannot change: saved reports or stdin)"
            print(f"venvprobe compare: {why}; {len(pending)} of {len(targets)} target(s) not met:", file=sys.stderr)
            for i in pending:
                print(f"  {_why(outcomes[i])}", file=sys.stderr)  # type: ignore[arg-type]
            break
        print(f"venvprobe compare: round {rounds}: {len(pending)} of {len(targets)} target(s) not met yet, "
              f"again in {pause:g} s ({max(left, 0):.0f} s left): "
              + "; ".join(_why(outcomes[i])[:200] for i in pending[:3]), file=sys.stderr)  # type: ignore[arg-type]
        time.sleep(pause)
        pending = again
    return [o for o in outcomes if o is not None]


def _iso(when: Optional[float]) -> Optional[str]:
    if when is None:
        return None
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).isoformat(timespec="seconds")


def run(args: argparse.Namespace) -> int:
    import sys

    from venvprobe.expectations import load_file

    if args.format == "table":
        print("venvprobe compare: --format table is deprecated, it is now called text", file=sys.stderr)
        args.format = "text"

    expectations = load_file(args.expectations)
    targets = parse_targets(args.targets, args.python)
    if not targets:
        raise UsageError("give at least one TARGET (report file, -, probe URL) or --python PATH")
    options = options_from_args(args, [t.value for t in targets])
    if not 0 <= args.wait < float("inf"):
        raise UsageError("--wait must be 0 or more seconds")
    if not 0 < args.interval < float("inf"):
        raise UsageError("--interval must be more than 0 seconds")
    outcomes = _check_until(targets, options, expectations, args.wait, args.interval)
    write_output(render(outcomes, args.format, expectations.source, args.only_failures, width=text_width(args.output)),
                 args.output)
    return exit_code(outcomes)
