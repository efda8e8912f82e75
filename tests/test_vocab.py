"""venvprobe.vocab is the one list of the report's words, and every copy of it agrees.

The collector and _quick.py cannot import it (the collector's source runs
inside a foreign interpreter without it, _quick.py before anything is
imported), so their copies are checked here: the collector's by reading every origin and
server kind its source can emit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import venvprobe
from venvprobe import vocab
from venvprobe.compare import compare
from venvprobe.expectations import ExpectationsError, loads

PACKAGE = Path(venvprobe.__file__).resolve().parent
DOCS = PACKAGE.parent / "docs"


def _collector_sources():
    """The collector's modules: _collect.py today, or a collect/ package."""
    files = [PACKAGE / "_collect.py"] if (PACKAGE / "_collect.py").exists() else []
    files += sorted((PACKAGE / "collect").glob("*.py")) if (PACKAGE / "collect").is_dir() else []
    assert files, "no collector source found"
    return [(f, ast.parse(f.read_text(encoding="utf-8"))) for f in files]


def _strings(node):
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _values(node):
    """The strings an expression made of constants and ``a if c else b`` can take."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body) | _values(node.orelse)
    pytest.fail(f"cannot read the strings of {ast.dump(node)[:200]}")  # a new way of writing a kind: teach this test


def _kinds_assigned_to(holder: str):
    """Every "kind" of a dict literal the collector assigns to *holder* (a name, or ``x["holder"]``).

    A kind held in a variable (``kind = "editable" if ... else "pth"``) counts
    with every string assigned to that variable in the same function.
    """
    kinds = set()
    for _, tree in _collector_sources():
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            assigned = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(func):
                if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Dict):
                    continue
                if not any((isinstance(t, ast.Name) and t.id == holder)
                           or (isinstance(t, ast.Subscript) and holder in _strings(t.slice)) for t in node.targets):
                    continue
                for key, value in zip(node.value.keys, node.value.values):
                    if not (isinstance(key, ast.Constant) and key.value == "kind"):
                        continue
                    if isinstance(value, ast.Constant):
                        kinds.add(value.value)
                    elif isinstance(value, ast.Name):
                        for source in assigned.get(value.id, []):
                            kinds |= _values(source)
                    else:  # pragma: no cover - a new way of writing a kind: teach this test
                        pytest.fail(f"cannot read the kind of {ast.dump(node)[:200]}")
    return kinds


def test_the_collector_emits_exactly_the_vocabulary_origins():
    assert _kinds_assigned_to("origin") == set(vocab.ORIGIN_KINDS)


def test_the_collector_emits_exactly_the_vocabulary_server_kinds():
    assert _kinds_assigned_to("server") == set(vocab.SERVER_KINDS)
    assert set(vocab.WSGI_SERVERS) <= set(vocab.SERVER_KINDS)


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
    from venvprobe import _collect, _quick

    assert (_collect.SCHEMA_NAME, _collect.SCHEMA_VERSION) == (vocab.SCHEMA_NAME, vocab.SCHEMA_VERSION)
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
        assert set(vocab.SERVER_KINDS) <= _row_code(doc, "`server`"), doc.name
