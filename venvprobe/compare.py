"""Check reports against expectations: the engine behind ``venvprobe compare``.

:func:`compare` is a pure function of an :class:`~venvprobe.expectations.Expectations`
and report data (like :func:`venvprobe.analyze.analyze`), so a check gives the
same answer for a live probe, a saved report or one attached to a ticket.
:mod:`venvprobe.results` holds what it gives (results, outcomes, the exit code);
:mod:`venvprobe.render.checks` draws them (text, JSON, JUnit XML, TAP).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from packaging.utils import canonicalize_name

from venvprobe.expectations import GLOBAL_GROUP, Expectations, FieldRule, show
from venvprobe.results import (EXIT_COULD_NOT_CHECK, EXIT_MET, EXIT_NOT_MET, FAIL, PASS, SKIP,  # noqa: F401  (re-exported)
                               CheckResult, TargetOutcome, exit_code, failure_summary)
from venvprobe.views import sys_path_entries as _entries
from venvprobe.views import modules_outside_venv, shadowed_names, winning_distributions  # noqa: F401  (re-exported)
from venvprobe.vocab import section as _section
from venvprobe.vocab import section_error

_MISSING = object()


# ---------------------------------------------------------------------------
# reading report data


def _section_error(report: dict, name: str) -> Optional[str]:
    error = section_error(report, name)
    if error is not None:
        return f"(not collected: {error})"
    if name not in report:
        return "(section missing from report)"
    return None


def _get(report: dict, path: Sequence[Any]) -> Any:
    """Value at *path*, or _MISSING.  ``interpreter.python`` is derived (major.minor)."""
    if tuple(path) == ("interpreter", "python"):
        version = _get(report, ("interpreter", "version"))
        if not isinstance(version, str):
            return _MISSING
        return ".".join(version.split(".")[:2])
    node: Any = report
    for part in path:
        if isinstance(part, int) and isinstance(node, list):
            if not -len(node) <= part < len(node):
                return _MISSING
            node = node[part]
        elif isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            return _MISSING
    return node


def _entry(e: dict) -> str:
    return f"[{e.get('index')}] {e.get('path')}"


# ---------------------------------------------------------------------------
# the checks


def compare(expectations: Expectations, report: dict, samples: Optional[Sequence[dict]] = None) -> List[CheckResult]:
    """Check one *report* against *expectations*; one result per rule, in file order.

    *samples* are the reports of every worker seen behind the same target
    (``--samples``); only ``[workers]`` uses them.
    """
    results: List[CheckResult] = []
    for rule in expectations.fields:
        results.append(_field(rule, report))
    results += _sys_path(expectations, report)
    results += _distributions(expectations, report)
    if expectations.shadowing is not None:
        results.append(_shadowing(expectations, report))
    results += _findings(expectations, report)
    if expectations.workers.identical is not None:
        results.append(_workers(expectations, report, samples))
    return results


def _field(rule: FieldRule, report: dict) -> CheckResult:
    expected = rule.matcher.describe()
    actual = _get(report, rule.path)
    if actual is _MISSING:
        error = _section_error(report, str(rule.path[0])) if rule.path[0] != "interpreter" or rule.path[1:] != ("python",) else None
        return CheckResult(rule.check, expected, error or "(missing)", FAIL, rule.line,
                           "the report has no " + ".".join(str(p) for p in rule.path))
    candidates = [actual]
    shown = show(actual) if not isinstance(actual, (dict, list)) else json.dumps(actual)
    if rule.alias_global and actual == "":
        candidates.append(GLOBAL_GROUP)
        shown = f'"" ({GLOBAL_GROUP})'
    ok = any(rule.matcher.matches(c) for c in candidates)
    return CheckResult(rule.check, expected, shown, PASS if ok else FAIL, rule.line)


def _sys_path(exp: Expectations, report: dict) -> List[CheckResult]:
    rules = exp.sys_path
    wanted = ([("sys_path.first", rules.first)] if rules.first else []) + \
        [("before", r) for r in rules.before] + [("include", r) for r in rules.include] + \
        [("exclude", r) for r in rules.exclude]
    if not wanted:
        return []
    entries = _entries(report)
    results = []
    for kind, located in wanted:
        if kind == "before":
            a, b = located.value
            check = f"sys_path.before: {a.text} < {b.text}"
            expected = f"first {a.text} before first {b.text}"
        elif kind == "sys_path.first":
            check, expected = kind, f"first entry matches {located.value.text}"
        else:
            check = f"sys_path.{kind}: {located.value.text}"
            expected = ("an entry matches " if kind == "include" else "no entry matches ") + located.value.text
        if entries is None:
            results.append(CheckResult(check, expected, _section_error(report, "sys_path") or "(missing)", FAIL, located.line))
            continue
        if kind == "sys_path.first":
            first = entries[0] if entries else None
            ok = first is not None and located.value.matches(first)
            results.append(CheckResult(check, expected, _entry(first) if first else "(empty sys.path)",
                                       PASS if ok else FAIL, located.line))
        elif kind == "before":
            a, b = located.value
            ia = next((e for e in entries if a.matches(e)), None)
            ib = next((e for e in entries if b.matches(e)), None)
            if ia is None:
                ok, actual = False, f"no entry matches {a.text}"
            elif ib is None:
                ok, actual = True, f"{_entry(ia)}; nothing matches {b.text}"
            else:
                ok = (ia.get("index") or 0) < (ib.get("index") or 0)
                actual = f"{_entry(ia)} {'before' if ok else 'after'} {_entry(ib)}"
            results.append(CheckResult(check, expected, actual, PASS if ok else FAIL, located.line))
        else:
            hits = [e for e in entries if located.value.matches(e)]
            if kind == "include":
                ok = bool(hits)
                actual = _entry(hits[0]) if hits else "no entry matches"
            else:
                ok = not hits
                actual = "; ".join(_entry(e) for e in hits) if hits else "none"
            results.append(CheckResult(check, expected, actual, PASS if ok else FAIL, located.line))
    return results


def _distributions(exp: Expectations, report: dict) -> List[CheckResult]:
    from venvprobe.expectations import version_matches

    rules = exp.distributions
    results: List[CheckResult] = []
    if not (rules.require or rules.forbid or rules.only_from_venv is not None):
        return results
    have = isinstance(_section(report, "distributions"), list)
    winners = winning_distributions(report)
    for key, located in rules.require.items():
        name, spec = located.value
        check = f"distributions.require: {name}"
        expected = f"{name} {spec}" if spec else f"{name} (any version)"
        if not have:
            results.append(CheckResult(check, expected, _section_error(report, "distributions") or "(missing)", FAIL, located.line))
            continue
        dist = winners.get(key)
        if dist is None:
            results.append(CheckResult(check, expected, "not installed (not on sys.path)", FAIL, located.line))
            continue
        version = dist.get("version")
        ok = version_matches(spec, version) if spec else True
        results.append(CheckResult(check, expected, show(version), PASS if ok else FAIL, located.line,
                                   f"from {dist.get('location')}"))
    for located in rules.forbid:
        check = f"distributions.forbid: {located.value}"
        if not have:
            results.append(CheckResult(check, "not installed", _section_error(report, "distributions") or "(missing)", FAIL, located.line))
            continue
        dist = winners.get(canonicalize_name(located.value))
        actual = "not installed" if dist is None else f"{show(dist.get('version'))} installed"
        results.append(CheckResult(check, "not installed", actual, PASS if dist is None else FAIL, located.line,
                                   f"from {dist.get('location')}" if dist else ""))
    if rules.only_from_venv is not None and rules.only_from_venv.value:
        check = "distributions.only_from_venv"
        expected = "no module imported from site-packages outside the venv"
        line = rules.only_from_venv.line
        outside = modules_outside_venv(report)
        interp = _section(report, "interpreter") or {}
        runtime_venv = any((e.get("origin") or {}).get("kind") == "runtime_venv_site" for e in _entries(report) or [])
        if outside is None:
            results.append(CheckResult(check, expected, _section_error(report, "modules") or "(missing)", FAIL, line))
        elif not interp.get("in_venv") and not runtime_venv:
            results.append(CheckResult(check, expected, f"no venv in use (sys.prefix = {interp.get('prefix')})", FAIL, line))
        elif outside:
            shown = ", ".join(f"{n} ({f})" for n, f in outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
            results.append(CheckResult(check, expected, f"{len(outside)} from outside: {shown}", FAIL, line,
                                       "; ".join(f"{n} ({f})" for n, f in outside)))
        else:
            results.append(CheckResult(check, expected, "all from the venv (or the app / stdlib)", PASS, line))
    return results


def _allowed(name: str, allow: Dict[str, Any]) -> Optional[str]:
    """The reason *name* may be shadowed: exact name first, then as a normalised distribution name."""
    if name in allow:
        return str(allow[name].value)
    key = canonicalize_name(name)
    for allowed_name, located in allow.items():
        if canonicalize_name(allowed_name) == key:
            return str(located.value)
    return None


def _shadowing(exp: Expectations, report: dict) -> CheckResult:
    rules = exp.shadowing
    assert rules is not None
    allowed = rules.allow
    expected = "nothing shadowed" + (" except " + ", ".join(sorted(allowed)) if allowed else "")
    found = shadowed_names(report)
    if found is None:
        return CheckResult("shadowing", expected, _section_error(report, "shadowed") or "(missing)", FAIL, rules.line)
    bad = [(n, d) for n, d in found if _allowed(n, allowed) is None]
    ok_names = sorted({n for n, _ in found if _allowed(n, allowed) is not None})
    detail = "; ".join(d for _, d in bad)
    if ok_names:
        detail += ("; " if detail else "") + "allowed: " + ", ".join(
            f"{n} ({_allowed(n, allowed)})" for n in ok_names)
    if bad:
        actual = "shadowed: " + ", ".join(sorted({n for n, _ in bad}))
    else:
        actual = "nothing shadowed" if not found else "only allowed: " + ", ".join(ok_names)
    return CheckResult("shadowing", expected, actual, FAIL if bad else PASS, rules.line, detail)


def _findings(exp: Expectations, report: dict) -> List[CheckResult]:
    rules = exp.findings
    if not (rules.max or rules.forbid):
        return []
    findings = report.get("findings")
    results = []
    if not isinstance(findings, list):
        for sev, located in rules.max.items():
            results.append(CheckResult(f"findings.max: {sev}", f"at most {located.value}", "(missing)", FAIL, located.line))
        for located in rules.forbid:
            results.append(CheckResult(f"findings.forbid: {located.value}", "absent", "(missing)", FAIL, located.line))
        return results
    findings = [f for f in findings if isinstance(f, dict)]
    counted = [f for f in findings if f.get("code") not in rules.allow]
    allowed_seen = sorted({str(f.get("code")) for f in findings if f.get("code") in rules.allow})
    for sev, located in rules.max.items():
        hits = [f for f in counted if f.get("severity") == sev]
        codes = sorted({str(f.get("code")) for f in hits})
        actual = str(len(hits)) + (f" ({', '.join(codes)})" if codes else "")
        detail = "allowed: " + ", ".join(f"{c} ({rules.allow[c].value})" for c in allowed_seen) if allowed_seen else ""
        results.append(CheckResult(f"findings.max: {sev}", f"at most {located.value}" + (" (not counting allowed)" if rules.allow else ""),
                                   actual, PASS if len(hits) <= located.value else FAIL, located.line, detail))
    for located in rules.forbid:
        hits = [f for f in findings if f.get("code") == located.value]
        actual = "absent" if not hits else "; ".join(str(f.get("message")) for f in hits)[:300]
        results.append(CheckResult(f"findings.forbid: {located.value}", "absent", actual,
                                   FAIL if hits else PASS, located.line))
    return results


def _workers(exp: Expectations, report: dict, samples: Optional[Sequence[dict]]) -> CheckResult:
    from venvprobe.workers import distinct_workers, worker_differences

    located = exp.workers.identical
    assert located is not None
    check = "workers.identical"
    if not located.value:
        return CheckResult(check, "not checked (identical = false)", "-", SKIP, located.line)
    expected = "every worker reports the same" + (f" (ignoring {', '.join(exp.workers.ignore)})" if exp.workers.ignore else "")
    reports = list(samples) if samples else [report]
    if len(reports) < 2:
        return CheckResult(check, expected, "1 sample", SKIP, located.line,
                           "one sample cannot show other workers: use --samples N with a probe URL")
    workers = distinct_workers(reports)
    if len(workers) < 2:
        return CheckResult(check, expected, f"1 worker seen in {len(reports)} samples", PASS, located.line)
    diffs = worker_differences(workers, ignore=exp.workers.ignore)
    if not diffs:
        return CheckResult(check, expected, f"{len(workers)} workers, all identical", PASS, located.line)
    actual = "; ".join(f"{label} differs: {', '.join(parts)}" for label, parts in diffs.items())
    return CheckResult(check, expected, actual, FAIL, located.line, workers=list(diffs))


def compare_workers(expectations: Expectations, reports: Sequence[dict]) -> List[CheckResult]:
    """Check every distinct worker's report and merge the results per check.

    A check that gives the same answer on every worker is one row; one that
    differs lists each worker's value and the workers it failed on.
    """
    from venvprobe.workers import distinct_workers

    workers = distinct_workers(reports)
    if len(workers) <= 1:
        report = workers[0].report if workers else (reports[0] if reports else {})
        return compare(expectations, report, samples=list(reports))
    per_worker = [(w.label, compare(expectations, w.report, samples=list(reports))) for w in workers]
    merged: List[CheckResult] = []
    for index, first in enumerate(per_worker[0][1]):
        column = [(label, results[index]) for label, results in per_worker]
        if first.check == "workers.identical" or all(
                r.status == first.status and r.actual == first.actual for _, r in column):
            merged.append(first)
            continue
        failing = [label for label, r in column if r.status == FAIL]
        status = FAIL if failing else (PASS if any(r.status == PASS for _, r in column) else SKIP)
        # Group workers by answer, failing answers first, so a clipped table
        # cell still shows the odd ones out.
        groups: Dict[Tuple[str, str], List[str]] = {}
        for label, r in column:
            groups.setdefault((r.status, r.actual), []).append(label)
        ordered = sorted(groups.items(), key=lambda item: item[0][0] != FAIL)
        actual = "; ".join(f"{', '.join(labels)}: {value}" for (_, value), labels in ordered)
        merged.append(CheckResult(first.check, first.expected, actual, status, first.line,
                                  "; ".join(r.detail for _, r in column if r.detail), failing))
    return merged


__all__ = [
    "CheckResult", "TargetOutcome", "compare", "compare_workers", "exit_code", "failure_summary", "winning_distributions",
    "modules_outside_venv", "shadowed_names", "PASS", "FAIL", "SKIP",
]
