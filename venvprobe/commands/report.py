"""``venvprobe report``: report on this interpreter, another one, or a saved report."""

from __future__ import annotations

import argparse

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, fails_on, load_report, text_width, write_output
from venvprobe.render import FORMATS, SECTIONS, render


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "report",
        description="Collect a report of this interpreter (default), of another interpreter (--python, "
        "nothing is installed into it), or re-render a saved report (--input).",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--python", metavar="PATH", help="interpreter (or venv root) to report on")
    src.add_argument("--input", metavar="REPORT", help="a saved JSON report (or - for stdin) to re-analyse and render")
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--section", action="append", choices=SECTIONS, help="only these sections (repeatable)")
    p.add_argument("--redact", action="store_true", help="mask secrets for sharing (keyed hash, comparable across reports)")
    p.add_argument("--redact-users", action="store_true", help="with --redact: also mask user names in paths")
    p.add_argument("--redact-key", metavar="KEY", help="key for redaction hashes (default: $VENVPROBE_REDACT_KEY or a per-user key file)")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default="never",
                   help="exit 1 when a finding at or above this severity exists (default: never)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for --python (default: 60)")
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.analyze import analyze
    from venvprobe.report import build_report, collect_foreign

    if args.redact_users and not args.redact:
        args.redact = True
    key = None
    if args.redact:
        from venvprobe.redact import load_key

        key = load_key(args.redact_key)
    if args.input:
        report = load_report(args.input)
        report["findings"] = analyze(report)
    elif args.python:
        report = collect_foreign(args.python, timeout=args.timeout, redact_key=key.decode() if key else None)
    else:
        report = build_report({"redact_key": key.decode()} if key else None)
    if args.redact:
        from venvprobe.redact import redact_report

        report = redact_report(report, key=key, users=args.redact_users)
    write_output(render(report, args.format, args.section, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(report.get("findings") or [], args.fail_on) else EXIT_OK
