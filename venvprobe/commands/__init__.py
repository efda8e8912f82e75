"""Sub-commands of the ``venvprobe`` CLI, one module each, plus shared helpers."""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

from venvprobe.catalog import SEVERITY_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
MAX_REPORT_BYTES = 64 << 20


class UsageError(Exception):
    """Bad input (file, URL, option): printed as one line by the CLI, exit code 2."""


def read_input(path: str, what: str = "file", limit: int = MAX_REPORT_BYTES, max_lines: Optional[int] = None) -> str:
    """Read a regular file (or stdin for "-") as text: never blocks on a FIFO, capped, one-line errors."""
    from venvprobe.safeio import InputError, read_limited

    try:
        data = read_limited(path, what, limit, max_lines)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    return data.decode("utf-8", "replace")


def load_report(path: str) -> dict:
    """Load a saved report (JSON) and check it looks like one of ours."""
    from venvprobe.safeio import loads_json

    text = read_input(path, "report")
    try:
        report = loads_json(text)
    except ValueError as exc:
        raise UsageError(f"{path!r} is not JSON ({exc})") from None
    check_report(report, path)
    from venvprobe.redact import scrub_report

    # A saved report may predate value-based masking: mask before any output.
    return scrub_report(report)


def check_report(report: object, source: str) -> dict:
    """Validate the schema header of a report from *source*."""
    from venvprobe.report import SCHEMA_NAME, SCHEMA_VERSION

    if not isinstance(report, dict) or not isinstance(report.get("schema"), dict):
        raise UsageError(f"{source!r} is not a venvprobe report (no schema header)")
    schema = report["schema"]
    if schema.get("name") == "venvprobe.identity":
        raise UsageError(f"{source!r} is the probe's /identity (which process answered), not a report: "
                         "fetch the probe's root URL (.../_venvprobe/) instead")
    if schema.get("name") == "venvprobe.error":
        raise UsageError(f"{source!r} is the probe's error answer, not a report: {str(report.get('message'))[:300]}")
    if schema.get("name") != SCHEMA_NAME:
        raise UsageError(f"{source!r} is not a venvprobe report (schema {schema.get('name')!r})")
    version = schema.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise UsageError(
            f"{source!r} uses report schema version {version!r}; this venvprobe reads up to {SCHEMA_VERSION}: upgrade venvprobe"
        )
    from venvprobe.report_shape import ShapeError, check_shape

    try:
        check_shape(report)
    except ShapeError as exc:
        raise UsageError(f"{source!r} is not a well-formed venvprobe report: {exc}") from None
    # A section sub-resource (/findings, /path...) or `report --section` holds
    # part of a report; analysing it would invent findings from what is absent.
    # Saved before sub-resources said so, such a document lacks the
    # interpreter or the sys.path section, which every report has.
    held = report.get("sections")
    if held is not None or "interpreter" not in report or "sys_path" not in report:
        if not isinstance(held, list):
            held = [k for k in report if k not in ("schema", "generated_at")]
        what = ", ".join(str(k) for k in held[:10]) or "nothing"
        raise UsageError(f"{source!r} is part of a report (it holds: {what}), from a probe sub-resource such as "
                         "/findings or from `report --section`: fetch the probe's root URL (.../_venvprobe/) "
                         "or save `venvprobe report -f json` without --section")
    return report


def write_output(text: str, path: Optional[str]) -> None:
    """Write to *path* atomically (nothing half-written on error), or to stdout."""
    if not path or path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def text_width(output: Optional[str]) -> Optional[int]:
    """Columns for text output: $COLUMNS, else the terminal's; None (no limit) when piped or written to a file."""
    from venvprobe.textfmt import MIN_WIDTH, terminal_width

    if output and output != "-":
        env = os.environ.get("COLUMNS", "")
        return max(MIN_WIDTH, int(env)) if env.strip().isdigit() and int(env) > 0 else None
    return terminal_width()


def add_output_args(parser, formats=("text", "markdown", "json", "html"), fail_on_default: str = "warning") -> None:
    """--format, --output and --fail-on, the same on every checking command."""
    parser.add_argument("--format", "-f", choices=formats, default=formats[0],
                        help=f"{'|'.join(formats)} (default: {formats[0]}; text fits $COLUMNS or the terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default=fail_on_default,
                        help=f"exit 1 when a finding at or above this severity exists (default: {fail_on_default})")


def add_prediction_args(parser) -> None:
    """Opt-outs of the offline checks that run programs (the embedding Python, test(1) as a user)."""
    parser.add_argument("--no-predict", action="store_true", help="do not run the embedding Python to predict start-up")
    parser.add_argument("--no-confirm", action="store_true",
                        help="do not confirm permissions by running test(1) as the user")


def fails_on(findings: list, threshold: Optional[str]) -> bool:
    """True when any finding is at or above severity *threshold* (None: never)."""
    if not threshold or threshold == "never":
        return False
    rank = SEVERITY_RANK[threshold]
    return any(SEVERITY_RANK.get(f.get("severity"), 0) >= rank for f in findings)
