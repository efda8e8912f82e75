"""Markdown building blocks for ticket-ready output (CommonMark + GitHub tables).

What a support ticket needs from pasted Markdown: every path and value in a
code span (so ``__init__``, ``*`` and ``_`` stay literal), prose with its
Markdown punctuation escaped, tables whose cells cannot add or remove a
column, long sections folded in ``<details>``.  Checked by rendering with
markdown-it-py in the tests.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Dict, Iterable, List, Sequence

    from venvprobe.render.table import Table

FOLD_ROWS = 12  # a table longer than this is folded into <details>


def text(value: Any) -> str:
    """Prose: literal text, never emphasis, a link, an image, HTML or a new block (safe.md_text)."""
    from venvprobe.render.safe import md_text

    # \< is literal in CommonMark but leaves "<script" in the source for a
    # renderer that is not; an entity is literal in both.
    return md_text("" if value is None else value).replace("\\<", "&lt;").replace("\\>", "&gt;")


def code(value: Any, in_table: bool = False) -> str:
    """*value* (a path, a name, a version) as a code span, literal whatever it holds.

    The fence is longer than any backtick run inside (safe.md_code); in a
    table cell ``|`` is written ``\\|``, which GFM undoes before the span is
    parsed.  An empty string shows as ``''``.  A value with ``<`` or ``>``
    is written as escaped text instead: literal too, and a raw ``<script>``
    never appears in the Markdown source for a less careful renderer.
    """
    from venvprobe.render.safe import md_code

    s = "" if value is None else str(value)
    if s == "":
        return "`''`"
    if "<" in s or ">" in s:
        return text(s)
    return md_code(s, in_table=in_table)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    """A GitHub table from already-formatted cells (pipes in prose cells must be escaped by the caller)."""
    head = [h if h else " " for h in headers]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rows:
        cells = [c if c else " " for c in row]
        out.append("| " + " | ".join(cells) + " |")
    return out


def details(summary: str, body: List[str]) -> List[str]:
    """*body* folded under a ``<details>`` summary (the summary is HTML, so it is escaped)."""
    from venvprobe.render.html import esc

    return ["<details>", f"<summary>{esc(summary)}</summary>", ""] + body + ["", "</details>"]


def heading(level: int, title: str) -> str:
    return "#" * level + " " + text(title)


def tables(tables: Sequence[Table], level: int = 2) -> List[str]:
    """Every table as a heading, its note and a GitHub table; long ones folded in <details>.

    Cells of ``prose`` columns are escaped text, every other cell a code span.
    """
    from venvprobe.render.table import format_value

    out: List[str] = []
    for t in tables:
        out.append(heading(level, t.title))
        out.append("")
        if t.note:
            out += [text(t.note), ""]
        if not t.rows:
            continue
        prose = t.prose or ()
        rows = [[text(format_value(c)) if i in prose else "-" if c is None else code(format_value(c), in_table=True)
                 for i, c in enumerate(row)] for row in t.rows]
        body = table([text(h) for h in t.headers], rows)
        if len(rows) > FOLD_ROWS:
            body = details(f"{t.title}: {len(rows)} rows", body)
        out += body + [""]
    return out


def findings(findings: Sequence[dict], counts: Dict[str, int], level: int = 2) -> List[str]:
    """Findings as a list: severity and code, message, evidence and fix under each."""
    from venvprobe.render.text import counts_line

    out = [heading(level, "Findings"), ""]
    if not findings:
        return out + ["No findings.", ""]
    out += [text(counts_line(counts)), ""]
    for f in findings:
        out.append(f"- **{text(f.get('severity'))}** {code(f.get('code'))}: {text(f.get('message'))}")
        evidence = [e for e in f.get("evidence") or [] if e not in (None, "")]
        if evidence:
            out.append("  - evidence: " + ", ".join(code(e) for e in evidence[:12])
                       + (f" and {len(evidence) - 12} more" if len(evidence) > 12 else ""))
        if f.get("fix"):
            out.append(f"  - fix: {text(f.get('fix'))}")
    out.append("")
    return out


__all__ = ["FOLD_ROWS", "code", "details", "findings", "heading", "table", "tables", "text"]
