"""Markdown for a support ticket, judged as a tracker shows it: rendered by markdown-it (CommonMark + tables).

A report whose paths hold ``__init__``, ``*``, ``|`` and backticks renders
literally; no text turns into emphasis; every table keeps its columns (each
cell holds exactly its value); the summary comes first; long tables fold.
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import List

from markdown_it import MarkdownIt

from sample_reports import LONG_PATH, ODD_PATH, sample_report
from venvprobe.rules.registry import make_finding
from venvprobe.diff import diff_reports, render_diff
from venvprobe.offline.output import kv_table, make_result
from venvprobe.offline.output import render as render_offline
from venvprobe.render import render

MD = MarkdownIt("commonmark").enable("table")


class _Tables(HTMLParser):
    """Every rendered table as [[cell text, ...], ...] (header row first), plus all <code> texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: List[List[List[str]]] = []
        self.codes: List[str] = []
        self._cell = None
        self._code = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "code":
            self._code = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "code":
            self.codes.append(self._code)
            self._code = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._code is not None:
            self._code += data


def _shown(md: str) -> _Tables:
    parser = _Tables()
    parser.feed(MD.render(md))
    return parser


def _emphasis(md: str) -> List[str]:
    """The text of every emphasis and strong span markdown-it finds."""
    found = []
    for block in MD.parse(md):
        children = block.children or []
        for i, tok in enumerate(children):
            if tok.type in ("em_open", "strong_open"):
                found.append((tok.type, children[i + 1].content))
    return found


def _column(table: List[List[str]], header: str) -> List[str]:
    i = table[0].index(header)
    return [row[i] for row in table[1:]]


def test_report_markdown_renders_literally():
    report = sample_report()
    md = render(report, "markdown")
    tokens = MD.parse(md)
    # The summary line first: what a ticket reader sees before anything else.
    assert tokens[0].type == "heading_open" and tokens[0].tag == "h1"
    assert tokens[1].content.replace("\\", "") == "venvprobe report: problems found (2 errors, 3 warnings, 1 info)"
    # No text turns into emphasis: only the severities venvprobe itself sets in bold.
    assert _emphasis(md) == [("strong_open", f["severity"]) for f in report["findings"]]
    shown = _shown(md)
    # Every table keeps its columns: each cell holds exactly its value, in order.
    by_header = {tuple(t[0]): t for t in shown.tables}
    path_table = by_header[("index", "state", "origin", "where it came from", "path")]
    assert _column(path_table, "path") == [e["path"] or "''" for e in report["sys_path"]["entries"]]
    assert _column(path_table, "index") == [str(e["index"]) for e in report["sys_path"]["entries"]]
    dists = by_header[("name", "version", "sys.path entry", "installed by", "location")]
    assert sorted(_column(dists, "name")) == sorted(d["name"] for d in report["distributions"])
    assert all(len(row) == len(t[0]) for t in shown.tables for row in t)
    # Paths with __init__, *, | and backticks are literal code, in tables and in the findings list.
    assert ODD_PATH in shown.codes and LONG_PATH in shown.codes
    assert ODD_PATH in _column(path_table, "path")
    missing = next(f for f in report["findings"] if f["code"] == "sys-path-missing")
    assert missing["message"] in MD.render(md).replace("&quot;", '"')  # the prose too: literal, not emphasis
    # Long sections are folded; the facts and findings are not.
    assert "<details>\n<summary>Installed distributions (20): 20 rows</summary>" in md
    assert md.index("## Findings") < md.index("<details>")


def test_offline_and_diff_markdown_render_literally():
    finding = make_finding("sys-path-missing", f"python-path entry {ODD_PATH} does not exist", [ODD_PATH])
    result = make_result("check-uwsgi", ODD_PATH, [finding], tables=[kv_table("App", [("home", ODD_PATH), ("x", "a_b_")])])
    md = render_offline(result, "markdown")
    shown = _shown(md)
    assert _emphasis(md) == [("strong_open", "warning")]
    assert ODD_PATH in shown.codes and shown.codes.count(ODD_PATH) >= 3  # target, evidence, table
    assert shown.tables[0][1:] == [["home", ODD_PATH], ["x", "a_b_"]]

    a = sample_report()
    b = copy.deepcopy(a)
    b["sys_path"]["entries"][3]["path"] = ODD_PATH + "/more*"
    b["environment"]["variables"]["PYTHONPATH"] = "`x`|*y*"
    md = render_diff(diff_reports(a, b), "markdown", "staging|`a`", "prod_*b*_")
    shown = _shown(md)
    assert [e for e in _emphasis(md)] == []
    assert "staging|`a`" in shown.codes and "prod_*b*_" in shown.codes
    env = next(t for t in shown.tables if t[0][0] == "variable")
    assert env[1] == ["PYTHONPATH", "/srv/shared/private", "`x`|*y*"]
    paths = next(t for t in shown.tables if "path" in t[0])
    assert ODD_PATH + "/more*" in _column(paths, "path") and ODD_PATH in _column(paths, "path")
