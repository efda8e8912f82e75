"""``venvprobe explain-log [FILE]``: explain an Apache/mod_wsgi (or uWSGI) error log."""

from __future__ import annotations

import argparse
import sys

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, UsageError, add_output_args, fails_on, read_input, text_width, write_output
from venvprobe.offline import FAIL_ON_DEFAULT


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "explain-log",
        description="Read an error log (FILE or - for stdin) and explain what it shows: CPython's \"Python path "
        "configuration:\" dump and fatal start-up error, mod_wsgi's python-home warnings, embedded mode disabled, "
        "undefined daemon groups, apps running embedded although a daemon group was started, C extensions "
        "refusing sub-interpreters, the compiled/runtime Python mismatch, configuration errors. One finding per "
        "distinct cause, with the same codes and fixes as the live report and the log lines as evidence. Homes "
        "named in the log that exist on this machine are also checked like check-home (as the daemon's uid).",
    )
    p.add_argument("file", metavar="FILE", nargs="?", default="-", help="error log (default: stdin)")
    p.add_argument("--tail", type=int, metavar="N", help="only the last N lines (e.g. since the last restart)")
    p.add_argument("--no-check-homes", action="store_true",
                   help="do not inspect the homes named in the log on this machine")
    emb = p.add_mutually_exclusive_group()
    emb.add_argument("--python", metavar="X", help="the interpreter the server embeds (for the home checks)")
    emb.add_argument("--mod-wsgi", metavar="SO", help="mod_wsgi module (default: Debian's)")
    p.add_argument("--user", metavar="NAME", help="user for homes whose daemon uid the log does not show "
                   "(default: Apache's User, www-data)")
    add_output_args(p, fail_on_default=FAIL_ON_DEFAULT)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.commands._options import resolve_embedder
    from venvprobe.offline import error_log
    from venvprobe.offline.embed import EmbedError
    from venvprobe.offline.apache_config import default_apache_user
    from venvprobe.offline.output import OfflineTable, kv_table, make_result, render

    if args.file == "-" and sys.stdin.isatty():
        raise UsageError("give a log FILE or pipe the log into stdin")
    text = read_input(args.file, "log")
    if args.tail is not None:
        if args.tail <= 0:
            raise UsageError("--tail needs a positive number of lines")
        text = "\n".join(text.splitlines()[-args.tail:])
    source = "<stdin>" if args.file == "-" else args.file
    facts = error_log.scan(text, source)
    embedder = None
    if not args.no_check_homes:
        server = "uwsgi" if facts.flavour == "uwsgi" else "mod_wsgi"
        try:
            embedder = resolve_embedder(args.python, args.mod_wsgi, None, server)
        except EmbedError:
            if args.python or args.mod_wsgi:
                raise
        if embedder is not None and not (args.python or args.mod_wsgi) and facts.python_xy \
                and embedder.major_minor != facts.python_xy:
            # The log's own banner (mod_wsgi/X Python/Y) says another mod_wsgi wrote it (e.g. a
            # pip-built 6.x): comparing its venvs with Debian's would only invent mismatches.
            embedder = None
        elif embedder is not None and not (args.python or args.mod_wsgi) and server == "mod_wsgi" \
                and facts.of("code") and not _default_mod_wsgi_writes_codes():
            # No banner (rotated away, --tail), but WSGI0036-style codes: only mod_wsgi 6
            # writes them, and the module installed here does not.
            embedder = None
    findings, checks = error_log.explain(facts, check_homes=not args.no_check_homes, embedder=embedder,
                                         default_user=args.user or default_apache_user())
    attempts = [(b.start_line, b.home or "(not set)", b.program_name, b.get("sys.prefix"),
                 f"{b.fatal or ''} {b.exception or ''}".strip()) for b in facts.blocks if b.fatal]
    tables = [kv_table("Log", [
        ("file", source), ("lines read", facts.lines), ("server", facts.flavour),
        ("daemon groups started", ", ".join(f"{n} (uid {g['uid']}, {len(g['pids'])}x)" for n, g in facts.groups.items())),
        ("Python homes named", ", ".join(h for h, _ in error_log.homes_in_log(facts))),
        ("failed Python start-ups", len(attempts)),
        ("scripts loaded", ", ".join(sorted({f"{e.groups[3]} (process={e.groups[1]!r})" for e in facts.of("loading")}))),
    ])]
    if attempts:
        tables.append(OfflineTable("Failed start-ups (CPython's path configuration)",
                                   ("line", "PYTHONHOME", "program name", "sys.prefix", "error"), attempts[:20],
                                   f"{len(attempts)} in total" if len(attempts) > 20 else ""))
    for check in checks:
        tables.append(kv_table(f"home {check.given} now (check-home)", check.facts()))
    facts_out = {"lines": facts.lines, "server": facts.flavour, "groups": facts.groups,
                 "homes": error_log.homes_in_log(facts), "startups": [b.as_dict() for b in facts.blocks],
                 "home_checks": [c.as_dict() for c in checks]}
    result = make_result("explain-log", source, findings, facts=facts_out, tables=tables)
    write_output(render(result, args.format, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(result["findings"], args.fail_on) else EXIT_OK


def _default_mod_wsgi_writes_codes() -> bool:
    """Does the installed mod_wsgi module log mod_wsgi 6's coded messages (WSGI0036...)?"""
    from venvprobe.offline.embed import DEFAULT_MOD_WSGI

    try:
        with open(DEFAULT_MOD_WSGI, "rb") as handle:  # a few MiB at most; bounded anyway
            return b"WSGI0036" in handle.read(64 << 20)
    except OSError:
        return True  # cannot tell: keep the cross-check
