"""Make untrusted text safe to print: terminals, Markdown, one-line messages.

Everything venvprobe prints comes, in the end, from somebody else: package
names and paths from the inspected interpreter, a remote probe's error body,
a hand-edited report, a log file.  A raw ESC can rewrite the terminal, a
U+202E reorders what the reader sees, a newline forges a row or a heading,
and ``[x](javascript:...)`` or ``<img onerror>`` in a Markdown ticket runs
in somebody's browser.  These small functions are applied where a value
becomes a cell, a title or an error line, so every layout built on them
(text, Markdown, the CLI's error line) gets the same treatment.

Standard library only, and cheap on the hot path
(``str.translate`` with a cached table): rendering 2,000 distributions must
stay cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing, no re: this is on the probe's request path (venvprobe.probe.guard)
    from typing import Any, Dict

__all__ = ["escape_controls", "one_line", "md_text", "md_cell", "md_code", "is_unsafe_char"]

# Bidi embedding/override/isolate marks and other invisible format
# characters that change how the surrounding text is displayed.
_BIDI = (
    [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF]
    + list(range(0x202A, 0x202F))   # LRE RLE PDF LRO RLO
    + list(range(0x2066, 0x206A))   # LRI RLI FSI PDI
    + list(range(0x200B, 0x200E))   # zero-width space / (non-)joiner
)


def _escape_of(code: int) -> str:
    if code in (0x09,):
        return "\\t"
    if code == 0x0A:
        return "\\n"
    if code == 0x0D:
        return "\\r"
    if code < 0x100:
        return "\\x%02x" % code
    return "\\u%04x" % code


def is_unsafe_char(ch: str) -> bool:
    """True for C0/C1 controls, DEL, bidi/format marks and lone surrogates."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in _BIDI_SET or 0xD800 <= code <= 0xDFFF


_BIDI_SET = frozenset(_BIDI)
_UNSAFE = list(range(0x20)) + list(range(0x7F, 0xA0)) + _BIDI
# Lone surrogates (from surrogateescape'd file names) cannot even be encoded
# to UTF-8: printing one is a UnicodeEncodeError, not just ugly.
_UNSAFE += list(range(0xD800, 0xE000))
_TABLE: Dict[int, str] = {c: _escape_of(c) for c in _UNSAFE if not 0xD800 <= c < 0xE000}
# The 2,048 surrogates without a call each: this table is built at every CLI start that renders.
_TABLE.update({c: "\\u%04x" % c for c in range(0xD800, 0xE000)})
_TABLE_KEEP_NL: Dict[int, str] = dict(_TABLE)
del _TABLE_KEEP_NL[0x0A]


def escape_controls(value: Any, keep_newlines: bool = False) -> str:
    """*value* as text with every control, bidi and surrogate character made visible.

    ESC becomes the four characters ``\\x1b``, U+202E becomes ``\\u202e``,
    CR ``\\r``, TAB ``\\t``; newlines too unless *keep_newlines*.
    """
    text = value if isinstance(value, str) else str(value)
    if text.__class__ is str and text.isascii() and text.isprintable():
        return text  # nothing to escape: the unsafe ASCII characters are exactly the unprintable ones
    return text.translate(_TABLE_KEEP_NL if keep_newlines else _TABLE)


def one_line(value: Any, limit: int = 2000) -> str:
    """An error message as exactly one visible line, clipped to *limit* characters."""
    text = escape_controls(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# CommonMark lets any ASCII punctuation be backslash-escaped.  These are the
# ones that start markup: links and images (an escaped "(" after "]" is no
# link destination; "[" and "]" stay readable, as in "[secret:...]", because
# a reference definition cannot start inside a cell or a heading), raw HTML
# and autolinks (< >), entities (&), code spans, emphasis, tables (|), and
# headings (#).
_MD_SPECIAL = "\\`*()<>&|~#"
_MD_TABLE: Dict[int, str] = dict(_TABLE)
_MD_TABLE.update({ord(c): "\\" + c for c in _MD_SPECIAL})
# A newline would end the table row or the heading: a visible space instead.
_MD_TABLE[0x0A] = " "
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _escape_underscores(text: str) -> str:
    """Escape every ``_`` not between two ASCII letters/digits (``(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])``)."""
    parts = text.split("_")
    out = [parts[0]]
    for before, after in zip(parts, parts[1:]):
        inside = before[-1:] in _ALNUM and after[:1] in _ALNUM and before and after
        out.append("_" if inside else "\\_")
        out.append(after)
    return "".join(out)


def md_text(value: Any) -> str:
    """Inline Markdown for *value*: literal text, never a link, image, HTML or new block."""
    # Table cells and headings are inline content: with newlines gone and the
    # characters above escaped, no block (heading, list, HTML block) can start.
    text = (value if isinstance(value, str) else str(value)).translate(_MD_TABLE)
    if "_" in text:
        # An underscore inside a word (venv_site, DB_PASSWORD) is never
        # emphasis in CommonMark; only the others (__init__) are escaped, so
        # the raw Markdown stays readable.
        text = _escape_underscores(text)
    return text


def md_cell(value: Any) -> str:
    """A Markdown table cell: :func:`md_text` (pipes are already escaped)."""
    return md_text(value)


def md_code(value: Any, in_table: bool = False) -> str:
    """*value* as an inline code span, with a fence longer than any backtick run inside.

    Inside a code span nothing is markup (no links, no HTML), but backslash
    escapes do not work either, hence the fence instead.  Pipes still end a
    GitHub table cell even inside code: with *in_table* they are written
    ``\\|``, which GFM turns back into a literal ``|`` before parsing the span.
    """
    text = escape_controls(value)
    if in_table:
        text = text.replace("|", "\\|")
    longest = run = 0
    if "`" in text:  # most values hold no backtick: a one-backtick fence, without a look at each character
        for ch in text:
            run = run + 1 if ch == "`" else 0
            longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
