"""``<probe>/health``: 200 or 503 by the severity of the findings, for load balancers and
Kubernetes-style readiness probes.

The threshold works like the CLI's ``--fail-on``: ``?fail-on=error`` (default),
``warning``, ``info`` or ``never``.  The answer comes from the same cached report
as every other page and passes the same access rules (a load balancer or a
kubelet connecting from another address needs ``VENVPROBE_ALLOW`` or the token).

Standard library only: this runs on the probe's request path.
"""

from __future__ import annotations

from venvprobe.vocab import SEVERITY_RANK
from venvprobe.vocab import FAIL_ON
from venvprobe.vocab import HEALTH_SCHEMA_NAME

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path (nor json)
    from typing import List, Mapping, Optional, Tuple

THRESHOLDS = FAIL_ON
DEFAULT_THRESHOLD = "error"


def failing(report: dict, fail_on: str) -> List[dict]:
    """The findings at or above *fail_on* (none for "never")."""
    if fail_on == "never":
        return []
    rank = SEVERITY_RANK[fail_on]
    findings = report.get("findings")
    return [f for f in findings if isinstance(f, dict) and SEVERITY_RANK.get(str(f.get("severity")), 0) >= rank] \
        if isinstance(findings, list) else []


def answer(report: dict, query: Mapping[str, List[str]], fmt: str) -> Tuple[str, bytes, str]:
    """(status, body, content type) of a health request."""
    fail_on: Optional[str] = (query.get("fail-on") or query.get("fail_on") or [DEFAULT_THRESHOLD])[0]
    if fail_on not in THRESHOLDS:
        body = ("unknown fail-on; use one of: " + ", ".join(THRESHOLDS) + "\n").encode()
        return "400 Bad Request", body, "text/plain; charset=utf-8"
    bad = failing(report, fail_on)
    status = "503 Service Unavailable" if bad else "200 OK"
    if fmt == "json":
        # Named, so the CLI can tell a saved /health from a report (it is not one).
        data = {"schema": {"name": HEALTH_SCHEMA_NAME, "version": 1}, "status": "fail" if bad else "pass", "fail_on": fail_on, "generated_at": report.get("generated_at"),
                "findings": [{"code": f.get("code"), "severity": f.get("severity")} for f in bad]}
        from venvprobe.collect.jsonout import dumps  # the probe's own JSON writer (json imports re)

        return status, (dumps(data) + "\n").encode("utf-8", "surrogatepass"), "application/json"
    if not bad:
        text = f"ok: no finding at or above {fail_on}\n"
    else:
        # Codes and severities only: they come from venvprobe's rules, never from the host.
        listed = ", ".join(f"{f.get('code')} ({f.get('severity')})" for f in bad)
        text = f"fail: {len(bad)} finding{'s' if len(bad) != 1 else ''} at or above {fail_on}: {listed}\n"
    return status, text.encode("utf-8", "replace"), "text/plain; charset=utf-8"
