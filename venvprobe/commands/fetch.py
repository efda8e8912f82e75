"""``venvprobe fetch URL``: save a report from a probe (its options are shared: :mod:`venvprobe.commands._options`)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from venvprobe.commands import EXIT_OK, UsageError, write_output
from venvprobe.commands._options import add_fetch_options, fetch_targets, options_from_args, warn
from venvprobe.fleet import Target, is_url


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fetch",
        description="Fetch the report a running probe serves (GET with Accept: application/json) and save it, "
        "e.g. to attach to a ticket or to compare later.  With --samples N, ask N times to reach several "
        "worker processes; --output-dir saves one report per distinct worker.",
        epilog="Exit codes: 0 saved, 1 the workers seen differ from each other, 2 could not fetch.",
    )
    p.add_argument("url", metavar="URL", help="probe URL, e.g. https://app.example/_venvprobe/")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    p.add_argument("--output-dir", metavar="DIR", help="with --samples: save one report per distinct worker here")
    p.add_argument("--redact", action="store_true", help="mask secrets before saving (keyed hash)")
    add_fetch_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.workers import worker_differences

    if not is_url(args.url):
        raise UsageError(f"{args.url!r} is not an http:// or https:// URL")
    options = options_from_args(args, [args.url])
    result = fetch_targets([Target("url", args.url)], options, reanalyze=False)[0]
    if result.error:
        raise UsageError(result.error)
    for note in result.notes():
        warn("fetch", note)
    workers = result.workers
    reports = [w.report for w in workers]
    if args.redact:
        from venvprobe.redact import load_key, redact_report

        key = load_key(None)
        reports = [redact_report(r, key=key) for r in reports]
    differing = worker_differences(workers) if len(workers) > 1 else {}
    if options.samples > 1:
        from venvprobe.render.safe import one_line

        from venvprobe.render.text import plural

        print(f"venvprobe fetch: {plural(len(workers), 'distinct worker')} in {plural(len(result.reports), 'sample')}: "
              + one_line(", ".join(f"{w.label} (x{w.seen})" for w in workers)), file=sys.stderr)
        for label, parts in differing.items():
            print(f"venvprobe fetch: {one_line(label)} differs from the others: {one_line('; '.join(parts))}",
                  file=sys.stderr)
    if args.output_dir:
        try:
            os.makedirs(args.output_dir, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {args.output_dir!r}: {exc.strerror or exc}") from None
        for worker, report in zip(workers, reports):
            name = worker.label.replace(" ", "-").replace("/", "-").replace("#", "-") + ".json"
            write_output(json.dumps(report, indent=2, ensure_ascii=False), os.path.join(args.output_dir, name))
        if not args.output:
            return 1 if differing else EXIT_OK
    write_output(json.dumps(reports[0], indent=2, ensure_ascii=False), args.output)
    return 1 if differing else EXIT_OK
