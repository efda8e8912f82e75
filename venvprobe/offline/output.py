"""Rendering of offline results (check-home, check-apache, check-uwsgi, explain-log).

An offline result is plain data: ``{"schema", "command", "target",
"facts", "findings", "tables"}``.  Findings have exactly the shape of the
live report's (the sink ``venvprobe.rules.registry.Findings``), so the same code always
carries the same title and fix; text, Markdown and HTML are drawn by the
same layer as the live report (:mod:`venvprobe.render`), JSON is the data itself.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from venvprobe.render.table import Table, format_value  # the one table model and cell format of every command
from venvprobe.rules.registry import sort_findings, summarize

SCHEMA = {"name": "venvprobe.offline", "version": 1}
FORMATS = ("text", "markdown", "json", "html")


def OfflineTable(title: str, headers: Sequence[str], rows: Optional[Sequence[Sequence[Any]]] = None, note: str = "") -> Table:
    """One titled table of an offline result (a :class:`venvprobe.render.Table`)."""
    return Table("offline", title, headers, rows, note)


def kv_table(title: str, pairs: Sequence[Tuple[str, Any]], note: str = "") -> Table:
    """A field/value table, dropping empty values."""
    return OfflineTable(title, ("field", "value"), [(k, format_value(v)) for k, v in pairs if v not in (None, "", [])], note)


def make_result(command: str, target: str, findings: List[dict], facts: Optional[dict] = None,
                tables: Optional[List[Table]] = None) -> dict:
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


def _tables(result: dict) -> List[Table]:
    return [Table("offline", str(t.get("title")), list(t.get("headers") or ()), [list(r) for r in t.get("rows") or []],
                  str(t.get("note") or "")) for t in result.get("tables") or [] if isinstance(t, dict)]


def render(result: dict, fmt: str = "text", width: Optional[int] = None) -> str:
    """Render *result* as text (fitted to *width* columns, None: no limit), markdown, html or json."""
    if fmt == "json":
        from venvprobe.render.json import offline

        return offline(result)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    counts = result.get("summary") or summarize(result.get("findings") or [])
    findings = [f for f in result.get("findings") or [] if isinstance(f, dict)]
    what = f"venvprobe {result.get('command')}"
    if fmt == "html":
        from venvprobe.render.html import document

        return document(what, [("target", result.get("target"))], counts, findings, _tables(result))
    if fmt == "markdown":
        from venvprobe.render import markdown as mdfmt
        from venvprobe.render.text import summary_line

        out = ["# " + mdfmt.text(summary_line(counts, str(result.get("command")))), "",
               f"- target: {mdfmt.code(result.get('target'))}", ""]
        out += mdfmt.findings(findings, counts)
        out += mdfmt.tables(_tables(result))
        return "\n".join(out).rstrip("\n") + "\n"
    from venvprobe.render import text as textfmt

    out = textfmt.wrap(f"{what} — {result.get('target')}", width, indent="    ", first_indent="")
    out.append("")
    out += textfmt.findings_section(findings, counts, width)
    out.append("")
    out += textfmt.tables(_tables(result), width)
    return "\n".join(out).rstrip("\n") + "\n"


__all__ = ["FORMATS", "OfflineTable", "SCHEMA", "dedupe", "kv_table", "make_result", "render"]
