"""`venvprobe compare` end to end: output formats (table, JSON, JUnit XML, TAP), targets and exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from test_compare_helpers import MIXED_EXPECTATIONS, cli, save, venv_report
from venvprobe.report import SCHEMA_VERSION


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("out")
    report = venv_report(base / "venv", dists=[("demo-app", "1.4.2")])
    good = base / "good.toml"
    good.write_text(f'version = 1\n[interpreter]\npython = "3.11"\nprefix = "{base / "venv"}"\n'
                    '[distributions.require]\ndemo-app = ">=1.4"\n')
    mixed = base / "mixed.toml"
    mixed.write_text(MIXED_EXPECTATIONS)
    return {"base": base, "report": report, "file": save(report, base / "report.json"),
            "good": good, "mixed": mixed, "venv_python": base / "venv" / "bin" / "python"}


def test_exit_0_when_all_met(setup):
    rc, out, err = cli("compare", str(setup["good"]), str(setup["file"]))
    assert (rc, err) == (0, "")
    assert out == f"== {setup['file']}: MET (3 checks: 3 met, 0 not met, 0 skipped)\n"


def test_table_shows_expected_and_actual(setup):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["file"]), "--all")
    assert rc == 1
    lines = out.splitlines()
    assert lines[0] == f"== {setup['file']}: NOT MET (4 checks: 1 met, 2 not met, 1 skipped)"
    assert re.match(r"result\s+check\s+expected\s+actual$", lines[1])
    # Failures first, then skipped, then met.
    assert [l.split("  ")[0] for l in lines[3:]] == ["NOT MET", "NOT MET", "skipped", "met"]
    row = next(l for l in lines if "identity.server" in l)
    assert re.search(r"^NOT MET\s+identity\.server\s+mod_wsgi\s+none$", row)
    row = next(l for l in lines if "distributions.require: demo-app" in l)
    assert re.search(r"^NOT MET\s+distributions\.require: demo-app\s+demo-app ==2\.0\s+1\.4\.2$", row)
    # By default (terminal or not) only what is not met is listed; the rest is counted.
    for flags in ((), ("--only-failures",)):
        rc, only, _ = cli("compare", str(setup["mixed"]), str(setup["file"]), *flags)
        assert only.splitlines()[0] == lines[0]
        assert "interpreter.python" not in only and "identity.server" in only
        assert "(2 other checks met or skipped: --all lists them)" in only
    rc, old, err = cli("compare", str(setup["mixed"]), str(setup["file"]), "--format", "table")
    assert old == only and "deprecated" in err


def test_json_output(setup):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["file"]), "--format", "json")
    assert rc == 1
    data = json.loads(out)
    assert data["exit_code"] == 1 and data["status"] == "not met"
    assert data["expectations"] == str(setup["mixed"])
    (target,) = data["targets"]
    assert target["status"] == "fail" and target["counts"] == {"pass": 1, "fail": 2, "skip": 1}
    checks = {c["check"]: c for c in target["checks"]}
    assert checks["identity.server"] == {"check": "identity.server", "section": "identity", "expected": "mod_wsgi",
                                         "actual": "none", "status": "fail", "line": 5, "detail": "", "workers": []}
    assert data["summary"] == [{"check": "identity.server", "not_met_on": [str(setup["file"])]},
                               {"check": "distributions.require: demo-app", "not_met_on": [str(setup["file"])]}]


def test_junit_output_parses_as_junit(setup, tmp_path):
    out_file = tmp_path / "junit.xml"
    unreachable = "http://127.0.0.1:9/_venvprobe/"  # discard port: nothing listens
    rc, out, err = cli("compare", str(setup["mixed"]), str(setup["file"]), f"python:{setup['venv_python']}",
                       unreachable, "--format", "junit", "-o", str(out_file), "--retries", "0")
    assert rc == 2 and out == ""
    root = ET.parse(out_file).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(setup["file"]), f"python:{setup['venv_python']}", unreachable]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
        for case in cases:
            assert case.get("name") and case.get("classname", "").startswith("venvprobe.")
    for key in ("tests", "failures", "errors"):
        assert int(root.get(key)) == sum(int(s.get(key)) for s in suites)
    first = suites[0]
    assert (first.get("tests"), first.get("failures"), first.get("errors"), first.get("skipped")) == ("4", "2", "0", "1")
    failure = first.find("testcase[@name='identity.server']/failure")
    assert failure.get("message") == f"{setup['file']}: identity.server: expected mod_wsgi, got none"
    assert "actual:   none" in failure.text and f"rule at:  {setup['mixed']}:5" in failure.text
    case = first.find("testcase[@name='identity.server']")
    assert case.get("classname") == "venvprobe.identity" and first.get("file") == str(setup["mixed"])
    # The --python target passes python and the require check the same way the file does.
    assert suites[1].get("failures") == "2"
    error = suites[2].find("testcase/error")
    assert error.get("type") == "could-not-check"
    assert "connection refused" in error.get("message")


def test_tap_output(setup):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["file"]), "-f", "tap")
    assert rc == 1
    lines = out.splitlines()
    assert lines[0] == "TAP version 13"
    plan = re.fullmatch(r"1\.\.(\d+)", lines[1])
    points = [l for l in lines if re.match(r"(not )?ok \d+ ", l)]
    assert plan and int(plan.group(1)) == len(points) == 4
    assert [int(re.search(r"ok (\d+)", p).group(1)) for p in points] == [1, 2, 3, 4]
    assert points[0] == f"ok 1 - {setup['file']}: interpreter.python"
    assert points[1] == f"not ok 2 - {setup['file']}: identity.server"
    assert points[3].startswith(f"ok 4 - {setup['file']}: workers.identical # SKIP ")
    start = lines.index(points[1])
    block = lines[start + 1: lines.index("  ...", start)]
    assert block[0] == "  ---"
    fields = dict(l.strip().split(": ", 1) for l in block[1:])
    assert json.loads(fields["expected"]) == "mod_wsgi" and json.loads(fields["actual"]) == "none"
    assert json.loads(fields["at"]) == f"{setup['mixed']}:5"


def test_versions_print_as_written_in_every_format(setup, tmp_path):
    """A version such as 3.10 is text, not the number 3.1 (what a table layer that parses numbers prints)."""
    import copy

    exp = tmp_path / "py310.toml"
    exp.write_text('version = 1\n[interpreter]\npython = "3.10"\n')
    older = copy.deepcopy(setup["report"])
    older["interpreter"]["version"] = "3.10.13"
    met, not_met = save(older, tmp_path / "py310.json"), str(setup["file"])
    actual_minor = ".".join(setup["report"]["interpreter"]["version"].split(".")[:2])
    rc, out, _ = cli("compare", str(exp), str(met), not_met, "--all")
    assert rc == 1
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines() if "interpreter.python" in line]
    assert rows[-1] == ["interpreter.python", not_met]  # the summary: where it failed
    assert rows[:-1] == [["NOT MET", "interpreter.python", "3.10", actual_minor], ["met", "interpreter.python", "3.10", "3.10"]]
    rc, out, _ = cli("compare", str(exp), str(met), not_met, "-f", "json")
    checks = [t["checks"][0] for t in json.loads(out)["targets"]]
    assert [(c["expected"], c["actual"]) for c in checks] == [("3.10", "3.10"), ("3.10", actual_minor)]
    rc, out, _ = cli("compare", str(exp), str(met), not_met, "-f", "junit")
    failures = [f.get("message") for f in ET.fromstring(out).iter("failure")]
    assert failures == [f"{not_met}: interpreter.python: expected 3.10, got {actual_minor}"]
    rc, out, _ = cli("compare", str(exp), str(met), not_met, "-f", "tap")
    assert '  expected: "3.10"' in out.splitlines()


def test_targets_from_stdin_and_python(setup):
    rc, out, _ = cli("compare", str(setup["good"]), "-", stdin=setup["file"].read_bytes())
    assert rc == 0 and out.startswith("== <stdin>")
    rc, out, _ = cli("compare", str(setup["good"]), "--python", str(setup["venv_python"]))
    assert rc == 0, out
    rc, out, err = cli("compare", str(setup["good"]), "-", "-")
    assert rc == 2 and "only once" in err


@pytest.mark.parametrize("content,message", [
    (b'{"schema": {"name": "venvprobe.report", "version": 1}', "is not JSON"),
    (b"<html>hello</html>", "is not JSON"),
    (b'{"hello": "world"}', "is not a venvprobe report (no schema header)"),
    (b'{"schema": {"name": "other.tool", "version": 1}}', "is not a venvprobe report (schema 'other.tool')"),
    (json.dumps({"schema": {"name": "venvprobe.report", "version": SCHEMA_VERSION + 1}}).encode(),
     f"uses report schema version {SCHEMA_VERSION + 1}; this venvprobe reads up to {SCHEMA_VERSION}: upgrade venvprobe"),
])
def test_bad_reports_exit_2(setup, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    rc, out, err = cli("compare", str(setup["good"]), str(bad))
    assert rc == 2
    assert message in out  # the table says why this target could not be checked
    assert "could not check" in out and "Traceback" not in out + err
    rc, out, _ = cli("compare", str(setup["good"]), str(bad), "-f", "json")
    assert json.loads(out)["targets"][0]["status"] == "error"


def test_could_not_check_beats_not_met(setup, tmp_path):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["file"]), str(tmp_path / "missing.json"))
    assert rc == 2
    assert "does not exist" in out
    assert "== summary: 2 targets, 0 met all, 1 not met, 1 could not be checked" in out


def test_bad_usage_exit_2(setup, tmp_path):
    rc, _, err = cli("compare", str(setup["good"]))
    assert rc == 2 and "give at least one TARGET" in err
    rc, _, err = cli("compare", str(tmp_path / "nope.toml"), str(setup["file"]))
    assert rc == 2 and err.startswith(f"venvprobe compare: {tmp_path / 'nope.toml'}: no such file")
    bad = tmp_path / "bad.toml"
    bad.write_text("[interpreter\n")
    rc, _, err = cli("compare", str(bad), str(setup["file"]))
    assert rc == 2 and f"{bad}:1: not valid TOML" in err and len(err.strip().splitlines()) == 1
    rc, _, err = cli("compare", str(setup["good"]), str(setup["file"]), "--samples", "0")
    assert rc == 2 and "--samples must be at least 1" in err
