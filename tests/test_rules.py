"""Finding rules as data: the registry knows every code each check can emit, docs/findings.md is
generated from it, and the live rules run inside a foreign interpreter from their shipped sources."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt

from report_helpers import REPO, assert_generated, need_python
from sample_reports import sample_report
from venvprobe import rules, vocab
from venvprobe.analyze import analyze
from venvprobe.rules import doc, registry
from venvprobe.rules.base import OFFLINE_CHECKS, SCOPES, Analysis, Rule
from venvprobe.rules.registry import RULES, Findings, UndeclaredFinding

DATA = REPO / "tests" / "data" / "offline"


def test_findings_doc_is_generated_from_the_registry():
    text = doc.DOC.read_text(encoding="utf-8")
    assert_generated(text, doc.render(text), "docs/findings.md", "python -m venvprobe.rules.doc --write")


def _documented_rows() -> dict:
    """{code: (severity, reported by, title)} from the tables of docs/findings.md, as a Markdown reader sees them."""
    text = doc.DOC.read_text(encoding="utf-8")
    tokens = MarkdownIt().enable("table").parse(text.split(doc.BEGIN, 1)[1].split(doc.END, 1)[0])
    rows, row, in_body = {}, [], False
    for i, t in enumerate(tokens):
        if t.type == "tbody_open":
            in_body = True
        elif t.type == "tbody_close":
            in_body = False
        elif in_body and t.type == "tr_open":
            row = []
        elif in_body and t.type == "inline" and tokens[i - 1].type == "td_open":
            row.append(t)
        elif in_body and t.type == "tr_close" and row and row[0].children and row[0].children[0].type == "code_inline":
            rows[row[0].children[0].content] = (row[1].content, row[2].content, row[3].content)
    return rows


def test_every_declared_code_is_documented_with_its_severity_and_checks():
    rows = _documented_rows()
    assert set(rows) == set(RULES)
    for code, r in RULES.items():
        severity, where, title = rows[code]
        assert severity == r.severity, code
        assert title == r.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), code
        for name in r.offline:
            assert f"`{name}`" in where, (code, name)
        assert ("`report`" in where) == bool(r.checks), code


def test_every_rule_names_its_checks_and_fixes_for_known_servers():
    for code, r in RULES.items():
        assert r.code == code and r.title and r.fix, f"{code}: a rule needs a code, a title and a general fix"
        assert r.severity in vocab.SEVERITIES
        assert r.scope in SCOPES
        assert r.checks or r.offline, f"{code} names no check that emits it"
        assert all(callable(c) for c in r.checks), f"{code}: checks=(...) holds the live check functions themselves"
        assert set(r.fixes) <= set(vocab.SERVER_KINDS), \
            f"{code}: fixes= names server kinds vocab.SERVER_KINDS does not know: {sorted(set(r.fixes) - set(vocab.SERVER_KINDS))}"
        assert all(text for text in r.fixes.values()), f"{code}: an empty fix in fixes="
    # Every live check emits at least one declared code; every offline check name is used by some rule.
    for check in registry.LIVE_CHECKS:
        assert any(check in r.checks for r in RULES.values())
    unused = set(OFFLINE_CHECKS) - {name for r in RULES.values() for name in r.offline}
    assert not unused, f"OFFLINE_CHECKS of venvprobe/rules/base.py names checks no rule declares: {sorted(unused)}"


def _added_codes(module) -> dict:
    """{function name: {codes}} for every ``x.add("code", ...)`` with a literal code in *module*'s functions."""
    import ast
    import inspect

    out: dict = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = {call.args[0].value for call in ast.walk(node)
                              if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                              and call.func.attr == "add" and call.args and isinstance(call.args[0], ast.Constant)
                              and isinstance(call.args[0].value, str)}
    return out


def test_every_code_a_live_check_adds_is_declared_for_that_check():
    # analyze() turns the sink's refusal into an analysis-error finding (a report is never lost to one
    # check), so a typo in a code or a check missing from checks=(...) would only show as a missing
    # finding: this reads what each rule module's functions add and says which declaration is wrong.
    checked = 0
    for module in registry._MODULES:
        for name, codes in _added_codes(module).items():
            func = getattr(module, name, None)
            for code in sorted(codes):
                checked += 1
                where = f"{module.__name__}.{name}"
                assert code in RULES, (f"{where} adds {code!r}, which no rule declares: declare Rule({code!r}, ...) "
                                       "in RULES of that module (or fix the spelling)")
                if func in registry.LIVE_CHECKS:
                    assert func in RULES[code].checks, (f"{where} adds {code!r}, but Rule({code!r}) does not "
                                                        f"name it: add {name} to that rule's checks=(...)")
    assert checked > 30


def test_the_rule_modules_are_the_registry():
    assert tuple(m.__name__.rsplit(".", 1)[1] for m in registry._MODULES) == rules.MODULES
    assert sum(len(m.RULES) for m in registry._MODULES) == len(RULES)
    assert "analysis-error" in RULES


def test_the_sink_refuses_a_code_its_check_does_not_declare():
    sink = Findings("mod_wsgi", "check-uwsgi")
    with pytest.raises(UndeclaredFinding):
        sink.add("daemon-group-undefined", "not a uWSGI finding")  # declared for check-apache and explain-log only
    with pytest.raises(KeyError):
        sink.add("no-such-code", "unknown")
    live = Findings(None, registry.LIVE_CHECKS[0])
    with pytest.raises(UndeclaredFinding):
        live.add("stale-module", "emitted by another check")
    assert Findings("uwsgi", "check-uwsgi").add("python-home-inaccessible", "m")["fix"] == RULES[
        "python-home-inaccessible"].fixes["uwsgi"]


