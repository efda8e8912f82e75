"""venvprobe.vocab is the one list of the report's words, and every copy of it agrees.

The collector and _quick.py cannot import it (the collector runs inside a
foreign interpreter as an island of its own, _quick.py before anything is
imported), so their copies are checked here: the collector's origins and
server kinds are the rows of its origin rules and server detectors tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import venvprobe
from venvprobe import vocab
from venvprobe.compare import compare
from venvprobe.expectations import ExpectationsError, loads

PACKAGE = Path(venvprobe.__file__).resolve().parent
DOCS = PACKAGE.parent / "docs"


def test_the_origin_rules_are_exactly_the_vocabulary_origins():
    from venvprobe.collect.sys_path import ORIGIN_RULES

    kinds = [kind for kind, _ in ORIGIN_RULES]
    assert set(kinds) == set(vocab.ORIGIN_KINDS)
    # Same precedence, except "invalid", decided first (nothing else can be computed for a non-str entry).
    assert list(dict.fromkeys(kinds[1:])) + kinds[:1] == list(vocab.ORIGIN_KINDS)


def test_the_server_detectors_are_exactly_the_vocabulary_server_kinds():
    from venvprobe.collect.identity import SERVER_DETECTORS

    rows = [kind for kind, _ in SERVER_DETECTORS]
    assert rows == [k for k in vocab.SERVER_KINDS if k != "other"] + ["other"], (
        f"the rows of SERVER_DETECTORS in venvprobe/collect/identity.py ({rows}) must be vocab.SERVER_KINDS in "
        f"the same order with 'other' last: rows missing {sorted(set(vocab.SERVER_KINDS) - set(rows))}, "
        f"kinds missing from vocab.SERVER_KINDS {sorted(set(rows) - set(vocab.SERVER_KINDS))}")
    assert set(vocab.WSGI_SERVERS) <= set(vocab.SERVER_KINDS), "vocab.WSGI_SERVERS names a kind not in SERVER_KINDS"


def test_no_origin_or_server_kind_is_written_outside_its_table():
    """The two tables are the only place the collector names an origin or a server kind."""
    import inspect

    from venvprobe.collect import identity, sys_path

    for module, table in ((sys_path, sys_path.ORIGIN_RULES), (identity, identity.SERVER_DETECTORS)):
        text = inspect.getsource(module)
        for kind, func in table:
            assert inspect.getmodule(func) is module
            # A kind spelled anywhere but in its table row would be a second way of emitting it.
            assert text.count(f'"kind": "{kind}"') == 0, kind


def test_a_real_report_uses_only_vocabulary_words():
    from venvprobe.report import build_report

    report = build_report()
    assert report["schema"] == {"name": vocab.SCHEMA_NAME, "version": vocab.SCHEMA_VERSION}
    assert list(report) == list(vocab.REPORT_KEYS)
    kinds = {e["origin"]["kind"] for e in report["sys_path"]["entries"]}
    assert kinds and kinds <= set(vocab.ORIGIN_KINDS)
    assert report["identity"]["server"]["kind"] in vocab.SERVER_KINDS
    assert {f["severity"] for f in report["findings"]} <= set(vocab.SEVERITIES)


@pytest.mark.parametrize("kind", vocab.ORIGIN_KINDS)
def test_expectation_files_accept_every_origin(kind):
    exp = loads(f'[sys_path]\ninclude = ["origin:{kind}"]\nexclude = ["origin:{kind}"]\n', "exp.toml")
    report = {"schema": {"name": vocab.SCHEMA_NAME, "version": vocab.SCHEMA_VERSION},
              "sys_path": {"entries": [{"index": 0, "path": "/x", "origin": {"kind": kind}}]}}
    results = {r.check.split(":", 1)[0]: r.status for r in compare(exp, report)}
    assert results == {"sys_path.include": "pass", "sys_path.exclude": "fail"}, results


def test_expectation_files_still_reject_an_unknown_origin():
    with pytest.raises(ExpectationsError, match="unknown sys.path origin 'editable_finders'"):
        loads('[sys_path]\ninclude = ["origin:editable_finders"]\n', "exp.toml")


def _first_column_code(doc: Path, header: str):
    """Code spans in the first column of the Markdown table whose first header cell is *header*."""
    tokens = MarkdownIt("commonmark").enable("table").parse(doc.read_text(encoding="utf-8"))
    found, in_table, first_cell, is_header = set(), False, False, False
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            in_table, is_header = None, True
        elif tok.type == "table_close":
            if in_table:
                return found
            in_table = False
        elif tok.type == "tr_open":
            first_cell = True
        elif tok.type in ("th_open", "td_open"):
            inline = tokens[i + 1]
            if first_cell and is_header:
                in_table = inline.content.strip() == header
            elif first_cell and in_table:
                found |= {c.content for c in inline.children if c.type == "code_inline"}
            first_cell = False
        elif tok.type == "thead_close":
            is_header = False
    raise AssertionError(f"no table headed {header!r} in {doc.name}")


def test_report_schema_doc_lists_the_vocabulary_origins():
    assert _first_column_code(DOCS / "report-schema.md", "`origin.kind`") == set(vocab.ORIGIN_KINDS)


def test_expectations_doc_lists_the_vocabulary_origins():
    assert _first_column_code(DOCS / "expectations.md", "origin") == set(vocab.ORIGIN_KINDS)


def test_copies_that_cannot_import_the_vocabulary_are_equal():
    from venvprobe import _quick
    from venvprobe.collect import common

    assert (common.SCHEMA_NAME, common.SCHEMA_VERSION) == (vocab.SCHEMA_NAME, vocab.SCHEMA_VERSION)
    assert vocab.SEVERITY_RANK == _quick.SEVERITY_RANK
    assert _quick.FAIL_ON == vocab.FAIL_ON


def test_the_probe_and_render_show_the_vocabulary_views():
    from venvprobe import render
    from venvprobe.probe import core
    assert render.SECTIONS == vocab.VIEWS
    assert list(core.SECTION_PATHS) == list(vocab.VIEWS)
    assert {vocab.VIEW_SECTION.get(v, v) for v in vocab.VIEWS} == set(vocab.SECTIONS)



def test_the_probes_error_answer_uses_the_vocabulary_schema_name():
    from venvprobe.probe import guard

    # guard builds it in a function that needs a shadowed standard library to run; its literal is the copy.
    assert f'"name": "{vocab.ERROR_SCHEMA_NAME}"' in Path(guard.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize("value, expected", [
    ({"a": 1}, {"a": 1}),
    ([1, 2], [1, 2]),
    ({"error": "PermissionError: x"}, None),
    ({"error": "x", "more": 1}, {"error": "x", "more": 1}),  # real data that happens to hold "error"
    (None, None),
    ("text", None),
    (3, None),
])
def test_section_is_data_or_none(value, expected):
    assert vocab.section({"s": value}, "s") == expected
    assert vocab.section_error({"s": value}, "s") == ("PermissionError: x" if expected is None and isinstance(value, dict) else None)


def test_section_of_a_missing_section_or_a_non_report():
    assert vocab.section({}, "interpreter") is None
    assert vocab.section([], "interpreter") is None
    assert vocab.section_error({}, "interpreter") is None


def _row_code(doc: Path, first_cell: str):
    """Code spans of the table row (any table) whose first cell is *first_cell*."""
    tokens = MarkdownIt("commonmark").enable("table").parse(doc.read_text(encoding="utf-8"))
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open" and tokens[i + 2].content.strip() == first_cell:
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "tr_close")
            return {c.content for t in tokens[i:end] if t.type == "inline" for c in t.children if c.type == "code_inline"}
    raise AssertionError(f"no row {first_cell!r} in {doc.name}")


def test_docs_list_every_server_kind():
    for doc in (DOCS / "expectations.md", DOCS / "report-schema.md"):
        missing = [k for k in vocab.SERVER_KINDS if k not in _row_code(doc, "`server`")]
        assert not missing, (f"docs/{doc.name}: the `server` row of its table does not name {missing} "
                             "(vocab.SERVER_KINDS): add each as `kind` to that row")
