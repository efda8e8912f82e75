"""The *render* stage: one table model, drawn in every format.

Documents (a report, an offline check's result, a diff, compare's results)
are turned into :class:`Table` views and findings; the format modules draw
them.  One module per format, each standing alone:

- :mod:`~venvprobe.render.table`: the model (:class:`Table`, :func:`format_value`)
- :mod:`~venvprobe.render.text`: plain text fitted to the terminal
- :mod:`~venvprobe.render.markdown`: Markdown for tickets
- :mod:`~venvprobe.render.html`: one self-contained HTML page
- :mod:`~venvprobe.render.json`: the JSON documents
- :mod:`~venvprobe.render.junit`, :mod:`~venvprobe.render.tap`: compare's results for CI
- :mod:`~venvprobe.render.safe`: untrusted text made safe to print (used by all of them)
- :mod:`~venvprobe.render.report`: a report as tables, and in each format
- :mod:`~venvprobe.render.checks`: compare's results as tables and text; its format dispatcher

This package imports only the model at first: the report's renderer (which
needs :mod:`venvprobe.analyze`) loads when one of its names is used, so
``venvprobe.render.text`` and ``.safe`` stay cheap for the CLI's start-up.
Standard library only, no ``typing`` or ``re`` at import: the probe's request
path renders with it.
"""

from __future__ import annotations

from venvprobe.render.table import Table, format_value
from venvprobe.vocab import VIEWS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence

FORMATS = ("text", "markdown", "json", "html")
SECTIONS = VIEWS  # what --section and the probe's sub-resources accept, in display order

# Names of the report renderer, loaded on first use (PEP 562).
_REPORT = ("report_tables", "render_text", "render_markdown", "render_json", "render_html", "summary_counts")


def render(report: dict, fmt: str = "text", sections: Optional[Sequence[str]] = None,
           width: Optional[int] = None, stdlib_only: bool = True) -> str:
    """Render *report* in *fmt* (one of :data:`FORMATS`): :func:`venvprobe.render.report.render`."""
    from venvprobe.render.report import render as render_report

    return render_report(report, fmt, sections, width, stdlib_only)


def __getattr__(name: str) -> Any:
    if name in _REPORT:
        from venvprobe.render import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FORMATS", "SECTIONS", "Table", "format_value", "render", *_REPORT]
