"""compare's results as tables and text, and the one place that picks compare's output format.

Per target (failing ones first): a one-line summary, then a :class:`Table`
of the checks not met (every check with ``--all``); with several targets, a
summary table of which check failed where.  JSON, JUnit and TAP are drawn
by :mod:`venvprobe.render.json`, :mod:`~venvprobe.render.junit` and
:mod:`~venvprobe.render.tap`.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from venvprobe.results import FAIL, PASS, SKIP, TargetOutcome, exit_code, failure_summary
from venvprobe.render.junit import render_junit
from venvprobe.render.table import Table
from venvprobe.render.tap import render_tap

FORMATS = ("text", "json", "junit", "tap")

_STATUS_WORD = {PASS: "met", FAIL: "NOT MET", SKIP: "skipped"}
_TARGET_WORD = {PASS: "MET", FAIL: "NOT MET"}
_ORDER = {"error": 0, FAIL: 1, SKIP: 2, PASS: 3}


def target_summary(o: TargetOutcome) -> str:
    """One line per target: its status and its counts ("NOT MET (4 checks: 1 met, 2 not met, 1 skipped)")."""
    from venvprobe.render.text import plural

    if o.error:
        return f"could not check: {o.error}"
    c = o.counts()
    return (f"{_TARGET_WORD[o.status]} ({plural(len(o.results), 'check')}: {c[PASS]} met, {c[FAIL]} not met, "
            f"{c[SKIP]} skipped)")


def target_table(o: TargetOutcome, only_failures: bool = True) -> Table:
    """The checks of one target, failures first; only the ones not met with *only_failures*.

    Cells are the results' own strings: a version ``3.10`` stays ``3.10``.
    """
    shown = [r for r in sorted(o.results, key=lambda r: _ORDER[r.status]) if not only_failures or r.status == FAIL]
    return Table("checks", f"{o.target}: {target_summary(o)}", ("result", "check", "expected", "actual"),
                 [(_STATUS_WORD[r.status], r.check, r.expected, r.actual) for r in shown])


def summary_table(outcomes: Sequence[TargetOutcome]) -> Table:
    """Every check not met somewhere, and where."""
    return Table("summary", "summary", ("check", "not met on"),
                 [(check, ", ".join(where)) for check, where in failure_summary(outcomes)])


def render_text(outcomes: Sequence[TargetOutcome], source: str = "", only_failures: bool = True,
                width: Optional[int] = None) -> str:
    """Per target (failing ones first): a one-line summary, then the checks not met.

    Met and skipped checks are counted in the summary line and listed only
    with ``only_failures=False`` (``--all``), the same on a terminal and in
    a CI log.  Tables fit *width* columns (None: no limit).
    """
    from venvprobe.render.text import plural, table, wrap

    out: List[str] = []
    for o in sorted(outcomes, key=lambda o: _ORDER[o.status]):
        checks = target_table(o, only_failures)
        out += wrap(f"== {checks.title}", width, indent="   ", first_indent="")
        if len(o.workers) > 1 or o.samples > 1:
            out += wrap(f"{plural(len(o.workers), 'worker')} in {plural(o.samples, 'sample')}: {', '.join(o.workers)}",
                        width, indent="     ", first_indent="   ")
        for note in o.notes:
            out += wrap(f"note: {note}", width, indent="         ", first_indent="   ")
        if o.error:
            out.append("")
            continue
        out += table(checks.headers, checks.rows, width)
        hidden = len(o.results) - len(checks.rows)
        if hidden and any(r.status == FAIL for r in o.results):
            out.append(f"({plural(hidden, 'other check')} met or skipped: --all lists them)")
        out.append("")
    if len(outcomes) > 1:
        states = [o.status for o in outcomes]
        out += wrap(f"== summary: {len(outcomes)} targets, {states.count(PASS)} met all, "
                    f"{states.count(FAIL)} not met, {states.count('error')} could not be checked", width,
                    indent="   ", first_indent="")
        summary = summary_table(outcomes)
        if summary.rows:
            out += table(summary.headers, summary.rows, width)
    return "\n".join(out).rstrip("\n") + "\n"


def render_json(outcomes: Sequence[TargetOutcome], source: str = "") -> str:
    """Machine-readable results (stable keys; see docs/expectations.md)."""
    from venvprobe.render.json import document

    code = exit_code(outcomes)
    return document({
        "expectations": source,
        "exit_code": code,
        "status": {0: "met", 1: "not met", 2: "could not check"}[code],
        "targets": [o.to_dict() for o in outcomes],
        "summary": [{"check": c, "not_met_on": w} for c, w in failure_summary(outcomes)],
    })


def render(outcomes: Sequence[TargetOutcome], fmt: str, source: str = "", only_failures: bool = True,
           width: Optional[int] = None) -> str:
    """Render *outcomes* in one of :data:`FORMATS` (``table`` is the old name of ``text``)."""
    if fmt in ("text", "table"):
        return render_text(outcomes, source, only_failures, width)
    machine = {"json": render_json, "junit": render_junit, "tap": render_tap}.get(fmt)
    if machine is None:
        raise ValueError(f"unknown format {fmt!r}")
    return machine(outcomes, source)


__all__ = ["FORMATS", "render", "render_json", "render_text", "summary_table", "target_summary", "target_table"]
