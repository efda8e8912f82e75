"""What a rule is, and what a live check gets to work with.

A :class:`Rule` is one kind of problem: a stable code, a default severity, a
title, a general fix and a fix per server kind, and where it is diagnosed --
the live checks (functions of a report, run by :mod:`venvprobe.analyze`) and
the offline checks (``check-apache``, ``check-uwsgi``, ``check-home``,
``explain-log``, ``check-extensions``) that may emit it.  A rule module
(``venvprobe/rules/<topic>.py``) declares its rules in ``RULES``, each naming
its live checks in ``checks=(...)``; the check functions (marked with
:func:`live_check`) are written beside them.  A declaration that names no
check, a fix for a server kind ``vocab.SERVER_KINDS`` does not know, an unknown
severity or offline check is refused when the module is imported, with a
message that says what to fix.

This module never decides what is wrong with a report (the rule modules do)
and never makes a finding record (:class:`venvprobe.rules.registry.Findings`
does).

Everything here also runs inside the inspected interpreter (``report
--python X`` ships these sources there, see :data:`venvprobe.rules.SHIPPED`):
standard library only, Python 3.8 syntax, no I/O, and no ``typing``,
``dataclasses`` or ``re`` at run time (start-up cost on the fast path).
"""

from __future__ import annotations

import posixpath

from venvprobe.vocab import SERVER_KINDS, SEVERITIES, SEVERITY_RANK, WSGI_SERVERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (see the docstring)
    from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

    from venvprobe.rules.registry import Findings

    Report = Dict[str, Any]
    LiveCheck = Callable[..., None]

LIVE, OFFLINE, BOTH = "live", "offline", "both"
SCOPES = (LIVE, OFFLINE, BOTH)

# The offline checks that emit findings, by the name the registry and the
# findings sink know them by (their command names).
OFFLINE_CHECKS = ("check-apache", "check-uwsgi", "check-home", "explain-log", "check-extensions")


class Rule:
    """One finding kind: code, severity, title, fixes, and the checks that emit it.

    *fixes* maps a server kind (``venvprobe.vocab.SERVER_KINDS``) to the fix in
    that server's terms; *checks* are the live check functions that may emit
    the code, *offline* the names of the offline checks (:data:`OFFLINE_CHECKS`)
    that may.  The scope follows: live, offline or both.

    A plain class rather than a dataclass: ``dataclasses`` imports
    ``inspect``, which costs every ``venvprobe`` invocation ~9 ms.
    """

    __slots__ = ("code", "severity", "title", "fix", "fixes", "checks", "offline")

    def __init__(self, code: str, severity: str, title: str, fix: str, *,
                 fixes: Optional[Mapping[str, str]] = None, checks: Tuple[LiveCheck, ...] = (),
                 offline: Tuple[str, ...] = ()) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f"rule {code}: bad severity {severity!r} (one of {', '.join(SEVERITIES)})")
        unknown = [name for name in offline if name not in OFFLINE_CHECKS]
        if unknown:
            raise ValueError(f"rule {code}: unknown offline check {unknown[0]!r} (one of {', '.join(OFFLINE_CHECKS)}; "
                             "a new one is one more name in OFFLINE_CHECKS of venvprobe/rules/base.py)")
        if not checks and not offline:
            raise ValueError(f"rule {code} names no check that emits it: give it checks=(<its live check>,) "
                             "and/or offline=(<offline check names>,)")
        strangers = sorted(set(fixes or {}) - set(SERVER_KINDS))
        if strangers:
            raise ValueError(f"rule {code}: fixes= names unknown server kinds {strangers} (known: "
                             f"{', '.join(SERVER_KINDS)}; a new kind is added in venvprobe/vocab.py, see CONTRIBUTING.md)")
        self.code = code
        self.severity = severity
        self.title = title
        self.fix = fix
        self.fixes: Dict[str, str] = dict(fixes or {})
        self.checks = tuple(checks)
        self.offline = tuple(offline)

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {self.severity!r})"

    @property
    def scope(self) -> str:
        """live, offline or both: where this finding is diagnosed."""
        if self.checks and self.offline:
            return BOTH
        return LIVE if self.checks else OFFLINE

    def fix_for(self, server: Optional[str]) -> str:
        """The fix in the terms of *server* (mod_wsgi, uwsgi, gunicorn...), else the general one."""
        return self.fixes.get(server or "") or self.fix

    def emitted_by(self, emitter: object) -> bool:
        """May *emitter* (a live check function or an offline check's name) report this rule?"""
        return emitter in self.checks or emitter in self.offline


