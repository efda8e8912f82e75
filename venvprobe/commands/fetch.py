"""``venvprobe fetch URL``: save a report from a probe; also the fetch options shared by
``compare``, ``snapshot`` and ``diff``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from typing import Callable, List, Optional, Sequence

from venvprobe.commands import EXIT_OK, UsageError, write_output
from venvprobe.fleet import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, TOKEN_ENV, FetchOptions, Progress, \
    Target, TargetResult, gather, is_url, resolve_token, token_warnings


def add_fetch_options(p: argparse.ArgumentParser, samples: bool = True) -> None:
    """Options for reaching probe URLs (and --python collection)."""
    g = p.add_argument_group("fetching (probe URLs, --python)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"per request, whole answer included (default: {DEFAULT_TIMEOUT:g})")
    g.add_argument("--retries", type=int, default=1, metavar="N",
                   help="extra attempts after a transient failure: refused, timeout, 5xx (default: 1)")
    g.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight at once (default: 8)")
    if samples:
        g.add_argument("--samples", type=int, default=1, metavar="N",
                       help="ask each URL N times (concurrently) to reach its different worker processes")
    g.add_argument("--cacert", metavar="FILE", help="CA certificate(s) to trust for https probes (PEM)")
    g.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (warns)")
    g.add_argument("--token-file", metavar="FILE", help=f"file holding the probe's bearer token (default: ${TOKEN_ENV}, else for 127.0.0.1/localhost "
                        "URLs the token file the probe made for this user)")
    g.add_argument("--token", metavar="TOKEN", help="the token itself (works, but warns: it shows in `ps`)")
    g.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"largest answer accepted (default: {DEFAULT_MAX_BYTES >> 20} MiB)")
    g.add_argument("--python-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="seconds to wait for --python collection (default: 60)")


def warn(command: str, message: str) -> None:
    """One warning line on stderr."""
    from venvprobe.textsafe import one_line

    print(f"venvprobe {command}: warning: {one_line(message)}", file=sys.stderr)


def options_from_args(args: argparse.Namespace, urls: Sequence[str] = ()) -> FetchOptions:
    """FetchOptions from parsed options; prints the token/TLS warnings (UsageError on bad values)."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    samples = getattr(args, "samples", 1)
    if samples < 1:
        raise UsageError("--samples must be at least 1")
    if args.max_bytes < 1024:
        raise UsageError("--max-bytes must be at least 1024")
    if args.insecure and args.cacert:
        raise UsageError("--insecure and --cacert contradict each other")
    token, warnings = resolve_token(args.token, args.token_file)
    if token is None:
        token = _own_probe_token([u for u in urls if is_url(u)])
    for message in warnings + token_warnings([u for u in urls if is_url(u)], token):
        warn(args.command, message)
    if args.insecure and any(u.startswith("https://") for u in urls):
        warn(args.command, "--insecure: TLS certificates are not verified, anyone on the network path "
                           "can pose as the probe" + (" and receive the token" if token else ""))
    options = FetchOptions(timeout=args.timeout, retries=args.retries, cacert=args.cacert, insecure=args.insecure,
                           token=token, max_bytes=args.max_bytes, concurrency=args.concurrency, samples=samples,
                           python_timeout=args.python_timeout)
    if any(u.startswith("https://") for u in urls):
        options.ssl_context()  # a bad --cacert stops the command here, once, not at every target
    return options


def _own_probe_token(urls: Sequence[str]) -> Optional[str]:
    """The token a probe of this user on this host made for itself, for loopback URLs only.

    That file (``~/.config/venvprobe/probe.token`` or
    ``$TMPDIR/venvprobe-<uid>/probe.token``, mode 0600) is what lets a person
    on the host, running as the app's user, fetch without configuring
    anything; it is never sent to another host.
    """
    from venvprobe.fleet import _is_loopback
    from venvprobe.probe.config import find_default_token

    if not urls or not all(_is_loopback(urllib.parse.urlsplit(u).hostname) for u in urls):
        return None
    return find_default_token(create=False)[0]


def fetch_targets(targets: List[Target], options: FetchOptions, reanalyze: bool = True,
                  on_target: Optional[Callable[[int, TargetResult], None]] = None) -> List[TargetResult]:
    """gather() with a progress line when stderr is a terminal."""
    import dataclasses

    total = sum(options.samples if t.kind == "url" else 1 for t in targets)

    def retried(index: int, result: TargetResult) -> TargetResult:
        # A probe makes its own token on its first request: if this request
        # was that one, the token is there now.  Asked once more with it.
        if options.token is None and result.error and " 404 " in result.error and targets[index].kind == "url":
            token = _own_probe_token([t.value for t in targets if t.kind == "url"])
            if token:
                again = dataclasses.replace(options, token=token)
                result = gather([targets[index]], again, progress=Progress(0), reanalyze=reanalyze)[0]
        return result

    if on_target is None:
        results = gather(targets, options, progress=Progress(total), reanalyze=reanalyze)
        return [retried(i, r) for i, r in enumerate(results)]
    return gather(targets, options, progress=Progress(total), reanalyze=reanalyze,
                  on_target=lambda i, r: on_target(i, retried(i, r)))


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
    from venvprobe.fleet import worker_differences

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
        from venvprobe.textsafe import one_line

        from venvprobe.textfmt import plural

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
