"""Build a complete report: collect (here or in another interpreter), then analyse."""

from __future__ import annotations

import os
import subprocess
from typing import Any, Dict, Optional

from venvprobe import _collect
from venvprobe._quick import CollectError, cache_stem, exit_error, find_interpreter
from venvprobe.analyze import analyze

SCHEMA_NAME = _collect.SCHEMA_NAME
SCHEMA_VERSION = _collect.SCHEMA_VERSION

Report = Dict[str, Any]

# Runs inside the target.  stdin carries the redaction key, a cache-file stem and
# the collector source, so nothing secret shows in `ps` and nothing is written
# into the target environment.  Compiling the collector costs more than running
# it (~20 ms), so its code object is cached per target cache tag in the user's
# cache directory, named by a hash of the source so stale code never runs.
_BOOTSTRAP = """\
import sys
if sys.version_info < (3, 6):
    sys.stderr.write('venvprobe: the collector needs Python 3.6 or newer, this is %s\\n' % sys.version.split()[0])
    sys.exit(3)
import os, marshal
k, _, r = sys.stdin.buffer.read().partition(b'\\n')
c, _, s = r.partition(b'\\n')
p = c.decode() + sys.implementation.cache_tag + '.bin' if c else ''
code = None
if p:
    try:
        with open(p, 'rb') as f:
            code = marshal.loads(f.read())
    except Exception:
        code = None
if code is None:
    code = compile(s, '<venvprobe collector>', 'exec')
    if p:
        try:
            t = '%s.%d.tmp' % (p, os.getpid())
            with open(t, 'wb') as f:
                f.write(marshal.dumps(code))
            os.replace(t, p)
        except Exception:
            pass
g = {'__name__': '__venvprobe_collect__'}
exec(code, g)
g['_main_foreign'](k.decode() or None)
"""


def build_report(options: Optional[dict] = None) -> Report:
    """Collect a report of *this* interpreter and attach its findings."""
    report = _collect.collect(options)
    report["findings"] = analyze(report)
    return report


def collector_source() -> bytes:
    """The collector's source, as sent to a foreign interpreter."""
    with open(_collect.__file__, "rb") as handle:
        return handle.read()


def _cache_stem(source: bytes) -> str:
    """Path prefix for cached collector bytecode, or "" when no private cache dir is usable."""
    return cache_stem(source, "collector")


def collect_foreign(python: str, timeout: float = 60.0, redact_key: Optional[str] = None) -> Report:
    """Run the collector inside interpreter *python* and return its analysed report.

    Nothing is installed into the target: the collector's source goes over stdin.
    """
    exe = find_interpreter(python)
    source = collector_source()
    payload = (redact_key or "").encode() + b"\n" + _cache_stem(source).encode() + b"\n" + source
    if hasattr(os, "posix_spawn"):
        from venvprobe._quick import run_target

        # Reads bounded in time and size (a target printing without end is stopped).
        returncode, stdout, stderr = run_target(exe, ["-c", _BOOTSTRAP], payload, timeout)
    else:  # pragma: no cover - not POSIX
        try:
            proc = subprocess.run([exe, "-c", _BOOTSTRAP], input=payload, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CollectError(f"{exe} did not finish collecting within {timeout:g} s") from None
        except OSError as exc:
            raise CollectError(f"cannot run {exe}: {exc.strerror or exc}") from None
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    if returncode != 0:
        raise exit_error(exe, returncode, stderr)
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
