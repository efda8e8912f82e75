"""Prometheus text exposition of a report: fleets are watched with the tools people already run.

Designed for what a scrape really reaches.  Behind gunicorn, uWSGI or a
mod_wsgi daemon group, one scrape is answered by whichever worker accepts the
connection, so consecutive scrapes of one target come from different
processes.  Every series is therefore keyed by what a deployment should
share, never by the process: ``venvprobe_info`` has no pid, so workers that
agree produce one steady series, and a worker that differs produces a second
``fingerprint`` value that rules can count (see docs/prometheus.md).  What is
per process (its start time, the report's age) is a plain gauge whose value
changes, not a label that mints series.

Standard library only: this runs on the probe's request path.
"""

from __future__ import annotations

from venvprobe.analyze import summarize
from venvprobe.render import summary_counts

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path (nor json, see _canonical)
    from typing import Any, Dict, List, Optional

#: Labels of ``venvprobe_info``, in output order.
INFO_LABELS = ("implementation", "python_version", "prefix", "base_prefix", "in_venv", "venv_python",
               "server", "mode", "process_group", "application_group", "main_interpreter", "fingerprint")


def _label(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Dict[str, object]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) and set(value) != {"error"} else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def fingerprint_parts(report: dict) -> Dict[str, Any]:
    """What the workers of one deployment must share, by part (no pid, no time, no request noise).

    The same parts as :func:`venvprobe.workers.fingerprint` (which ``compare``
    uses to tell workers apart), computed without third-party imports: the
    interpreter, the server group, sys.path, every installed distribution,
    finding codes, and source files changed after the process started.
    """
    interp = _dict(report.get("interpreter"))
    ident = _dict(report.get("identity"))
    server = _dict(ident.get("server"))
    entries = _list(_dict(report.get("sys_path")).get("entries"))
    dists = sorted({(str(d.get("name")).lower(), str(d.get("version")), str(d.get("location")))
                    for d in _list(report.get("distributions")) if isinstance(d, dict)})
    changed = sorted(str(m.get("name")) for m in _list(_dict(report.get("modules")).get("top_level"))
                     if isinstance(m, dict) and (m.get("modified_after_start") or m.get("file_missing")))
    return {
        "interpreter": {k: interp.get(k) for k in ("executable", "prefix", "base_prefix", "version", "in_venv",
                                                     "implementation")},
        "identity": {"server": server.get("kind"), "mode": server.get("mode"),
                     "process_group": server.get("process_group"),
                     "application_group": server.get("application_group"),
                     "main_interpreter": ident.get("main_interpreter"),
                     "user": _dict(report.get("process")).get("user")},
        "sys_path": [e.get("path") for e in entries if isinstance(e, dict)],
        "distributions": dists,
        "findings": sorted({str(f.get("code")) for f in _list(report.get("findings")) if isinstance(f, dict)}),
        "code": changed,
    }


def fingerprint(report: dict) -> str:
    """12 hex digits that change when the interpreter's code or environment changes."""
    import hashlib

    canonical = _canonical(fingerprint_parts(report))
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()[:12]


def _canonical(data: Any) -> str:
    """``json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))`` without ``import json`` (re)."""
    from venvprobe.collect.jsonout import dumps

    def ordered(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ordered(value[k]) for k in sorted(value, key=str)}
        if isinstance(value, (list, tuple)):
            return [ordered(v) for v in value]
        if value is None or isinstance(value, (str, int, float)):
            return value
        return str(value)

    return dumps(ordered(data))


def _epoch_utc(iso: str) -> Optional[float]:
    """Seconds since the epoch of the collector's own ``YYYY-MM-DDTHH:MM:SS.mmmZ``, without ``datetime``."""
    if len(iso) < 20 or iso[-1] != "Z" or iso[4] != "-" or iso[7] != "-" or iso[10] != "T":
        return None
    try:
        y, m, d = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
        hh, mm, ss = int(iso[11:13]), int(iso[14:16]), float(iso[17:-1])
    except ValueError:
        return None
    if not (1 <= m <= 12 and 1 <= d <= 31 and hh < 24 and mm < 60 and 0 <= ss < 61):
        return None
    # Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hh * 3600 + mm * 60 + ss