def live_check(*needs: str) -> Callable[[LiveCheck], LiveCheck]:
    """Mark a live check with the report sections it cannot do without.

    A partial document (a probe sub-resource, a hand-cut report) or a section
    the collector lost to an error would otherwise read as "no venv",
    "nothing else loaded here"...; :func:`venvprobe.analyze.analyze` skips the
    check instead.
    """
    def mark(fn: LiveCheck) -> LiveCheck:
        fn.needs = needs  # type: ignore[attr-defined]
        return fn
    return mark


# ---------------------------------------------------------------------------
# what live checks work with

# The shape each section must have; anything else (a hand-edited or
# truncated report) is treated as absent rather than crashing a check.
_SHAPES = {"distributions": list}


def section(report: Report, name: str) -> Any:
    """Section *name* when it has its expected shape (lists keep only their objects), else None."""
    value = report.get(name) if isinstance(report, dict) else None
    if isinstance(value, dict) and set(value) == {"error"}:
        return None
    if not isinstance(value, _SHAPES.get(name, dict)):
        return None
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return value


def server_kind(report: Report) -> Optional[str]:
    """identity.server.kind, or None."""
    ident = section(report, "identity") or {}
    server = ident.get("server")
    return server.get("kind") if isinstance(server, dict) else None


class Analysis:
    """The report, its server kind and the findings sink while the live checks run."""

    def __init__(self, report: Report, sink: Findings) -> None:
        self.report = report
        self.server = server_kind(report)
        self.interp: Dict[str, Any] = section(report, "interpreter") or {}
        sp = section(report, "sys_path") or {}
        entries = sp.get("entries")
        self.entries: List[dict] = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        self.sink = sink

    @property
    def findings(self) -> List[dict]:
        return self.sink.items

    @property
    def in_server(self) -> bool:
        """Is this a production WSGI server's process (not a command line or the dev server)?"""
        return self.server in WSGI_SERVERS

    def add(self, code: str, message: str, evidence: Any = (), **kw: Any) -> dict:
        return self.sink.add(code, message, evidence, **kw)

    def site_entries(self, *kinds: str) -> List[dict]:
        return [e for e in self.entries if (e.get("origin") or {}).get("kind") in kinds]

    def section(self, name: str) -> Any:
        return section(self.report, name)


def mapping(value: Any) -> Dict[str, Any]:
    """*value* when it is an object, else an empty one (report data may be hand-edited or cut)."""
    return value if isinstance(value, dict) else {}


def under(path: Optional[str], root: Optional[str]) -> bool:
    """Is *path* *root* or inside it (lexically)?"""
    if not path or not root:
        return False
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def asked_for_system_site(interp: Dict[str, Any]) -> bool:
    """The venv was created with --system-site-packages: base packages being visible is what was asked for."""
    return bool((interp.get("pyvenv_cfg") or {}).get("include_system_site_packages"))


def canonical_name(name: Optional[str]) -> str:
    """A distribution name as PEP 503 compares it (lower case, - for _ and .)."""
    return (name or "").lower().replace("_", "-").replace(".", "-")


def sort_findings(findings: List[dict]) -> List[dict]:
    """Most severe first, then by code, keeping the original order otherwise."""
    return sorted(findings, key=lambda f: (-SEVERITY_RANK.get(str(f.get("severity")), 0), f.get("code", "")))


def summarize(findings: List[dict]) -> Dict[str, int]:
    """Counts of findings by severity (every severity present, possibly 0)."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.get("severity", "info")] = counts.get(f.get("severity", "info"), 0) + 1
    return counts


__all__ = ["Rule", "Analysis", "live_check", "mapping", "section", "server_kind", "under", "asked_for_system_site",
           "canonical_name", "sort_findings", "summarize", "LIVE", "OFFLINE", "BOTH", "SCOPES", "OFFLINE_CHECKS"]
