"""Text output fits the terminal: at COLUMNS=80 and 120 no line of any command is wider,
except a line holding one token that cannot be broken (a path longer than the line)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from offline_helpers import DATA, run_cli, write_app
from test_analyze_report import _entry, mini_report
from venvprobe.analyze import analyze
from venvprobe.report import build_report
from venvprobe.render.text import cell_width, counts_line, plural, table, wrap

LONG = "/srv/deployments/customer-portal/releases/2030-01-01T00-00-00Z/venvs/python3.11-with-a-very-long-name"


def _too_wide(text: str, width: int) -> list:
    """Lines wider than *width* that are not a lone unbreakable token."""
    # A list bullet in front of the token counts as indentation.
    return [line for line in text.splitlines()
            if cell_width(line) > width and len(line.strip().lstrip("-").split()) > 1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("width")
    report = build_report()
    rich = mini_report()
    rich["sys_path"]["entries"] += [
        _entry(3, LONG + "/lib/python3.11/site-packages/and/then/some/more/directories/to/make/it/longer", "runtime",
               exists=False),
        _entry(4, "", "script_dir"),
        _entry(5, "", "script_dir", duplicate_of=4),
        _entry(6, "/opt/日本語/パス/🐍/site-packages", "runtime", exists=False),
    ]
    rich["findings"] = analyze(rich)
    assert rich["findings"]
    (base / "report.json").write_text(json.dumps(report))
    (base / "rich.json").write_text(json.dumps(rich))
    other = copy.deepcopy(report)
    other["interpreter"]["prefix"] = LONG
    other["sys_path"]["entries"].insert(0, _entry(0, LONG + "/lib/python3.11/site-packages", "pythonpath"))
    for d in other.get("distributions") or []:
        d["version"] = d["version"] + ".post1"
    (base / "other.json").write_text(json.dumps(other))
    (base / "exp.toml").write_text(
        'version = 1\n[interpreter]\npython = "2.7"\nprefix = "' + LONG + '"\n[identity]\nserver = "mod_wsgi"\n'
        '[distributions.require]\nflask = "==0.1"\nnot-there = ">=1"\n[workers]\nidentical = true\n')
    venv = Path(sys.prefix)
    shared_tmp = base
    for name in ("a.wsgi", "b.wsgi"):
        write_app(shared_tmp, name)
    (shared_tmp / "width.conf").write_text(
        f"WSGIPythonHome {venv}/bin/python\n"
        f"WSGIDaemonProcess portal python-home={LONG} python-path={LONG}/src:{LONG}/lib user=nobody\n"
        f"WSGIScriptAlias /a {shared_tmp}/a.wsgi process-group=portal application-group=%{{GLOBAL}}\n"
        f"WSGIScriptAlias /b {shared_tmp}/b.wsgi process-group=portal application-group=%{{GLOBAL}}\n"
        f"WSGIScriptAlias /c {shared_tmp}/missing-{'x' * 60}.wsgi\n")
    (shared_tmp / "width.ini").write_text(
        f"[uwsgi]\nplugin = python3\nhome = {LONG}\npythonpath = {LONG}/src\n"
        f"mount = /one={shared_tmp}/a.wsgi\nmount = /two={shared_tmp}/b.wsgi\nenv = PYTHONHOME=/opt/nowhere\n")
    return base


def _commands(files: Path):
    shared_tmp = files
    yield "report", ("report",)
    yield "report of a report with findings", ("report", "--input", str(files / "rich.json"))
    yield "compare", ("compare", str(files / "exp.toml"), str(files / "report.json"), str(files / "other.json"),
                      str(files / "gone.json"), "--all")
    yield "diff", ("diff", str(files / "report.json"), str(files / "other.json"))
    yield "check-home", ("check-home", f"{sys.prefix}/bin/python", "--no-confirm")
    yield "check-apache", ("check-apache", str(shared_tmp / "width.conf"), "--no-predict", "--no-confirm")
    yield "check-uwsgi", ("check-uwsgi", str(shared_tmp / "width.ini"), "--no-predict", "--no-confirm")
    yield "explain-log", ("explain-log", str(DATA / "mixed.log"))
    yield "explain-log (uWSGI)", ("explain-log", str(DATA / "uwsgi-bin-python.log"))


@pytest.mark.parametrize("columns", [80, 120])
def test_no_line_wider_than_the_terminal(files, monkeypatch, columns):
    shared_tmp = files
    monkeypatch.setenv("COLUMNS", str(columns))
    seen = {}
    for name, argv in _commands(files):
        rc, out, err = run_cli(*argv)
        assert rc in (0, 1, 2) and "Traceback" not in err, (name, err)
        assert out.strip(), (name, rc, err)
        seen[name] = out
        assert _too_wide(out, columns) == [], f"{name} at COLUMNS={columns}:\n" + "\n".join(_too_wide(out, columns))
    # The outputs are the real thing, not error stubs: findings and tables made it.
    assert "\nWARNING sys-path-missing — " in seen["report of a report with findings"] and "== sys.path (in order) ==" in seen["report"]
    assert "NOT MET" in seen["compare"] and "== Applications ==" in seen["check-apache"]
    unlimited = run_cli(*dict(_commands(files))["check-apache"])
    monkeypatch.delenv("COLUMNS")
    # Piped (not a terminal) and no COLUMNS: no limit, every row on one line.
    wide = run_cli("check-apache", str(shared_tmp / "width.conf"), "--no-predict", "--no-confirm")[1]
    assert max(map(cell_width, wide.splitlines())) > columns
    assert unlimited[1] != wide


def test_values_that_mean_something_are_shown(files, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    out = run_cli("report", "--input", str(files / "rich.json"))[1]
    assert "sys.path[5] = '' (the current directory) repeats sys.path[4]" in " ".join(out.split())
    assert "1 error, " in out or "errors, " in out
    report = json.loads((files / "report.json").read_text())
    report["identity"]["server"] = {"kind": "mod_wsgi", "mode": "daemon", "process_group": "portal",
                                    "application_group": ""}
    report["process"]["rss"] = 50 * 1048576
    path = files / "modwsgi.json"
    path.write_text(json.dumps(report))
    out = run_cli("report", "--input", str(path), "--section", "identity", "--section", "process")[1]
    assert "%{GLOBAL} (the main interpreter)" in out and "50.0 MiB" in out


def test_plurals_and_counts():
    assert counts_line({"error": 1, "warning": 2, "info": 0}) == "1 error, 2 warnings, 0 info"
    assert plural(1, "check") == "1 check" and plural(3, "check") == "3 checks"


def test_layout_primitives():
    # Wide characters count two cells; a lone token longer than the line is never split.
    assert cell_width("日本") == 4 and cell_width("🐍") == 2
    assert wrap("a " + "x" * 50 + " b", 20) == ["a", "x" * 50, "b"]
    rows = [("name", "a fairly long sentence that has to wrap somewhere", LONG)] * 3
    lines = table(("key", "what", "path"), rows, 60)
    assert _too_wide("\n".join(lines), 60) == []
    assert any(l.strip() == LONG for l in lines)  # the path broke out below its row, whole
    # Too narrow for columns at all: one block per row.
    lines = table(("a", "b", "c"), [("x" * 30, "y" * 30, "z")], 50)
    assert lines[0] == "a: " + "x" * 30
