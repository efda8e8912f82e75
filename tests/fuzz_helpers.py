"""Drive every consumer of a report, an expectations file, a config or a log with one input.

Used by the fuzzing suite (tests/test_fuzz.py) and to replay the crash
inputs kept under tests/data/fuzz/.  A *refusal* (the one-line error the
CLI prints with exit 2) is a correct answer; any other exception is a crash.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data" / "fuzz"

KEY = b"k" * 32


class Refused(Exception):
    """The input was refused with a one-line error: the right answer for bad input."""


def _refusals():
    from venvprobe.commands import UsageError
    from venvprobe.expectations import ExpectationsError
    from venvprobe.fleet import FetchError
    from venvprobe.offline.apache_config import ConfigError
    from venvprobe.offline.uwsgi_config import IniError

    return (UsageError, ExpectationsError, FetchError, ConfigError, IniError)


def load_report_text(text: str) -> dict:
    """What `report --input`, diff, compare and snapshot do with a report file's text."""
    from venvprobe.fleet import _parse_report_text

    try:
        return _parse_report_text(text, "<fuzz>")
    except _refusals() as exc:
        raise Refused(str(exc)) from None


def exercise_report(report: Any, other: dict) -> None:
    """Every reader of a loaded report: analyze, render (all formats), diff, compare, snapshot, redact, fleet."""
    from venvprobe.analyze import analyze
    from venvprobe.compare import compare_workers, render as render_compare, TargetOutcome
    from venvprobe.diff import diff_reports, render_diff, summary_line
    from venvprobe.expectations import loads
    from venvprobe.fleet import distinct_workers, fingerprint, worker_differences
    from venvprobe.probe.metrics import render_metrics
    from venvprobe.redact import redact_report
    from venvprobe.render import FORMATS, SECTIONS, render, summary_counts
    from venvprobe.snapshot import snapshot

    try:
        report = load_report_text(json.dumps(report))
    except Refused:
        return
    report = copy.deepcopy(report)
    report["findings"] = analyze(report)
    for fmt in FORMATS:
        render(report, fmt)
    for section in SECTIONS:
        render(report, "text", [section])
    summary_counts(report)
    render_metrics(report)
    for a, b in ((report, other), (other, report)):
        d = diff_reports(a, b)
        summary_line(d)
        for fmt in ("text", "markdown", "json"):
            render_diff(d, fmt, "a", "b")
    expectations = loads(snapshot(other, "<fuzz>"), "<snapshot>")
    outcome = TargetOutcome("<fuzz>", results=compare_workers(expectations, [report, other]))
    for fmt in ("table", "json", "junit", "tap"):
        render_compare([outcome], fmt, "<fuzz>")
    loads(snapshot(report, "<fuzz>"), "<snapshot of fuzz>")
    redact_report(report, key=KEY)
    redact_report(report, key=KEY, users=True)
    workers = distinct_workers([report, other])
    worker_differences(workers)
    fingerprint(report)


def exercise_expectations(text: str, report: dict) -> None:
    """Load an expectations file's text and check a real report against it."""
    from venvprobe.compare import compare_workers, render as render_compare, TargetOutcome
    from venvprobe.expectations import loads

    try:
        expectations = loads(text, "<fuzz>")
    except _refusals():
        return
    outcome = TargetOutcome("<fuzz>", results=compare_workers(expectations, [report]))
    for fmt in ("table", "json", "junit", "tap"):
        render_compare([outcome], fmt, "<fuzz>")


def run_cli(args: List[str]) -> int:
    """The CLI in-process: a refusal is exit 2 with one line; anything raised is a crash."""
    import contextlib
    import io

    from venvprobe._cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(args))
    lines = err.getvalue().splitlines()
    if code == 2:
        assert len(lines) == 1, lines
    return code


OFFLINE = ["--no-homes", "--no-predict", "--no-confirm", "--fail-on", "never"]


def exercise_apache(text: str, directory: Path) -> None:
    """check-apache on one configuration file, every format (no programs run)."""
    conf = directory / "fuzz.conf"
    conf.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["check-apache", str(conf), *OFFLINE, "--envvars", str(directory / "no-envvars"),
                 "--format", fmt, "-o", str(directory / "out")])


def exercise_uwsgi(text: str, directory: Path) -> None:
    ini = directory / "fuzz.ini"
    ini.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["check-uwsgi", str(ini), *OFFLINE, "--format", fmt, "-o", str(directory / "out")])


def exercise_log(text: str, directory: Path) -> None:
    log = directory / "fuzz.log"
    log.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["explain-log", str(log), "--no-check-homes", "--fail-on", "never", "--format", fmt,
                 "-o", str(directory / "out")])


def crash_signature(exc: BaseException) -> str:
    """Exception type and the innermost venvprobe frame: one crash, however it was reached."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "venvprobe" in f.filename and "tests" not in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return f"{type(exc).__name__} in {where}"
