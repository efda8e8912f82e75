"""Plain-text layout shared by every command: terminal width, wrapping, tables, finding blocks.

One rule for the width of text output, everywhere: ``$COLUMNS`` when set,
else the terminal's width when stdout is a terminal, else no limit (piped
into grep, a file or a ticket, lines are not cut, so every row stays on one
line).  Lines are only ever wider than the width when they hold a single
token that cannot be broken (a path longer than the line): paths are never
split, so they can still be copied.

Standard library only (no tabulate): widths are counted in terminal cells,
so CJK text and emoji line up.  Every cell and line goes through
:func:`venvprobe.render.safe.escape_controls` here, once.
"""

from __future__ import annotations

import os
import sys

from venvprobe.render.safe import escape_controls
from venvprobe.render.table import format_value
from venvprobe.vocab import SEVERITIES

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Dict, Iterable, List, Optional, Sequence

    from venvprobe.render.table import Table

MIN_WIDTH = 40
_GAP = "  "


def terminal_width(stream: Any = None) -> Optional[int]:
    """Columns available for text output, or None for "no limit" (not a terminal).

    ``$COLUMNS`` wins (as with ``shutil.get_terminal_size``), so
    ``COLUMNS=100 venvprobe report | less`` wraps for a 100-column pager.
    """
    env = os.environ.get("COLUMNS", "")
    if env.strip().isdigit() and int(env) > 0:
        return max(MIN_WIDTH, int(env))
    stream = sys.stdout if stream is None else stream
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    import shutil

    return max(MIN_WIDTH, shutil.get_terminal_size().columns)


# East Asian wide/fullwidth blocks and emoji (2 cells each); combining marks
# and joiners take none.  Ranges instead of unicodedata: that module is a file
# an app could shadow, and the probe renders with the standard library core only.
_WIDE = ((0x1100, 0x115F), (0x2E80, 0x303E), (0x3041, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA4CF),
         (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFF60), (0xFFE0, 0xFFE6),
         (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x20000, 0x3FFFD))
_ZERO = ((0x0300, 0x036F), (0x200B, 0x200F), (0xFE00, 0xFE0F), (0x20D0, 0x20FF))


def cell_width(text: str) -> int:
    """Terminal cells *text* takes (wide East Asian characters and emoji count 2, combining marks 0)."""
    if text.isascii():
        return len(text)
    n = 0
    for ch in text:
        code = ord(ch)
        if code < 0x300:
            n += 1
        elif any(lo <= code <= hi for lo, hi in _ZERO):
            continue
        else:
            n += 2 if any(lo <= code <= hi for lo, hi in _WIDE) else 1
    return n


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_width(text))


def plural(n: int, word: str, plural_form: Optional[str] = None) -> str:
    """"1 error", "2 errors", "0 info" (info, like "skipped", has no plural)."""
    if word in ("info",):
        return f"{n} {word}"
    return f"{n} {word if n == 1 else (plural_form or word + 's')}"


def counts_line(counts: dict) -> str:
    """"1 error, 2 warnings, 0 info" from a {"error": n, ...} summary."""
    return ", ".join(plural(int(counts.get(k, 0)), k) for k in SEVERITIES)


def wrap(text: Any, width: Optional[int], indent: str = "", first_indent: Optional[str] = None) -> List[str]:
    """Wrap *text* at spaces to *width* cells (None: no wrapping), keeping its own line breaks.

    A token longer than the line gets a line of its own instead of being
    split: a path must stay copyable.
    """
    first = indent if first_indent is None else first_indent  # default: every line indented alike
    out: List[str] = []
    # Text comes from the inspected host: controls, bidi marks and newlines
    # are made visible (textsafe) so nothing rewrites the terminal or forges a line.
    for para in escape_controls(text).split("\n"):
        prefix = first if not out else indent
        if width is None:
            out.append((prefix + para).rstrip())
            continue
        words = para.split(" ")
        line = prefix
        has_word = False
        for word in words:
            if word == "" and has_word:
                continue
            candidate = line + (" " if has_word else "") + word
            if has_word and cell_width(candidate) > width:
                out.append(line.rstrip())
                line = indent + word
            else:
                line = candidate
            has_word = True
        out.append(line.rstrip())
    return out or [first.rstrip()]


def _cell_lines(text: str, width: int) -> List[str]:
    return wrap(text, width) if text else [""]


