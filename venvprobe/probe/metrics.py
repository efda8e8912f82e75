"""Prometheus text exposition of a report: fleets are watched with the tools people already run."""

from __future__ import annotations

from typing import Dict, List

from venvprobe.analyze import summarize
from venvprobe.render import summary_counts


def _label(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Dict[str, object]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"


def render_metrics(report: dict) -> str:
    """Metrics for one interpreter: an info metric plus counts."""
    interp = report.get("interpreter") if isinstance(report.get("interpreter"), dict) else {}
    ident = report.get("identity") if isinstance(report.get("identity"), dict) else {}
    server = ident.get("server") or {}
    cfg = interp.get("pyvenv_cfg") or {}
    info = {
        "python_version": interp.get("version"),
        "implementation": interp.get("implementation"),
        "prefix": interp.get("prefix"),
        "base_prefix": interp.get("base_prefix"),
        "venv": interp.get("prefix") if interp.get("in_venv") else "",
        "venv_python": cfg.get("version") or "",
        "server": server.get("kind"),
        "process_group": server.get("process_group") or "",
        "application_group": server.get("application_group") or "",
        "interpreter_id": ident.get("interpreter_id"),
        "main_interpreter": str(bool(ident.get("main_interpreter"))).lower(),
        "pid": ident.get("pid"),
    }
    lines: List[str] = [
        "# HELP venvprobe_info Which interpreter, venv and server group answered (value is always 1).",
        "# TYPE venvprobe_info gauge",
        f"venvprobe_info{_labels(info)} 1",
        "# HELP venvprobe_findings Findings in the report, by severity.",
        "# TYPE venvprobe_findings gauge",
    ]
    for severity, count in summarize(report.get("findings") or []).items():
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
