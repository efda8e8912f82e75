"""Which worker processes were seen behind one target, and which ones differ from the rest.

A worker is a distinct (pid, interpreter id, process start) among the
reports of one target's samples; its fingerprint is what must be equal
across the workers of one deployment.  A worker that still runs old code
after a partial reload shows up in :func:`worker_differences`.  Pure
functions of reports: no network here (``compare`` and the probe's metrics
use them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple


@dataclass
class Worker:
    """One distinct worker process (or sub-interpreter) seen behind a target."""

    label: str
    key: Tuple[Any, ...]
    report: dict
    seen: int = 1

    @property
    def started(self) -> float:
        value = (self.report.get("process") or {}).get("create_time") if isinstance(self.report.get("process"), dict) else None
        return float(value) if isinstance(value, (int, float)) else 0.0


def worker_key(report: dict) -> Tuple[Any, ...]:
    """(pid, interpreter id, process start): a pid reused after a restart is another worker."""
    ident = _dict(report.get("identity"))
    proc = _dict(report.get("process"))
    return (ident.get("pid"), ident.get("interpreter_id"), proc.get("create_time"))


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def distinct_workers(reports: Sequence[dict]) -> List[Worker]:
    """The distinct workers among *reports*, oldest process first (then by pid), with unique labels.

    Samples arrive concurrently, so sighting order is noise; start order is
    stable and puts a worker left over from before a reload first.
    """
    found: Dict[Tuple[Any, ...], Worker] = {}
    for report in reports:
        key = worker_key(report)
        if key in found:
            found[key].seen += 1
            continue
        pid, interp, _ = key
        label = f"pid {pid}" if pid is not None else f"worker {len(found) + 1}"
        if interp not in (None, 0):
            label += f"/interp {interp}"
        if any(w.label == label for w in found.values()):
            label += f"#{len(found) + 1}"
        found[key] = Worker(label, key, report)
    return sorted(found.values(), key=lambda w: (w.started, w.key[0] if isinstance(w.key[0], int) else 0))


def fingerprint(report: dict) -> Dict[str, Any]:
    """What must be equal across the workers of one deployment, by part.

    Per-request noise (pids, timestamps, which modules a request happened to
    import) is left out; what remains changes only with configuration or
    code: interpreter, identity, sys.path, distribution versions, finding
    codes, and source files changed since the worker started.
    """

    from venvprobe.vocab import section

    def sec(name: str) -> Any:
        return section(report, name)

    interp = _dict(sec("interpreter"))
    ident = _dict(sec("identity"))
    server = _dict(ident.get("server"))
    entries = (sec("sys_path") or {}).get("entries") or []
    from venvprobe.views import winning_distributions

    modules = sec("modules") or {}
    changed = sorted(str(m.get("name")) for m in modules.get("top_level") or []
                     if isinstance(m, dict) and (m.get("modified_after_start") or m.get("file_missing")))
    return {
        "interpreter": {k: interp.get(k) for k in ("executable", "prefix", "base_prefix", "version", "in_venv", "implementation")},
        "identity": {"server": server.get("kind"), "mode": server.get("mode"), "process_group": server.get("process_group"),
                     "application_group": server.get("application_group"), "main_interpreter": ident.get("main_interpreter"),
                     "user": _dict(sec("process")).get("user")},
        "sys_path": [e.get("path") for e in entries if isinstance(e, dict)],
        "distributions": {k: d.get("version") for k, d in sorted(winning_distributions(report).items())},
        "findings": sorted({str(f.get("code")) for f in report.get("findings") or [] if isinstance(f, dict)}),
        "code": changed,
    }


def _describe_part(part: str, mine: Any, theirs: Any) -> str:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        keys = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        shown = [f"{k} {mine.get(k, 'absent')} (others: {theirs.get(k, 'absent')})" for k in keys[:3]]
        return f"{part}: " + ", ".join(shown) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    if isinstance(mine, list) and isinstance(theirs, list):
        added = [x for x in mine if x not in theirs]
        removed = [x for x in theirs if x not in mine]
        if not added and not removed:
            return f"{part}: same entries, different order"
        bits = [f"+{x}" for x in added[:3]] + [f"-{x}" for x in removed[:3]]
        return f"{part}: " + ", ".join(str(b) for b in bits)
    return f"{part}: {mine} (others: {theirs})"


def worker_differences(workers: Sequence[Worker], ignore: Sequence[str] = ()) -> Dict[str, List[str]]:
    """{worker label: [what differs, ...]} for workers unlike the majority.

    The reference is the largest group of identical workers; on a tie, the
    group holding the most recently started worker (after a reload, new code
    is the intended state and old workers are the odd ones out).
    """
    if len(workers) < 2:
        return {}
    prints = []
    for w in workers:
        fp = fingerprint(w.report)
        for part in ignore:
            fp.pop(part, None)
        prints.append(fp)
    groups: Dict[str, List[int]] = {}
    for i, fp in enumerate(prints):
        groups.setdefault(json.dumps(fp, sort_keys=True, default=str), []).append(i)
    if len(groups) == 1:
        return {}
    ref_key = max(groups, key=lambda k: (len(groups[k]), max(workers[i].started for i in groups[k])))
    ref = prints[groups[ref_key][0]]
    out: Dict[str, List[str]] = {}
    for key, members in groups.items():
        if key == ref_key:
            continue
        for i in members:
            parts = [p for p in ref if prints[i].get(p) != ref.get(p)]
            out[workers[i].label] = [_describe_part(p, prints[i].get(p), ref.get(p)) for p in parts]
    return out


__all__ = ["Worker", "distinct_workers", "fingerprint", "worker_differences", "worker_key"]
