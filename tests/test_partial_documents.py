"""Partial documents are not reports: /identity and the section sub-resources say what they are, the CLI
refuses them (exit 2, one line, a hint), and analysis never derives a finding from an absent section.

The probe runs for real (`venvprobe serve` on 127.0.0.1, a port of its own choosing)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

import servers
from venvprobe.analyze import analyze

CLI = [sys.executable, "-c", "import sys; from venvprobe._cli import main; sys.exit(main())"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=str(cwd))


@pytest.fixture(scope="module")
def probe_url(tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*CLI, "serve", "--port", "0"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        match = None
        while time.monotonic() < deadline and match is None:
            match = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
            time.sleep(0.05)
        assert match, log.read_text()
        # The probe's own token, where `serve` says it is (`venvprobe fetch` finds it by itself).
        token_file = re.search(r"requests need the token in (\S+)", log.read_text())
        assert token_file, log.read_text()
        AUTH["Authorization"] = "Bearer " + Path(token_file.group(1)).read_text().strip()
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


AUTH: dict = {}


def get_json(url: str) -> dict:
    status, body = servers.http_get_json(url, headers=dict(AUTH, Accept="application/json"))
    assert status == 200, body
    return body


def test_sub_resources_say_what_they_are(probe_url) -> None:
    ident = get_json(probe_url + "/identity")
    assert ident["schema"]["name"] == "venvprobe.identity"
    findings = get_json(probe_url + "/findings")
    assert findings["schema"]["name"] == "venvprobe.report"
    assert findings["sections"] == ["identity", "findings"]
    assert get_json(probe_url + "/path")["sections"] == ["identity", "sys_path"]
    full = get_json(probe_url + "/")
    assert "sections" not in full and full["schema"]["name"] == "venvprobe.report"


def _one_line_exit_2(res: subprocess.CompletedProcess, *needles: str) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout[-2000:], res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_report_input_refuses_saved_partial_documents(probe_url, tmp_path) -> None:
    ident = tmp_path / "identity.json"
    ident.write_text(json.dumps(get_json(probe_url + "/identity")))
    _one_line_exit_2(cli("report", "--input", str(ident), cwd=tmp_path),
                     "is the probe's /identity", "fetch the probe's root URL")
    findings_doc = get_json(probe_url + "/findings")
    saved = tmp_path / "findings.json"
    saved.write_text(json.dumps(findings_doc))
    _one_line_exit_2(cli("report", "--input", str(saved), cwd=tmp_path),
                     "part of a report (it holds: identity, findings)", "fetch the probe's root URL")
    # Saved before sub-resources named their sections: still refused (no interpreter, no sys.path).
    del findings_doc["sections"]
    saved.write_text(json.dumps(findings_doc))
    _one_line_exit_2(cli("report", "--input", str(saved), "-f", "json", cwd=tmp_path), "part of a report")
    full = tmp_path / "full.json"
    full.write_text(json.dumps(get_json(probe_url + "/")))
    assert cli("report", "--input", str(full), "--fail-on", "never", cwd=tmp_path).returncode == 0


def test_fetch_compare_diff_snapshot_refuse_section_urls(probe_url, tmp_path) -> None:
    out = tmp_path / "saved.json"
    _one_line_exit_2(cli("fetch", probe_url + "/identity", "-o", str(out), cwd=tmp_path), "/identity")
    _one_line_exit_2(cli("fetch", probe_url + "/findings", "-o", str(out), cwd=tmp_path), "part of a report")
    assert not out.exists()
    expectations = tmp_path / "exp.toml"
    res = cli("snapshot", probe_url + "/", "-o", str(expectations), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    _one_line_exit_2(cli("snapshot", probe_url + "/identity", cwd=tmp_path), "/identity")
    # compare reports each target it could not check in its own output, and exits 2.
    res = cli("compare", str(expectations), probe_url + "/findings", cwd=tmp_path)
    assert res.returncode == 2 and "could not check" in res.stdout and "part of a report" in res.stdout, res
    assert cli("compare", str(expectations), probe_url + "/", cwd=tmp_path).returncode in (0, 1)
    _one_line_exit_2(cli("diff", probe_url + "/", probe_url + "/path", cwd=tmp_path), "part of a report")
    # /health's JSON names itself too (it once had no schema header: "not a venvprobe report", no hint).
    assert get_json(probe_url + "/health?format=json")["schema"]["name"] == "venvprobe.health"
    _one_line_exit_2(cli("fetch", probe_url + "/health?format=json", "-o", str(out), cwd=tmp_path),
                     "is the probe's /health", "fetch the probe's root URL")
    assert not out.exists()
    saved = tmp_path / "health.json"
    saved.write_text(json.dumps(get_json(probe_url + "/health?format=json")))
    for args in (("report", "--input", str(saved)), ("snapshot", str(saved)), ("diff", str(saved), str(saved))):
        _one_line_exit_2(cli(*args, cwd=tmp_path), "is the probe's /health", "fetch the probe's root URL")
    res = cli("compare", str(expectations), str(saved), cwd=tmp_path)
    assert res.returncode == 2 and "is the probe's /health" in res.stdout, res


def test_analysis_derives_nothing_from_absent_sections(probe_url) -> None:
    findings_doc = get_json(probe_url + "/findings")
    ident = get_json(probe_url + "/identity")
    for doc in (findings_doc, ident, {k: v for k, v in findings_doc.items() if k != "sections"}):
        doc = dict(doc)
        doc.pop("findings", None)
        assert analyze(doc) == [], doc.keys()
    # A section the collector lost to an error is absent too.
    full = get_json(probe_url + "/")
    full.pop("findings")
    full["interpreter"] = {"error": "OSError: lost"}
    full["modules"] = {"error": "OSError: lost"}
    codes = {f["code"] for f in analyze(full)}
    assert not codes & {"no-venv", "prefix-from-path-search", "probe-alone", "venv-python-mismatch"}, codes


def test_no_finding_appears_when_any_one_section_is_lost(probe_url) -> None:
    """Losing a section may hide findings, never add one (a lost sys_path once gave install-scheme-not-on-path)."""
    full = get_json(probe_url + "/")
    full.pop("findings")
    base = {(f["code"], f["message"]) for f in analyze(full)}
    for name in ("interpreter", "identity", "sys_path", "distributions", "shadowed", "modules", "process",
                 "environment", "probe"):
        for lost in ({"error": "OSError: lost"}, None):
            doc = dict(full)
            if lost is None:
                doc.pop(name)
            else:
                doc[name] = lost
            new = {(f["code"], f["message"]) for f in analyze(doc)} - base
            assert not new, (name, lost, new)
