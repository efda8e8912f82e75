"""compare's JUnit XML and TAP, read by the tools that consume them.

JUnit is validated against junit-10.xsd (the schema of Jenkins' xUnit plugin,
copied from pytest's source distribution, MIT) with xmlschema and read with
junitparser; TAP is read with tappy, YAML diagnostics included.
"""

from __future__ import annotations

import datetime
import socket
from pathlib import Path

import pytest

from test_compare_helpers import MIXED_EXPECTATIONS, cli, save, venv_report

xmlschema = pytest.importorskip("xmlschema")
junitparser = pytest.importorskip("junitparser")
tap_parser = pytest.importorskip("tap.parser")

XSD = Path(__file__).parent / "data" / "junit-10.xsd"
# An awkward target: '#' would start a TAP directive, '<&"' need XML escaping.  (tappy
# implements TAP 13, not TAP 14's "\#" escape: it still cuts the description at an
# escaped '#', so a name holding "# SKIP" would read as a skip there, see docs.)
ODD_NAME = 'odd #1 <&"> name.json'


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("consumers")
    report = venv_report(base / "venv", dists=[("demo-app", "1.4.2")])
    mixed = base / "mixed.toml"
    mixed.write_text(MIXED_EXPECTATIONS)
    prod1 = save(report, base / "prod-1.json")
    prod2 = save(report, base / "prod-2.json")
    odd = save(report, base / ODD_NAME)
    return {"base": base, "mixed": mixed, "prod1": prod1, "prod2": prod2, "odd": odd,
            "venv_python": base / "venv" / "bin" / "python"}


@pytest.fixture(scope="module")
def junit_file(setup):
    out = setup["base"] / "junit.xml"
    unreachable = "http://127.0.0.1:9/_venvprobe/"
    rc, stdout, err = cli("compare", str(setup["mixed"]), str(setup["prod1"]), str(setup["prod2"]), str(setup["odd"]),
                          f"python:{setup['venv_python']}", unreachable, "-f", "junit", "-o", str(out),
                          "--retries", "0")
    assert rc == 2 and stdout == "", err
    return out


def test_junit_is_valid_against_junit10_xsd(junit_file):
    schema = xmlschema.XMLSchema(str(XSD))
    errors = list(schema.iter_errors(str(junit_file)))
    assert errors == [], "\n".join(str(e) for e in errors[:3])


def test_junit_failures_name_target_and_check(setup, junit_file):
    xml = junitparser.JUnitXml.fromfile(str(junit_file))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == [str(setup["prod1"]), str(setup["prod2"]), str(setup["odd"]),
                            f"python:{setup['venv_python']}", "http://127.0.0.1:9/_venvprobe/"]
    messages = []
    for name, suite in suites.items():
        assert suite.tests == len(list(suite))
        for case in suite:
            for result in case.result:
                if isinstance(result, junitparser.Failure):
                    messages.append(result.message)
                    assert result.message.startswith(f"{name}: {case.name}: expected ")
                    assert f"target:   {name}\ncheck:    {case.name}\n" in result.text
    # The same failing check on prod-1 and prod-2 reads differently.
    assert f"{setup['prod1']}: identity.server: expected mod_wsgi, got none" in messages
    assert f"{setup['prod2']}: identity.server: expected mod_wsgi, got none" in messages
    assert xml.failures == sum(s.failures for s in suites.values()) == 8
    assert xml.errors == 1
    down = suites["http://127.0.0.1:9/_venvprobe/"]
    (case,) = list(down)
    (error,) = case.result
    assert isinstance(error, junitparser.Error) and error.type == "could-not-check"
    assert error.message.startswith("http://127.0.0.1:9/_venvprobe/: could not check: ")


def test_junit_time_timestamp_hostname(setup, junit_file):
    xml = junitparser.JUnitXml.fromfile(str(junit_file))
    suites = {suite.name: suite for suite in xml}
    before = datetime.datetime.now(datetime.timezone.utc)
    for suite in suites.values():
        assert suite.time >= 0
        stamp = datetime.datetime.fromisoformat(suite.timestamp)
        assert stamp.tzinfo is not None and abs((before - stamp).total_seconds()) < 600
    assert suites["http://127.0.0.1:9/_venvprobe/"].hostname == "127.0.0.1"
    assert suites[f"python:{setup['venv_python']}"].hostname == socket.gethostname()
    assert suites[str(setup["prod1"])].hostname is None  # a saved file may come from anywhere
    # --python collection runs an interpreter: measurably slower than reading a file
    assert suites[f"python:{setup['venv_python']}"].time > 0


def _tap(text):
    return list(tap_parser.Parser().parse_text(text))


def test_tap_read_by_tappy_with_yaml_diagnostics(setup):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["prod1"]), str(setup["odd"]),
                     "http://127.0.0.1:9/#frag", "-f", "tap", "--retries", "0")
    assert rc == 2
    lines = _tap(out)
    assert lines[0].category == "version" and lines[0].version == 13
    plan = next(l for l in lines if l.category == "plan")
    results = [l for l in lines if l.category == "test"]
    assert [l for l in lines if l.category == "unknown"] == []
    assert plan.expected_tests == len(results) == 4 + 4 + 1
    assert [r.number for r in results] == list(range(1, len(results) + 1))
    # prod-1: python met, server not met, require not met, workers skipped; the same for the odd name;
    # the URL fails to answer.
    assert [r.ok for r in results] == [True, False, False, True] * 2 + [False]
    assert [r.skip for r in results[:4]] == [False, False, False, True]
    # (tappy stops the odd name's description at its escaped '#', so it does not see that SKIP.)
    failed = [r for r in results if not r.ok]
    for result in failed:
        diag = result.yaml_block
        assert isinstance(diag, dict), result
        assert "target" in diag
    server = failed[0].yaml_block
    assert server == {"target": str(setup["prod1"]), "check": "identity.server", "expected": "mod_wsgi",
                      "actual": "none", "at": f"{setup['mixed']}:5"}
    # The odd name's '#' is escaped: its failures stay failures.
    odd_server = failed[2].yaml_block
    assert odd_server["target"] == str(setup["odd"]) and odd_server["check"] == "identity.server"
    unreachable = failed[-1]
    assert unreachable.yaml_block["target"] == "http://127.0.0.1:9/#frag"
    assert unreachable.yaml_block["severity"] == "could-not-check"
    assert "not ok 9 - http://127.0.0.1:9/\\#frag: report can be read" in out.splitlines()


def test_tap_every_description_escaped(setup):
    rc, out, _ = cli("compare", str(setup["mixed"]), str(setup["odd"]), "-f", "tap")
    assert rc == 1
    points = [l for l in out.splitlines() if l.startswith(("ok ", "not ok "))]
    for point in points:
        head, sep, directive = point.partition(" # ")
        # Every '#' of a description is escaped (TAP 14); only a real directive follows an unescaped one.
        description = head.split(" - ", 1)[1]
        assert description.replace("\\\\", "").replace("\\#", "").count("#") == 0, point
        assert directive in ("",) or directive.startswith("SKIP ")
    assert any("odd \\#1 <&\"> name.json: identity.server" in p and p.startswith("not ok") for p in points)
