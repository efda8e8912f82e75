"""The JSON Schemas shipped in the package: generated from the code, valid draft 2020-12, and every
document the CLI and the probe produce validates with jsonschema (the probe under real servers is
checked in tests/test_deploy_examples.py through the same helper)."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

import schema_helpers
from report_helpers import assert_generated, need_debian_python
from test_compare_helpers import cli, save, venv_report
from test_probe_unit import call, hello
from venvprobe import schemas
from venvprobe.middleware import ProbeMiddleware

jsonschema = pytest.importorskip("jsonschema")
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", schemas.NAMES)
def test_shipped_file_is_generated_from_the_code(name):
    shipped = Path(schemas.path(name)).read_text(encoding="utf-8")
    assert_generated(shipped, schemas.text(name), "venvprobe/schemas/" + Path(schemas.path(name)).name,
                     "python -m venvprobe.schemas --write")
    schema = json.loads(shipped)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemas_follow_the_vocabulary():
    from venvprobe.collect.common import SCHEMA_NAME, SCHEMA_VERSION
    from venvprobe.rules.registry import SEVERITIES

    report = schemas.build("report")
    assert report["$defs"]["schema_header"]["properties"]["name"] == {"const": SCHEMA_NAME}
    assert report["$defs"]["schema_header"]["properties"]["version"]["maximum"] == SCHEMA_VERSION
    assert report["$defs"]["finding"]["properties"]["severity"]["enum"] == list(SEVERITIES)


def test_schemas_are_package_data():
    """The wheel the test harness builds from this tree carries the schema files (pip install gets them)."""
    import servers

    wheel = servers.repo_wheel()
    assert wheel is not None, servers.REPO_WHEEL_ERROR
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"venvprobe/schemas/{n}.schema.json" for n in schemas.NAMES} <= names


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("schemas")
    rc, out, err = cli("report", "-f", "json")
    assert rc in (0, 1), err
    here = json.loads(out)
    rc, out, err = cli("report", "-f", "json", "--redact", "--redact-key", "k3y")
    assert rc in (0, 1), err
    redacted = json.loads(out)
    venv = venv_report(base / "venv", dists=[("demo-app", "1.4.2")])
    return {"base": base, "here": here, "redacted": redacted, "venv": venv}


def test_cli_reports_validate(reports, valid_json):
    for name in ("here", "redacted", "venv"):
        valid_json(reports[name], "report")
    assert reports["redacted"]["redacted"]["secrets"] is True


def test_report_of_another_python_validates(valid_json):
    rc, out, err = cli("report", "-f", "json", "--python", need_debian_python())
    assert rc in (0, 1), err
    valid_json(json.loads(out), "report")


def test_probe_documents_validate(valid_json):
    app = ProbeMiddleware(hello)
    for path in ("/_venvprobe/", "/_venvprobe/identity", "/_venvprobe/findings", "/_venvprobe/path"):
        status, headers, body = call(app, path, query="format=json")
        assert status == "200 OK"
        valid_json(json.loads(body), "identity" if path.endswith("identity") else "report")


def test_compare_and_diff_results_validate(reports, valid_json):
    base = reports["base"]
    a, b = save(reports["here"], base / "a.json"), save(reports["venv"], base / "b.json")
    exp = base / "exp.toml"
    exp.write_text('version = 1\n[interpreter]\npython = "3.11"\n[identity]\nserver = "mod_wsgi"\n'
                   '[workers]\nidentical = true\n')
    rc, out, _ = cli("compare", str(exp), str(a), str(b), "http://127.0.0.1:9/", "-f", "json", "--retries", "0")
    assert rc == 2
    valid_json(json.loads(out), "compare")
    rc, out, _ = cli("diff", str(a), str(b), "-f", "json")
    assert rc in (0, 1)
    valid_json(json.loads(out), "diff")


def test_a_section_that_could_not_be_collected_is_valid(reports, valid_json):
    broken = copy.deepcopy(reports["venv"])
    broken["sys_path"] = {"error": "PermissionError: [Errno 13] Permission denied"}
    broken["distributions"] = {"error": "OSError: boom"}
    valid_json(broken, "report")


@pytest.mark.parametrize("mutate,where", [
    (lambda r: r["findings"].append({"code": "x", "severity": "fatal", "title": "t", "message": "m"}), "findings"),
    (lambda r: r.__setitem__("schema", {"name": "other.tool", "version": 1}), "schema"),
    (lambda r: r["schema"].__setitem__("version", 99), "schema"),
    (lambda r: r["interpreter"].__setitem__("in_venv", "yes"), "interpreter"),
    (lambda r: r["identity"]["server"].__setitem__("kind", "tomcat"), "identity"),
    (lambda r: r["sys_path"]["entries"][0].pop("origin"), "sys_path"),
    (lambda r: r.__setitem__("generated_at", "yesterday"), "generated_at"),
])
def test_the_report_schema_catches_drift(reports, mutate, where):
    bad = copy.deepcopy(reports["venv"])
    mutate(bad)
    found = schema_helpers.errors(bad, "report")
    assert found and any(e.startswith(where) for e in found), found


def test_the_compare_schema_is_closed(reports):
    rc, out, _ = cli("compare", str(REPO / "docs" / "expectations.example.toml"),
                     str(save(reports["venv"], reports["base"] / "c.json")), "-f", "json")
    data = json.loads(out)
    assert schema_helpers.errors(data, "compare") == []
    data["targets"][0]["checks"][0]["status"] = "maybe"
    data["targets"][0]["surprise"] = 1
    found = schema_helpers.errors(data, "compare")
    assert len(found) == 2, found
