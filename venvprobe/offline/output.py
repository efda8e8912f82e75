"""Rendering of offline results (check-home, check-apache, check-uwsgi, explain-log).

An offline result is plain data: ``{"schema", "command", "target",
"facts", "findings", "tables"}``.  Findings have exactly the shape of the
live report's (``venvprobe.catalog.make_finding``), so the same code always
carries the same title and fix; text and Markdown are drawn with tabulate
like :mod:`venvprobe.render`, JSON is the data itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tabulate import tabulate

from venvprobe.analyze import summarize
from venvprobe.render import format_cell, format_value  # one cell format for every report table
from venvprobe.catalog import sort_findings
from venvprobe.textsafe import escape_controls, md_code, md_text

SCHEMA = {"name": "venvprobe.offline", "version": 1}
FORMATS = ("text", "markdown", "json")


@dataclass
class OfflineTable:
    """One titled table of an offline result."""

    title: str
    headers: Sequence[str]
    rows: List[Sequence[Any]] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        return {"title": self.title, "headers": list(self.headers), "rows": [list(r) for r in self.rows],
                "note": self.note}


def kv_table(title: str, pairs: Sequence[Tuple[str, Any]], note: str = "") -> OfflineTable:
    """A field/value table, dropping empty values."""
    return OfflineTable(title, ("field", "value"), [(k, format_value(v)) for k, v in pairs if v not in (None, "", [])], note)


def make_result(command: str, target: str, findings: List[dict], facts: Optional[dict] = None,
                tables: Optional[List[OfflineTable]] = None) -> dict:
    """Assemble an offline result; findings are deduplicated and sorted."""
    return {
        "schema": dict(SCHEMA),
        "command": command,
        "target": target,
        "summary": summarize(findings),
        "findings": sort_findings(dedupe(findings)),
        "facts": facts or {},
        "tables": [t.as_dict() for t in tables or []],
    }


def dedupe(findings: List[dict]) -> List[dict]:
    """One finding per (code, message): repeats merge their evidence."""
    out: List[dict] = []
    index: Dict[Tuple[str, str], dict] = {}
    for f in findings:
        key = (f.get("code", ""), f.get("message", ""))
        if key in index:
            seen = index[key]
            for e in f.get("evidence") or []:
                if e not in seen["evidence"]:
                    seen["evidence"].append(e)
            continue
        index[key] = f
        out.append(f)
    return out


def render(result: dict, fmt: str = "text") -> str:
    """Render *result* as text, markdown or json."""
    if fmt == "json":
        return json.dumps({k: v for k, v in result.items() if k != "tables"}, indent=2, ensure_ascii=True, default=str)
    if fmt not in ("text", "markdown"):
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    md = fmt == "markdown"
    tablefmt = "github" if md else "simple"
    counts = result.get("summary") or summarize(result.get("findings") or [])
    safe = md_text if md else escape_controls
    head = f"venvprobe {result.get('command')} — {result.get('target')}"
    out = [("# " if md else "") + safe(head), ""]
    findings = result.get("findings") or []
    out.append(("## " if md else "== ") + "Findings" + ("" if md else " =="))
    if findings:
        note = f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info"
        out.append(f"_{note}_" if md else note)
        rows = [[format_cell(f.get("severity"), md), format_cell(f.get("code"), md), format_cell(f.get("message"), md),
                 format_cell(f.get("fix"), md)] for f in findings]
        out.append(tabulate(rows, headers=["severity", "code", "what", "fix"], tablefmt=tablefmt,
                            disable_numparse=True))
        out.append("")
        out.append(("### " if md else "-- ") + "Evidence" + ("" if md else " --"))
        for f in findings:
            ev = f.get("evidence") or []
            if not ev:
                continue
            out.append(f"* {md_code(f.get('code'))}" if md else f"[{safe(f.get('code'))}] {safe(f.get('message'))}")
            for e in ev[:12]:
                out.append(f"    - {md_code(format_value(e))}" if md else f"    {safe(format_value(e))}")
            if len(ev) > 12:
                out.append(f"    ... {len(ev) - 12} more")
    else:
        out.append("_no findings_" if md else "no findings")
    out.append("")
    for table in result.get("tables") or []:
        out.append(("## " if md else "== ") + safe(table["title"]) + ("" if md else " =="))
        if table.get("note"):
            out.append(f"_{safe(table['note'])}_" if md else safe(table["note"]))
        if table.get("rows"):
            rows = [[format_cell(c, md) for c in row] for row in table["rows"]]
            out.append(tabulate(rows, headers=list(table["headers"]), tablefmt=tablefmt, disable_numparse=True))
        out.append("")
    return "\n".join(out)


__all__ = ["FORMATS", "OfflineTable", "SCHEMA", "dedupe", "kv_table", "make_result", "render"]
