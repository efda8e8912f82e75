"""Build a complete report: collect (here or in another interpreter), then analyse."""

from __future__ import annotations

import os
import subprocess
from typing import Any, Dict, Optional

from venvprobe import ship
from venvprobe._quick import CollectError, exit_error, find_interpreter, run_shipped
from venvprobe.analyze import analyze
from venvprobe.collect import collector
from venvprobe.collect.common import SCHEMA_NAME, SCHEMA_VERSION

__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "build_report", "collect_foreign", "CollectError"]

Report = Dict[str, Any]


def build_report(options: Optional[dict] = None) -> Report:
    """Collect a report of *this* interpreter and attach its findings."""
    report = collector.collect(options)
    report["findings"] = analyze(report)
    return report


def collect_foreign(python: str, timeout: float = 60.0, redact_key: Optional[str] = None) -> Report:
    """Run the collector inside interpreter *python* and return its analysed report.

    Nothing is installed into the target: :mod:`venvprobe.ship` sends the
    collector over stdin and runs it from memory.  The analysis runs here.
    """
    exe = find_interpreter(python)
    payload = ship.payload(key=redact_key or "", analyse=False)
    if hasattr(os, "posix_spawn"):
        # Reads bounded in time and size (a target printing without end is stopped).
        shipped = run_shipped(exe, payload, timeout)
        if shipped is None:  # pragma: no cover - the loader falls back only when asked to analyse
            raise CollectError(f"{exe} refused to run the collector")
        stdout = shipped[1]
    else:  # pragma: no cover - not POSIX
        try:
            proc = subprocess.run([exe, "-c", ship.BOOTSTRAP], input=payload, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CollectError(f"{exe} did not finish collecting within {timeout:g} s") from None
        except OSError as exc:
            raise CollectError(f"cannot run {exe}: {exc.strerror or exc}") from None
        if proc.returncode != 0:
            raise exit_error(exe, proc.returncode, proc.stderr)
        stdout = proc.stdout.partition(b"\n")[2]
    from venvprobe.report_shape import ShapeError, check_shape
    from venvprobe.safeio import loads_json

    try:
        report = loads_json(stdout.decode("utf-8", "surrogatepass"))
    except ValueError as exc:
        raise CollectError(f"{exe} printed something that is not a report ({exc})") from None
    if not isinstance(report, dict) or not isinstance(report.get("schema"), dict):
        raise CollectError(f"{exe} printed JSON that is not a venvprobe report")
    try:
        check_shape(report)
    except ShapeError as exc:
        raise CollectError(f"{exe} printed a malformed report: {exc}") from None
    report["findings"] = analyze(report)
    return report
