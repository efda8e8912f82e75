"""``venvprobe probe-script [-o FILE]``: write the probe as one standard-library-only WSGI file."""

from __future__ import annotations

import argparse
import os

from venvprobe.commands import EXIT_OK, UsageError, write_output


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "probe-script",
        description="Write the probe -- collector, analysis, text/JSON/HTML output, /identity, /metrics and the "
        "same access rules -- as one WSGI file that defines `application` and needs nothing installed in the "
        "app's environment.  Mount it with the app's process and application group (see the file's header).",
        epilog="Exit codes: 0 written, 2 could not write.",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write here (mode 0644) instead of stdout")
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.probe.single_file import build_script

    try:
        text = build_script()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UsageError(f"cannot assemble the probe script from this installation: {exc}") from None
    write_output(text, args.output)
    if args.output and args.output != "-":
        try:
            # The web server's user must read it; it holds no secret.
            os.chmod(args.output, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot chmod {args.output!r}: {exc.strerror or exc}") from None
    return EXIT_OK