def test_the_sink_folds_one_subject_and_caps_evidence():
    sink = Findings("mod_wsgi", "explain-log", max_evidence=3, path_subject_key="home")
    first = sink.add("python-home-missing", "m", ["a", "b"], subject="/srv/venv")
    again = sink.add("python-home-missing", "other words", ["b", "c", "d", "e"], subject="/srv/venv")
    other = sink.add("python-home-missing", "m", ["x"], subject="/srv/other")
    assert again is first and len(sink) == 2 and other is not first
    assert first["evidence"] == ["a", "b", "c"]
    assert first["data"] == {"subject": "/srv/venv", "occurrences": 2, "home": "/srv/venv"}
    assert first["fix"] == RULES["python-home-missing"].fixes["mod_wsgi"]
    plain = Findings("gunicorn", prefix="ctx: ", data={"home": "/h"}).add("no-venv", "m", [str(i) for i in range(99)])
    assert plain["message"] == "ctx: m" and len(plain["evidence"]) == registry.MAX_EVIDENCE
    assert plain["data"] == {"home": "/h"} and plain["fix"] == RULES["no-venv"].fixes["gunicorn"]


def test_a_failing_check_is_the_declared_analysis_error(monkeypatch):
    def broken(a: Analysis) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(registry, "LIVE_CHECKS", registry.LIVE_CHECKS + (broken,))
    found = [f for f in analyze(sample_report()) if f["code"] == "analysis-error"]
    assert len(found) == 1
    assert found[0]["message"] == "broken: RuntimeError: boom"
    assert (found[0]["title"], found[0]["fix"]) == (RULES["analysis-error"].title, RULES["analysis-error"].fix)


def test_explain_log_fixtures_emit_only_codes_declared_for_it():
    # The sink refuses an undeclared code, so running every captured log proves the declaration covers them.
    from venvprobe.offline.error_log import explain, scan

    seen = set()
    for log in sorted(DATA.glob("*.log")):
        findings, _ = explain(scan(log.read_text(encoding="utf-8", errors="replace"), str(log)), check_homes=False)
        for f in findings:
            seen.add(f["code"])
            assert f["code"] in RULES and f["title"] == RULES[f["code"]].title, (log.name, f["code"])
    assert len(seen) > 10


def test_rule_declarations_reject_unknown_severities_and_checks():
    with pytest.raises(ValueError):
        Rule("x", "fatal", "t", "f", offline=("check-home",))
    with pytest.raises(ValueError, match="unknown offline check 'check-nginx'"):
        Rule("x", "info", "t", "f", offline=("check-nginx",))
    with pytest.raises(ValueError, match="names no check"):
        Rule("x", "info", "t", "f")
    with pytest.raises(ValueError, match=r"unknown server kinds \['mod-wsgi'\]"):
        Rule("x", "info", "t", "f", fixes={"mod-wsgi": "..."}, offline=("check-home",))


# Runs in a bare interpreter where venvprobe is not importable: the shipped modules are executed from
# their sources in SHIPPED order, as venvprobe/_quick.py's loader does.
_IN_TARGET = r"""
import json, sys
names, paths, report = json.loads(sys.stdin.read())
before = set(sys.modules)
for name, path in zip(names, paths):
    m = type(sys)(name)
    sys.modules[name] = m
    with open(path) as fh:
        exec(compile(fh.read(), path, "exec"), m.__dict__)
findings = sys.modules["venvprobe.analyze"].analyze(report)
new = sorted(n for n in set(sys.modules) - before if not n.startswith("venvprobe"))
print(json.dumps({"findings": findings, "imported": new}))
"""


def _shipped_paths():
    out = []
    for name in rules.SHIPPED:
        path = REPO.joinpath(*name.split("."))
        out.append(str(path / "__init__.py" if path.is_dir() else path.with_suffix(".py")))
    return out


@pytest.mark.parametrize("minor", ["3.8", "current"])
def test_live_rules_run_from_their_shipped_sources_in_a_bare_interpreter(minor, tmp_path):
    python = sys.executable if minor == "current" else need_python(minor)
    report = sample_report()
    proc = subprocess.run([python, "-I", "-S", "-c", _IN_TARGET], cwd=tmp_path, capture_output=True, text=True,
                          input=json.dumps([list(rules.SHIPPED), _shipped_paths(), report]), timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["findings"] == json.loads(json.dumps(analyze(report)))
    if minor == "current" and hasattr(sys, "stdlib_module_names"):
        # Standard library only, and nothing from venvprobe outside SHIPPED (it is not on sys.path here).
        assert [n for n in out["imported"] if n.split(".")[0] not in sys.stdlib_module_names] == []


def test_shipped_modules_are_everything_the_live_analysis_imports():
    # What running venvprobe.analyze needs beyond what the package's own __init__ imported (the
    # package itself is the host's: the target runs the shipped modules without it).
    code = ("import sys, json; import venvprobe; before = set(sys.modules); import venvprobe.analyze; "
            "venvprobe.analyze.analyze({}); "
            "mods = lambda names: sorted(n for n in names if n.startswith('venvprobe.')); "
            "print(json.dumps([mods(before), mods(set(sys.modules) - before)]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    before, added = (set(names) for names in json.loads(proc.stdout))
    assert added <= set(rules.SHIPPED), added - set(rules.SHIPPED)
    assert set(rules.SHIPPED) <= added | before
    assert {"venvprobe.analyze", "venvprobe.rules.registry"} <= added


def test_offline_check_names_are_commands():
    from venvprobe._cli import COMMANDS

    assert set(OFFLINE_CHECKS) <= set(COMMANDS)
