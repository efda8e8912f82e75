"""Turn a report into findings: the *analyze* stage.

:func:`analyze` runs every live rule's check (:data:`venvprobe.rules.registry.LIVE_CHECKS`)
over a report.  It is a pure function of the report data: it never looks at
the machine it runs on, so it gives the same answer for a report collected
just now, fetched from a server, or loaded from a support ticket.  The checks
themselves live beside their rules in :mod:`venvprobe.rules`.

Also runs inside the inspected interpreter (``report --python X``): standard
library only, Python 3.8 syntax.
"""

from __future__ import annotations

from venvprobe.rules.base import Analysis, section, sort_findings, summarize

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path
    from typing import Any, Dict, List

    Report = Dict[str, Any]
    Finding = Dict[str, Any]


def analyze(report: Report) -> List[Finding]:
    """Return the findings for *report*, most severe first.

    A check whose sections are absent (or lost to an error) does not run: a
    finding is never derived from missing data.  A check that trips over
    malformed data records an ``analysis-error`` finding instead of failing
    the whole analysis.
    """
    # The registry (every rule module) is imported on first use, so that rendering a report,
    # which needs only summarize(), does not pay for it.
    from venvprobe.rules.analysis import record_failure
    from venvprobe.rules.registry import LIVE_CHECKS, Findings

    a = Analysis(report, Findings())
    a.sink.server = a.server
    for check in LIVE_CHECKS:
        if any(section(report, name) is None for name in getattr(check, "needs", ())):
            continue
        a.sink.emitter = check
        try:
            check(a)
        except Exception as exc:  # malformed or partial report data
            a.sink.emitter = record_failure
            record_failure(a, check, exc)
    return sort_findings(a.findings)


__all__ = ["analyze", "summarize"]