def _longest_token(text: str) -> int:
    return max((cell_width(t) for t in text.replace("\n", " ").split(" ")), default=0)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], width: Optional[int] = None) -> List[str]:
    """An aligned table that fits *width*: columns shrink by wrapping their cells at spaces.

    A value in the last column too long for it (a long path) moves to a
    line of its own under its row.  When even the narrowest layout (each
    other column as wide as its longest word) does not fit, every row
    becomes a block of ``header: value`` lines instead.  Either way no
    line is wider than *width* unless it holds one unbreakable token.
    """
    head = [escape_controls(h) for h in headers]
    body = [[escape_controls(_str(c)) for c in row] for row in rows]
    n = len(head)
    if not body:
        return []
    natural = [max([cell_width(line) for r in body for line in r[i].split("\n")] + [cell_width(head[i])]) for i in range(n)]
    total = sum(natural) + len(_GAP) * (n - 1)
    if width is None or total <= width:
        return _aligned(head, body, natural, None)
    floor = [max(_longest_token(head[i]), max(_longest_token(r[i]) for r in body)) for i in range(n)]
    # The last column may be narrower than its longest token: such a value breaks out below its row.
    floor[-1] = max(min(floor[-1], max(12, width // 3)), _longest_token(head[-1]))
    if sum(floor) + len(_GAP) * (n - 1) > width or n == 1:
        return _records(head, body, width)
    widths = list(natural)
    excess = total - width
    while excess > 0:
        # Take a cell from the middle column with the most room above its
        # floor; then from the last (long values break out below their row);
        # the first (the row's name) last of all.
        i = max(range(n), key=lambda k: (widths[k] > floor[k], 0 if k == 0 else 1 if k == n - 1 else 2,
                                         widths[k] - floor[k]))
        if widths[i] <= floor[i]:
            return _records(head, body, width)
        widths[i] -= 1
        excess -= 1
    return _aligned(head, body, widths, width)


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _aligned(head: List[str], body: List[List[str]], widths: List[int], limit: Optional[int]) -> List[str]:
    if limit is None:
        heads = [[h] for h in head]
    else:
        heads = [_cell_lines(h, w) for h, w in zip(head, widths)]
    out = [_GAP.join(_pad(c[k] if k < len(c) else "", w) for c, w in zip(heads, widths)).rstrip()
           for k in range(max(len(c) for c in heads))]
    out.append(_GAP.join("-" * w for w in widths))
    spaced = False
    blocks = []
    for row in body:
        below: List[str] = []
        if limit is None:
            cells = [c.split("\n") for c in row]
        else:
            cells = [_cell_lines(c, w) for c, w in zip(row, widths)]
            if any(cell_width(line) > widths[-1] for line in cells[-1]):
                below = wrap(row[-1], limit, indent="      ", first_indent="    ")
                cells[-1] = ["(below)" if widths[-1] >= 7 else "v"]
        # Rows are spaced apart only when a first cell wraps: otherwise a
        # continuation line (blank first cell) is plainly not a row of its own.
        spaced = spaced or len(cells[0]) > 1
        height = max(len(c) for c in cells)
        blocks.append([_GAP.join(_pad(c[k] if k < len(c) else "", w) for c, w in zip(cells, widths)).rstrip()
                       for k in range(height)] + below)
    for i, block in enumerate(blocks):
        if spaced and i:
            out.append("")
        out.extend(block)
    return out


def _records(head: List[str], body: List[List[str]], width: int) -> List[str]:
    out: List[str] = []
    if len(head) == 2:
        # key/value lists: "key: value", the value below the key when it does not fit beside it.
        for key, value in body:
            lines = wrap(f"{key}: {value}", width, indent="    ", first_indent="")
            if cell_width(lines[0]) > width:
                lines = [f"{key}:"] + wrap(value, width, indent="    ")
            out.extend(lines)
        return out
    label_w = max(cell_width(h) for h in head[1:])
    for i, row in enumerate(body):
        if i:
            out.append("")
        out.extend(wrap(f"{head[0]}: {row[0]}" if head[0] else row[0], width, indent="    ", first_indent=""))
        for h, value in zip(head[1:], row[1:]):
            if value == "":
                continue
            label = f"  {_pad(h + ':', label_w + 1)} "
            lines = wrap(value, width, indent=" " * cell_width(label), first_indent=label)
            if cell_width(lines[0]) > width:
                # The label and a long token do not fit on one line: the token goes below.
                lines = [label.rstrip()] + wrap(value, width, indent="      ")
            out.extend(lines)
    return out


def heading(title: str, note: str = "", width: Optional[int] = None) -> List[str]:
    """A section heading ("== Title ==") and its note, wrapped to *width*."""
    out = wrap(f"== {title} ==", width, indent="   ", first_indent="")
    if note:
        out += wrap(note, width, first_indent="", indent="")
    return out


def finding_block(f: dict, width: Optional[int], evidence_limit: int = 12) -> List[str]:
    """One finding as a block: severity + code (+ title), the message, the evidence, an indented fix."""
    sev = str(f.get("severity") or "?").upper()
    code = str(f.get("code") or "?")
    title = f.get("title")
    out = wrap(f"{sev} {code}" + (f" — {title}" if title else ""), width, indent="    ", first_indent="")
    if f.get("message"):
        out += wrap(f.get("message"), width, indent="  ")
    evidence = [e for e in f.get("evidence") or [] if e not in (None, "")]
    if evidence:
        out.append("  evidence:")
        for e in evidence[:evidence_limit]:
            out += wrap(e, width, indent="      ", first_indent="    - ")
        if len(evidence) > evidence_limit:
            out.append(f"    ... {len(evidence) - evidence_limit} more")
    if f.get("fix"):
        out += wrap(f.get("fix"), width, indent="      ", first_indent="  fix: ")
    return out


def tables(tables: Sequence[Table], width: Optional[int]) -> List[str]:
    """Every table as a heading, its note and the table fitted to *width*."""
    out: List[str] = []
    for t in tables:
        out += heading(t.title, t.note, width)
        if t.rows:
            out += table(t.headers, [[format_value(c) for c in row] for row in t.rows], width)
        out.append("")
    return out


def summary_line(counts: Dict[str, int], what: str) -> str:
    """The first line of a ticket: status, counts and what was checked."""
    status = "problems found" if counts.get("error") else "warnings" if counts.get("warning") else "no problems found"
    return f"venvprobe {what}: {status} ({counts_line(counts)})"


def findings_section(findings: Sequence[dict], counts: dict, width: Optional[int], title: str = "Findings") -> List[str]:
    """The findings heading with counts, then one block per finding (blank line between)."""
    if not findings:
        return heading(title, "no findings", width)
    out = heading(title, counts_line(counts), width)
    for f in findings:
        out.append("")
        out.extend(finding_block(f, width))
    return out


__all__ = ["terminal_width", "cell_width", "plural", "counts_line", "wrap", "table", "heading", "finding_block",
           "findings_section", "tables", "summary_line", "MIN_WIDTH"]
