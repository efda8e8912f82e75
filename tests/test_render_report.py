"""Renderers: every format shows the same facts, hostile strings cannot break
Markdown tables or inject HTML, and a damaged report still renders."""

from __future__ import annotations

import json

import pytest

from test_analyze_report import _entry, mini_report
from venvprobe.analyze import analyze
from venvprobe.render import FORMATS, render, report_tables, summary_counts

NASTY = "/srv/a|b\n<script>alert(1)</script>/x"


def _report() -> dict:
    r = mini_report()
    r["generated_at"] = "2030-01-01T00:00:00.000Z"
    r["sys_path"]["entries"].append(_entry(3, NASTY, "runtime", exists=False))
    r["sys_path"]["entries"].append(_entry(4, "/srv/caf\\xe9", "runtime", non_utf8=True))
    r["findings"] = analyze(r)
    return r


def test_same_findings_in_every_format() -> None:
    r = _report()
    assert [f["code"] for f in r["findings"]] == ["sys-path-missing"]
    for fmt in FORMATS:
        out = render(r, fmt)
        assert "sys-path-missing" in out, fmt
        assert "/srv/caf\\xe9" in out.replace("\\\\", "\\"), fmt
    assert json.loads(render(r, "json"))["findings"] == r["findings"]


def test_markdown_table_cannot_be_broken() -> None:
    md = render(_report(), "markdown", ["path"])
    rows = [l for l in md.splitlines() if l.startswith("|")]
    widths = {l.count("|") - l.count("\\|") for l in rows}
    assert len(widths) == 1, rows  # every row has the same number of cells
    # Checked the way a tracker shows it: a CommonMark + tables renderer.
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script>" not in page and "<td>/srv/a|b &lt;script&gt;alert(1)&lt;/script&gt;/x</td>" in page


def test_html_escapes_everything() -> None:
    page = render(_report(), "html")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<link" not in page and "src=" not in page  # self-contained


def test_json_sections_and_summary_counts() -> None:
    r = _report()
    only = json.loads(render(r, "json", ["path", "findings"]))
    assert set(only) == {"schema", "generated_at", "identity", "sys_path", "findings", "sections"}
    assert only["sections"] == ["identity", "sys_path", "findings"]  # part of a report says so
    assert summary_counts(r) == {"distributions": 0, "sys_path_entries": 5, "shadowed_modules": 0,
                                 "shadowed_distributions": 0}


def test_text_order_findings_first() -> None:
    titles = [t.title for t in report_tables(_report())]
    assert titles[0] == "Findings"
    assert titles.index("sys.path (in order)") < titles.index("Installed distributions (0)")


@pytest.mark.parametrize("fmt", FORMATS)
def test_damaged_report_still_renders(fmt: str) -> None:
    r = _report()
    r["sys_path"]["entries"] = [1, None, "x"]
    r["shadowed"] = {"modules": [{"name": None, "winner": "?"}], "distributions": "no"}
    r["process"] = {"error": "PermissionError: denied"}
    r["findings"].append({"code": "odd"})
    out = render(r, fmt)
    assert out
    if fmt != "json":
        assert "PermissionError: denied" in out
