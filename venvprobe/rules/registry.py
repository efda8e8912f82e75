"""Every rule by code, the live checks in order, and the one findings sink.

:class:`Findings` is the only place a finding record is made, for the live
analysis and for every offline check alike, so the same cause always carries
the same code, title and fix for the server it was found in.

Also runs inside the inspected interpreter (see :mod:`venvprobe.rules`):
standard library only, Python 3.8 syntax.  It imports the rule modules and
nothing of :mod:`venvprobe.offline` or the CLI: offline checks come to the sink,
never the other way round.
"""

from __future__ import annotations

from venvprobe.rules import analysis, home, interpreter, interpreters, mod_wsgi, packages, sys_path
from venvprobe.rules.base import Rule, sort_findings, summarize  # re-exported: the sink's companions
from venvprobe.vocab import SEVERITIES, SEVERITY_RANK

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time
    from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

    LiveCheck = Callable[..., None]

# In the order of venvprobe.rules.MODULES (a test keeps them equal).
_MODULES = (interpreter, sys_path, packages, interpreters, home, mod_wsgi, analysis)


def _collect_rules() -> Dict[str, Rule]:
    rules: Dict[str, Rule] = {}
    for module in _MODULES:
        for r in module.RULES:
            if r.code in rules:
                raise ValueError(f"finding code {r.code} is declared twice")
            rules[r.code] = r
    return rules


RULES = _collect_rules()


def _live_checks() -> Tuple[LiveCheck, ...]:
    # The checks run in the order their rules first name them; analysis.record_failure is not
    # a check of the report but the runner's own.
    out: List[LiveCheck] = []
    for r in RULES.values():
        for check in r.checks:
            if check not in out and check is not analysis.record_failure:
                out.append(check)
    return tuple(out)


LIVE_CHECKS = _live_checks()

# A finding shows at most this many evidence lines (a log or a report can repeat one cause without end).
MAX_EVIDENCE = 50


def rule(code: str) -> Rule:
    """The rule for *code* (KeyError for an unknown code: a programming error)."""
    return RULES[code]


class UndeclaredFinding(ValueError):
    """A check emitted a code its rule does not name it for (declare the check in the rule)."""


class Findings:
    """The findings sink: makes each finding record and keeps them in order.

    *server* picks each rule's fix; *emitter* is the check adding findings (a
    live check function, or an offline check's name such as ``"explain-log"``):
    a code whose rule does not name it is refused, so every code a check can
    emit is declared in the registry.  *prefix* starts every message, *data*
    is added to every finding's ``data``, *max_evidence* caps the evidence;
    with *path_subject_key*, a subject that is an absolute path is also
    recorded under that key of ``data`` (``explain-log``: the home it is about).
    """

    def __init__(self, server: Optional[str] = None, emitter: Any = None, *, prefix: str = "",
                 data: Optional[Dict[str, Any]] = None, max_evidence: int = MAX_EVIDENCE,
                 path_subject_key: Optional[str] = None) -> None:
        self.server = server
        self.emitter = emitter
        self.prefix = prefix
        self.data = dict(data or {})
        self.max_evidence = max_evidence
        self.path_subject_key = path_subject_key
        self.items: List[dict] = []
        # (code, subject) -> finding, for findings added with a subject
        self.by_subject: Dict[Tuple[str, str], dict] = {}

    def __iter__(self) -> Iterator[dict]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def extend(self, findings: Iterable[dict]) -> None:
        """Take in findings another check made (``check-home`` run on a home a configuration names)."""
        self.items.extend(findings)

    def add(self, code: str, message: str, evidence: Iterable[str] = (), *, subject: Optional[str] = None,
            severity: Optional[str] = None, data: Optional[Dict[str, Any]] = None) -> dict:
        """Add a finding of *code* and return it.

        With a *subject* (the home, daemon or file the cause is about), a
        second finding of the same code and subject is folded into the first:
        its new evidence is appended (up to the cap) and ``data.occurrences``
        counted.  *severity* overrides the rule's default where the evidence
        makes a case more or less serious.
        """
        r = RULES.get(code)
        if r is None:
            raise KeyError(f"unknown finding code {code!r}: no rule declares it (a Rule in RULES of a module of "
                           "venvprobe/rules/; CONTRIBUTING.md, 'Adding a finding')")
        if self.emitter is not None and not r.emitted_by(self.emitter):
            name = getattr(self.emitter, "__name__", self.emitter)
            where = "checks=(...)" if callable(self.emitter) else "offline=(...)"
            raise UndeclaredFinding(f"{name} emits {code}, but the rule {code} does not name it among its checks: "
                                    f"add it to {where} of Rule({code!r}, ...) in venvprobe/rules/")
        if severity is not None and severity not in SEVERITIES:
            raise ValueError(f"bad severity {severity!r} for {code}")
        if subject is not None and (code, subject) in self.by_subject:
            seen = self.by_subject[(code, subject)]
            for e in evidence:
                if e not in seen["evidence"] and len(seen["evidence"]) < self.max_evidence:
                    seen["evidence"].append(e)
            seen["data"]["occurrences"] = seen["data"].get("occurrences", 1) + 1
            return seen
        finding: dict = {
            "code": code,
            "severity": severity or r.severity,
            "title": r.title,
            "message": self.prefix + message,
            "evidence": list(evidence)[:self.max_evidence],
            "fix": r.fix_for(self.server),
        }
        extra: Dict[str, Any] = {"subject": subject, "occurrences": 1} if subject is not None else {}
        if subject is not None and self.path_subject_key and subject.startswith("/"):
            extra[self.path_subject_key] = subject
        extra.update(data or {})
        extra.update(self.data)
        if extra:
            finding["data"] = extra
        if subject is not None:
            self.by_subject[(code, subject)] = finding
        self.items.append(finding)
        return finding


def make_finding(code: str, message: str, evidence: Iterable[str] = (), server: Optional[str] = None,
                 severity: Optional[str] = None, data: Optional[Dict[str, Any]] = None) -> dict:
    """One finding record outside any check (tests, examples): :meth:`Findings.add` without an emitter."""
    return Findings(server).add(code, message, evidence, severity=severity, data=data)


__all__ = ["RULES", "LIVE_CHECKS", "MAX_EVIDENCE", "Findings", "UndeclaredFinding", "make_finding", "rule",
           "sort_findings", "summarize", "SEVERITIES", "SEVERITY_RANK"]
