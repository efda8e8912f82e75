"""``venvprobe diff A B``: what differs between two reports."""

from __future__ import annotations

import argparse

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, UsageError, text_width, write_output
from venvprobe.commands._options import add_fetch_options, fetch_targets, options_from_args
from venvprobe.fleet import parse_targets


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    from venvprobe.diff import DIFF_FORMATS

    p = sub.add_parser(
        "diff",
        description="Compare two reports field by field: interpreter, identity, sys.path order, distributions "
        "added/removed/changed, shadowing, findings and environment.  A and B are report files, - (one of "
        "them), probe URLs or python:PATH.  Per-process values (pids, times) are not compared.",
        epilog="Exit codes: 0 no differences, 1 the reports differ, 2 could not read A or B.",
    )
    p.add_argument("a", metavar="A", help="first report: file, -, probe URL or python:PATH")
    p.add_argument("b", metavar="B", help="second report")
    p.add_argument("--format", "-f", choices=DIFF_FORMATS, default="text",
                   help="text (default; fits $COLUMNS or the terminal), markdown (for tickets), json or html")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    add_fetch_options(p, samples=False)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.diff import diff_reports, render_diff

    targets = parse_targets([args.a, args.b])
    options = options_from_args(args, [t.value for t in targets])
    results = fetch_targets(targets, options)
    for result in results:
        if result.error:
            raise UsageError(result.error)
    d = diff_reports(results[0].reports[0], results[1].reports[0])
    write_output(render_diff(d, args.format, targets[0].label, targets[1].label, width=text_width(args.output)),
                 args.output)
    return EXIT_OK if d["same"] else EXIT_FINDINGS
