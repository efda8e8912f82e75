"""Sub-commands of the ``venvprobe`` CLI, one module each, plus shared helpers."""

from __future__ import annotations

import os
import stat
import sys
from typing import Optional

# UsageError is re-exported for the command modules (library code raises it too).
from venvprobe.errors import UsageError
from venvprobe.vocab import FAIL_ON, SEVERITY_RANK

__all__ = ["UsageError", "check_report", "read_input", "load_report", "write_output", "text_width",
           "add_output_args", "add_prediction_args", "add_config_check_args", "fails_on", "EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
MAX_REPORT_BYTES = 64 << 20


def read_input(path: str, what: str = "file", limit: int = MAX_REPORT_BYTES, max_lines: Optional[int] = None) -> str:
    """Read a regular file (or stdin for "-") as text: never blocks on a FIFO, capped, one-line InputError."""
    from venvprobe.safeio import read_text

    return read_text(path, what, limit, max_lines)


def check_report(report: object, source: str) -> dict:
    """:func:`venvprobe.report_shape.check_report` (imported when used: start-up time of every command)."""
    from venvprobe.report_shape import check_report as check

    return check(report, source)


def load_report(path: str) -> dict:
    """Load a saved report (JSON) and check it looks like one of ours (InputError otherwise)."""
    from venvprobe.redact import scrub_report
    from venvprobe.report_shape import load_report_text

    # A saved report may predate value-based masking: mask before any output.
    return scrub_report(load_report_text(read_input(path, "report"), path))


def _write_in_place(data: str, path: str) -> None:
    """Write into an existing non-regular file; a FIFO nobody reads is refused, not waited on."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    try:
        os.set_blocking(fd, True)
        with open(fd, "w", encoding="utf-8", closefd=True) as handle:
            handle.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def write_output(text: str, path: Optional[str]) -> None:
    """Write to *path* atomically (nothing half-written on error), or to stdout."""
    if not path or path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    data = text if text.endswith("\n") else text + "\n"
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # /dev/null, /dev/stdout, a FIFO: write into it. Replacing it would swap a root-owned device
        # node for a regular file (seen: -o /dev/null as root turned /dev/null into a file).
        _write_in_place(data, path)
        return
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def text_width(output: Optional[str]) -> Optional[int]:
    """Columns for text output: $COLUMNS, else the terminal's; None (no limit) when piped or written to a file."""
    from venvprobe.render.text import MIN_WIDTH, terminal_width

    if output and output != "-":
        env = os.environ.get("COLUMNS", "")
        return max(MIN_WIDTH, int(env)) if env.strip().isdigit() and int(env) > 0 else None
    return terminal_width()


def add_output_args(parser, formats=("text", "markdown", "json", "html"), fail_on_default: str = "warning") -> None:
    """--format, --output and --fail-on, the same on every checking command."""
    parser.add_argument("--format", "-f", choices=formats, default=formats[0],
                        help=f"{'|'.join(formats)} (default: {formats[0]}; text fits $COLUMNS or the terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--fail-on", choices=FAIL_ON, default=fail_on_default,
                        help=f"exit 1 when a finding at or above this severity exists (default: {fail_on_default})")


def add_prediction_args(parser) -> None:
    """Opt-outs of the offline checks that run programs (the embedding Python, test(1) as a user)."""
    parser.add_argument("--no-predict", action="store_true", help="do not run the embedding Python to predict start-up")
    parser.add_argument("--no-confirm", action="store_true",
                        help="do not confirm permissions by running test(1) as the user")


def add_config_check_args(parser, user_help: str, homes_help: str) -> None:
    """What check-apache and check-uwsgi both take after their own options: the user, the homes, the
    predictions, expectations files per app and the output (one place, so the two never drift apart)."""
    from venvprobe.offline import FAIL_ON_DEFAULT

    parser.add_argument("--user", metavar="NAME", help=user_help)
    parser.add_argument("--no-homes", action="store_true", help=homes_help)
    add_prediction_args(parser)
    parser.add_argument("--expectations", metavar="DIR",
                        help="write one expectations file per app into DIR (for venvprobe compare)")
    add_output_args(parser, fail_on_default=FAIL_ON_DEFAULT)


def fails_on(findings: list, threshold: Optional[str]) -> bool:
    """True when any finding is at or above severity *threshold* (None: never)."""
    if not threshold or threshold == "never":
        return False
    rank = SEVERITY_RANK[threshold]
    return any(SEVERITY_RANK.get(f.get("severity"), 0) >= rank for f in findings)
