"""What checking expectations gives: one result per check, one outcome per target, the exit code.

Plain data shared by the engine (:mod:`venvprobe.compare`), which makes
them, and the renderers (:mod:`venvprobe.render.checks`, ``.junit``,
``.tap``), which draw them; no report reading here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

PASS, FAIL, SKIP = "pass", "fail", "skip"
EXIT_MET, EXIT_NOT_MET, EXIT_COULD_NOT_CHECK = 0, 1, 2


@dataclass
class CheckResult:
    """One check of one report: what was expected, what was found, and whether it holds."""

    check: str  # stable id, e.g. "interpreter.prefix" or "distributions.require: flask"
    expected: str
    actual: str
    status: str  # PASS, FAIL or SKIP
    line: Optional[int] = None  # line in the expectations file
    detail: str = ""
    workers: List[str] = field(default_factory=list)  # workers it failed on (several samples)

    @property
    def section(self) -> str:
        """The expectations section the check comes from ("sys_path", "findings", ...)."""
        return re.split(r"[.:\[ ]", self.check, 1)[0]

    def to_dict(self) -> Dict[str, Any]:
        """Plain data for JSON output (by hand: dataclasses.asdict deep-copies, and a fleet has thousands)."""
        return {"check": self.check, "expected": self.expected, "actual": self.actual, "status": self.status,
                "line": self.line, "detail": self.detail, "workers": list(self.workers), "section": self.section}


@dataclass
class TargetOutcome:
    """The checks of one target (a file, URL or interpreter), or why it could not be checked."""

    target: str
    results: List[CheckResult] = field(default_factory=list)
    error: Optional[str] = None
    workers: List[str] = field(default_factory=list)  # labels of distinct workers seen
    samples: int = 1
    notes: List[str] = field(default_factory=list)
    seconds: Optional[float] = None  # fetching and checking it took
    checked_at: Optional[str] = None  # ISO 8601, when fetching started

    @property
    def status(self) -> str:
        """"error" (could not check), "fail" (some check not met) or "pass"."""
        if self.error:
            return "error"
        return FAIL if any(r.status == FAIL for r in self.results) else PASS

    def counts(self) -> Dict[str, int]:
        """Checks by status."""
        out = {PASS: 0, FAIL: 0, SKIP: 0}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> Dict[str, Any]:
        return {"target": self.target, "status": self.status, "error": self.error, "samples": self.samples,
                "workers": self.workers, "notes": self.notes, "counts": self.counts(),
                "seconds": None if self.seconds is None else round(self.seconds, 3), "checked_at": self.checked_at,
                "checks": [r.to_dict() for r in self.results]}


def exit_code(outcomes: Sequence[TargetOutcome]) -> int:
    """2 when any target could not be checked, else 1 when any check is not met, else 0.

    "Could not check" wins: a pipeline must not go green (or blame a check)
    on a host it never saw.
    """
    if not outcomes or any(o.status == "error" for o in outcomes):
        return EXIT_COULD_NOT_CHECK
    if any(o.status == FAIL for o in outcomes):
        return EXIT_NOT_MET
    return EXIT_MET


def failure_summary(outcomes: Sequence[TargetOutcome]) -> List[Tuple[str, List[str]]]:
    """[(check, [target or target worker, ...])] for every check not met somewhere."""
    table: Dict[str, List[str]] = {}
    for o in outcomes:
        for r in o.results:
            if r.status != FAIL:
                continue
            where = [f"{o.target} ({w})" for w in r.workers] if r.workers and len(o.workers) > 1 else [o.target]
            table.setdefault(r.check, []).extend(where)
        if o.error:
            table.setdefault("(could not check)", []).append(o.target)
    return list(table.items())


__all__ = ["CheckResult", "TargetOutcome", "exit_code", "failure_summary", "PASS", "FAIL", "SKIP", "EXIT_MET",
           "EXIT_NOT_MET", "EXIT_COULD_NOT_CHECK"]
