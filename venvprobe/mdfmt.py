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
    from typing import Any, Iterable, List, Sequence

FOLD_ROWS = 12  # a table longer than this is folded into <details>


def text(value: Any) -> str:
    """Prose: literal text, never emphasis, a link, an image, HTML or a new block (textsafe.md_text)."""
    from venvprobe.textsafe import md_text

    # \< is literal in CommonMark but leaves "<script" in the source for a
    # renderer that is not; an entity is literal in both.
    return md_text("" if value is None else value).replace("\\<", "&lt;").replace("\\>", "&gt;")


def code(value: Any, in_table: bool = False) -> str:
    """*value* (a path, a name, a version) as a code span, literal whatever it holds.

    The fence is longer than any backtick run inside (textsafe.md_code); in a
    table cell ``|`` is written ``\\|``, which GFM undoes before the span is
    parsed.  An empty string shows as ``''``.  A value with ``<`` or ``>``
    is written as escaped text instead: literal too, and a raw ``<script>``
    never appears in the Markdown source for a less careful renderer.
    """
    from venvprobe.textsafe import md_code

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
    from venvprobe.htmlfmt import esc

    return ["<details>", f"<summary>{esc(summary)}</summary>", ""] + body + ["", "</details>"]


def heading(level: int, title: str) -> str:
    return "#" * level + " " + text(title)


__all__ = ["FOLD_ROWS", "code", "details", "heading", "table", "text"]
