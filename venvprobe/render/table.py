"""The one table model of every command's output, and how one cell value reads as text.

Standard library only, no ``typing`` at run time: the probe's request path renders with it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Iterable, Optional, Sequence


class Table:
    """One titled table (or key/value list): what every format draws.

    Text (:mod:`venvprobe.render.text`), Markdown (:mod:`venvprobe.render.markdown`)
    and HTML (:mod:`venvprobe.render.html`) draw it; ``prose`` names the
    columns holding sentences (Markdown escapes them as text; every other
    cell is a value and goes in a code span).  ``wrap`` is kept for callers
    of the old signature and unused: text tables fit the terminal on their own.
    A plain class: ``dataclasses`` costs every CLI start ~9 ms.
    """

    __slots__ = ("section", "title", "headers", "rows", "note", "wrap", "prose")

    def __init__(self, section: str, title: str, headers: Sequence[str], rows: Optional[Sequence[Sequence[Any]]] = None,
                 note: str = "", wrap: Optional[Sequence[Optional[int]]] = None, prose: Sequence[int] = ()):
        self.section = section
        self.title = title
        self.headers = headers
        self.rows = rows if rows is not None else []
        self.note = note
        self.wrap = wrap
        self.prose = tuple(prose)

    def as_dict(self) -> dict:
        return {"title": self.title, "headers": list(self.headers), "rows": [list(r) for r in self.rows],
                "note": self.note}


def kv(section: str, title: str, pairs: Iterable[tuple], note: str = "") -> Table:
    """A field/value table, every value through :func:`format_value`."""
    return Table(section, title, ("field", "value"), [(k, format_value(v)) for k, v in pairs], note)


def format_value(value: Any) -> str:
    """One table cell as text: None as "-", "" as '' (it means something: the current directory, %{GLOBAL}...),
    booleans as yes/no, lists and dicts joined."""
    if value is None:
        return "-"
    if value == "":
        return "''"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) if value else "-"
    return str(value)


__all__ = ["Table", "format_value", "kv"]