def _epoch(iso: Any) -> Optional[float]:
    if not isinstance(iso, str) or not iso:
        return None
    fast = _epoch_utc(iso)
    if fast is not None:
        return fast
    import datetime  # other forms than the collector's own: not on the probe's usual path

    try:
        when = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def info_labels(report: dict) -> Dict[str, object]:
    interp = _dict(report.get("interpreter"))
    ident = _dict(report.get("identity"))
    server = _dict(ident.get("server"))
    cfg = _dict(interp.get("pyvenv_cfg"))
    main = ident.get("main_interpreter")
    return {
        "implementation": interp.get("implementation"),
        "python_version": interp.get("version"),
        "prefix": interp.get("prefix"),
        "base_prefix": interp.get("base_prefix"),
        "in_venv": str(bool(interp.get("in_venv"))).lower(),
        "venv_python": cfg.get("version") or "",
        "server": server.get("kind"),
        "mode": server.get("mode") or "",
        "process_group": server.get("process_group") or "",
        "application_group": server.get("application_group") or "",
        "main_interpreter": "" if main is None else str(bool(main)).lower(),
        "fingerprint": fingerprint(report),
    }


def render_metrics(report: dict) -> str:
    """The metrics of the interpreter that answered (see the module docstring)."""
    lines: List[str] = [
        "# HELP venvprobe_info Interpreter, venv and server group that answered; 1. "
        "Workers that differ show as more than one fingerprint.",
        "# TYPE venvprobe_info gauge",
        f"venvprobe_info{_labels(info_labels(report))} 1",
    ]
    started = _dict(report.get("process")).get("create_time")
    if isinstance(started, (int, float)) and not isinstance(started, bool):
        lines += ["# HELP venvprobe_process_start_time_seconds Start time of the process that answered, "
                  "seconds since the epoch.",
                  "# TYPE venvprobe_process_start_time_seconds gauge",
                  f"venvprobe_process_start_time_seconds {_number(round(started, 3))}"]
    generated = _epoch(report.get("generated_at"))
    if generated is not None:
        lines += ["# HELP venvprobe_report_timestamp_seconds When the report served was collected, "
                  "seconds since the epoch.",
                  "# TYPE venvprobe_report_timestamp_seconds gauge",
                  f"venvprobe_report_timestamp_seconds {_number(round(generated, 3))}"]
    findings = [f for f in _list(report.get("findings")) if isinstance(f, dict)]
    lines += ["# HELP venvprobe_finding A finding present in the report (1), by code and severity.",
              "# TYPE venvprobe_finding gauge"]
    for code, severity in sorted({(str(f.get("code")), str(f.get("severity"))) for f in findings}):
        lines.append(f"venvprobe_finding{_labels({'code': code, 'severity': severity})} 1")
    lines += ["# HELP venvprobe_findings Findings in the report, by severity (every severity, 0 included).",
              "# TYPE venvprobe_findings gauge"]
    for severity, count in summarize(findings).items():
        lines.append(f"venvprobe_findings{_labels({'severity': severity})} {count}")
    counts = summary_counts(report)
    for name, help_text in (
        ("distributions", "Installed distributions visible on sys.path (every copy)."),
        ("sys_path_entries", "Entries on sys.path."),
        ("shadowed_modules", "Top-level names provided by more than one sys.path entry."),
        ("shadowed_distributions", "Distributions installed in more than one sys.path entry."),
    ):
        lines += [f"# HELP venvprobe_{name} {help_text}", f"# TYPE venvprobe_{name} gauge",
                  f"venvprobe_{name} {counts[name]}"]
    return "\n".join(lines) + "\n"
