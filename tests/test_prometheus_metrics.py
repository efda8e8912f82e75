"""The probe's /metrics as Prometheus reads it: promtool's linter and prometheus_client's parser.

The live side (a real Prometheus scraping real servers) is tests/test_prometheus_live.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import time

import pytest

import servers
from test_probe_unit import call, hello, own_home  # noqa: F401 (own_home: autouse, a HOME for the probe's token)
from venvprobe.middleware import ProbeMiddleware
from venvprobe.probe.metrics import fingerprint, render_metrics

parser = pytest.importorskip("prometheus_client.parser")


@pytest.fixture(scope="module")
def scraped():
    app = ProbeMiddleware(hello)
    status, headers, body = call(app, "/_venvprobe/metrics")
    assert status == "200 OK"
    report = json.loads(call(app, "/_venvprobe/", query="format=json")[2])
    return body.decode(), report


def families(text):
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def test_promtool_lints_clean(scraped):
    servers.require("promtool")
    proc = subprocess.run(["promtool", "check", "metrics"], input=scraped[0], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


def test_info_has_no_per_process_labels(scraped):
    text, report = scraped
    fams = families(text)
    (info,) = fams["venvprobe_info"].samples
    assert info.value == 1
    assert set(info.labels) == {"implementation", "python_version", "prefix", "base_prefix", "in_venv",
                                "venv_python", "server", "mode", "process_group", "application_group",
                                "main_interpreter", "fingerprint"}
    assert "venv" not in info.labels  # was a copy of prefix
    assert info.labels["prefix"] == report["interpreter"]["prefix"]
    assert len(info.labels["fingerprint"]) == 12
    # Process identity is a value: one series whatever worker answers.
    (start,) = fams["venvprobe_process_start_time_seconds"].samples
    assert start.labels == {} and abs(start.value - report["process"]["create_time"]) < 1
    (stamp,) = fams["venvprobe_report_timestamp_seconds"].samples
    assert stamp.labels == {} and 0 <= time.time() - stamp.value < 600


def test_findings_by_code_and_severity(scraped):
    text, report = scraped
    fams = families(text)
    present = {(f["code"], f["severity"]) for f in report["findings"]}
    assert {(s.labels["code"], s.labels["severity"]) for s in fams["venvprobe_finding"].samples} == present
    assert all(s.value == 1 for s in fams["venvprobe_finding"].samples)
    counts = {s.labels["severity"]: s.value for s in fams["venvprobe_findings"].samples}
    assert set(counts) == {"error", "warning", "info"}
    for severity, count in counts.items():
        assert count == sum(1 for f in report["findings"] if f["severity"] == severity)


def test_a_finding_code_is_its_own_series():
    report = {"findings": [{"code": "venv-python-mismatch", "severity": "error"},
                           {"code": "venv-python-mismatch", "severity": "error"},
                           {"code": 'we"ird\ncode', "severity": "info"}]}
    fams = families(render_metrics(report))
    samples = {(s.labels["code"], s.labels["severity"]): s.value for s in fams["venvprobe_finding"].samples}
    assert samples == {("venv-python-mismatch", "error"): 1, ('we"ird\ncode', "info"): 1}


def test_fingerprint_follows_code_and_environment_not_the_process(scraped):
    _, report = scraped
    base = fingerprint(report)
    other_worker = copy.deepcopy(report)
    other_worker["identity"]["pid"] += 1
    other_worker["process"]["create_time"] += 5
    other_worker["generated_at"] = "2030-01-01T00:00:00Z"
    assert fingerprint(other_worker) == base
    changed_code = copy.deepcopy(report)
    changed_code["modules"]["top_level"].append({"name": "app", "file": "/srv/app.py", "modified_after_start": True})
    assert fingerprint(changed_code) != base
    new_dist = copy.deepcopy(report)
    new_dist["distributions"].append({"name": "flask", "version": "99.0", "location": "/x"})
    assert fingerprint(new_dist) != base
    moved = copy.deepcopy(report)
    moved["sys_path"]["entries"].insert(0, {"path": "/tmp/evil"})
    assert fingerprint(moved) != base


def test_metrics_of_a_broken_report_still_parse():
    text = render_metrics({"interpreter": {"error": "boom"}, "findings": "nope", "generated_at": "not a date"})
    fams = families(text)
    assert "venvprobe_report_timestamp_seconds" not in fams
    assert len(fams["venvprobe_info"].samples) == 1
