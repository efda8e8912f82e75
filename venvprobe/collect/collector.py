"""The collector: runs every section of the report, each on its own.

:data:`SECTIONS` is the report's order.  Each section is a function of the
shared :class:`~venvprobe.collect.context.Context`; one that raises records
``{"error": ...}`` and the rest of the report stands.  Every string of every
section goes through the masker once more on the way out.

``_foreign_report`` / ``_main_foreign`` are the entry points when the
package runs inside another interpreter (``report --python X``, see
:mod:`venvprobe.ship`).
"""

import sys

from venvprobe.collect import environment, identity, interpreter, modules, process, shadowing, sys_path
from venvprobe.collect.common import MAX_REPORT_BYTES, SCHEMA_NAME, SCHEMA_VERSION, _error, _iso_now
from venvprobe.collect.context import Context
from venvprobe.collect.jsonout import dumps


def _distributions(ctx):
    return ctx.distributions()


#: (report key, section function), in the report's order.
SECTIONS = (
    ("interpreter", interpreter.collect),
    ("identity", identity.collect),
    ("sys_path", sys_path.collect),
    ("distributions", _distributions),
    ("shadowed", shadowing.collect),
    ("modules", modules.collect),
    ("process", process.collect),
    ("environment", environment.collect),
)


class Collector(object):
    """Collect one report of the interpreter it runs in (options: see :class:`Context`)."""

    def __init__(self, options=None):
        self.ctx = Context(options)
        self.options = self.ctx.options
        self.masker = self.ctx.masker

    @property
    def skipped(self):
        return self.ctx.skipped

    def collect(self):
        ctx = self.ctx
        report = {
            "schema": {"name": SCHEMA_NAME, "version": SCHEMA_VERSION},
            "generated_at": _iso_now(),
            "collector": {
                "python": "%d.%d.%d" % sys.version_info[:3],
                "in_process": not ctx.foreign,
            },
        }
        if "removed_path0" in ctx.options:
            report["collector"]["removed_sys_path_0"] = ctx.options["removed_path0"]
        skip = set(ctx.options.get("skip") or ())
        _neutralise_nul_entries()
        for name, section in SECTIONS:
            if name in skip:
                continue
            try:
                # Every string once more by value: a secret can sit in any
                # path or name (a token in a directory name, in sys.path).
                report[name] = ctx.masker.scrub(section(ctx))
            except Exception as exc:  # a failing section must not sink the others
                report[name] = _error(exc)
        if ctx.skipped:
            report["collector"]["skipped"] = list(ctx.skipped)
        report["findings"] = []
        return report

    def identity(self):
        return identity.collect(self.ctx)

    def identity_masked(self):
        """The identity section through this collector's masker, masked once per cached identity (the probe's /identity)."""
        return identity.masked(self.ctx)


def _neutralise_nul_entries():
    """Mark sys.path entries holding a NUL byte as having no finder.

    The import system stats every entry with no cached finder, and a NUL
    makes that stat raise ValueError instead of OSError: every later import
    in the process fails, the collector's own lazy imports included, which
    cost whole sections.  None in ``sys.path_importer_cache`` is CPython's
    own "no finder for this entry": the entry is skipped, as it should be
    (no such path can exist).  sys.path itself is left as it is.
    """
    cache = getattr(sys, "path_importer_cache", None)
    if cache is None:
        return
    for raw in list(sys.path):
        if isinstance(raw, str) and "\0" in raw and raw not in cache:
            try:
                cache[raw] = None
            except Exception:
                pass


def collect(options=None):
    """Collect a report of the interpreter this code runs in (plain dict)."""
    return Collector(options).collect()


def encode_report(report):
    """The report as JSON bytes, its largest sections dropped if it is over MAX_REPORT_BYTES."""
    data = dumps(report).encode("utf-8", "surrogatepass")
    if len(data) > MAX_REPORT_BYTES:
        data = dumps(_shrink(report, len(data))).encode("utf-8", "surrogatepass")
    return data


def _main_foreign(redact_key=None):
    """Entry point when the collector runs in a foreign interpreter on its own: print the report as JSON."""
    data = encode_report(_foreign_report(redact_key))
    out = getattr(sys.stdout, "buffer", None)
    if out is not None:
        out.write(data)
        out.flush()
    else:
        sys.stdout.write(data.decode("utf-8"))


def _shrink(report, size):
    """*report* with its largest sections replaced by an error until it fits MAX_REPORT_BYTES."""
    sizes = []
    for name, value in report.items():
        if name not in ("schema", "generated_at", "collector", "findings"):
            sizes.append((len(dumps(value)), name))
    sizes.sort(reverse=True)
    skipped = report["collector"].setdefault("skipped", [])
    for section_size, name in sizes:
        if size <= MAX_REPORT_BYTES:
            break
        report[name] = {"error": "skipped: this section was %d MiB, over the report's %d MiB cap"
                                 % (section_size >> 20, MAX_REPORT_BYTES >> 20)}
        skipped.append({"what": name, "detail": "section over the report size cap", "count": 1})
        size -= section_size
    return report


def _foreign_report(redact_key=None, fresh_process=False):
    """The report of this (foreign) interpreter, as `venvprobe report --python` collects it.

    *fresh_process*: the caller started this interpreter with ``-c`` (venvprobe.ship), so it
    runs in the main interpreter.
    """
    options = {"foreign": True, "use_psutil": False}
    if fresh_process:
        options["fresh_process"] = True
    # `python -c` put the caller's cwd first on sys.path; no server process
    # has it, and listing whatever directory the user ran venvprobe from
    # would invent shadowing that the target never sees.
    if sys.path and sys.path[0] == "" and not getattr(sys.flags, "safe_path", False):
        del sys.path[0]
        options["removed_path0"] = ""
    if redact_key:
        options["redact_key"] = redact_key
    return collect(options)

