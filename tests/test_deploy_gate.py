"""Deploy gates: ``compare --wait`` against a gunicorn whose workers are restarted one by one, against
a server that answers 503 + Retry-After while it deploys, and the probe's /health sub-resource."""

from __future__ import annotations

import http.server
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import List

import pytest

import probe_helpers
from test_compare_helpers import cli, save, venv_report
from test_probe_unit import call, hello, own_home  # noqa: F401 (own_home: autouse, a HOME for the probe's token)
from venvprobe.fleet import retry_after_seconds
from venvprobe.middleware import ProbeMiddleware
from venvprobe.probe import ProbeConfig
from venvprobe.probe.health import answer

TOKEN = "gate-t0ken-for-tests"


# --------------------------------------------------------------------------
# compare --wait against real gunicorn workers


@pytest.mark.servers
def test_wait_until_gunicorn_workers_restarted_one_by_one_converge(gunicorn_factory, shared_tmp, monkeypatch):
    venv = probe_helpers.make_probe_venv(shared_tmp / "venv", packages=("venvprobe", "gunicorn"))
    # TTL 0: every sample shows its worker as it is now.
    gu = gunicorn_factory(venv, "venvprobe.wsgi:application", workers=3,
                          env={"VENVPROBE_TOKEN": TOKEN, "VENVPROBE_TTL": "0"})
    old = gu.wait_for_workers(3)
    assert len(old) == 3
    workers_up = time.time()
    url = gu.url + "/"
    monkeypatch.setenv("VENVPROBE_TOKEN", TOKEN)
    exp = shared_tmp / "expectations.toml"
    rc, _, err = cli("snapshot", url, "-o", str(exp))
    assert rc == 0, err
    assert "identical = true" in exp.read_text()

    # A deploy changed the code on disk: every running worker now runs stale code.
    time.sleep(max(0.0, workers_up + 2.0 - time.time()))  # changes within 1 s of start are not flagged
    init = next(Path(venv.site_packages).glob("venvprobe/__init__.py"))
    now = time.time()
    os.utime(init, (now, now))
    time.sleep(0.2)
    rc, out, err = cli("compare", str(exp), url, "--samples", "6", "-f", "json", "--wait", "1", "--interval", "0.3")
    assert rc == 1, out
    assert "gave up after 1 s" in err and f"{url}: findings.max: warning" in err

    # The rolling restart: one worker at a time, each replaced before the next goes.
    restarted: List[float] = []

    def roll():
        for pid in old:
            time.sleep(1.5)
            os.kill(pid, signal.SIGTERM)  # a worker of the gunicorn this test started
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                current = gu.wait_for_workers(3, timeout=1)
                if len(current) == 3 and pid not in current:
                    break
                time.sleep(0.05)
        restarted.append(time.monotonic())

    roller = threading.Thread(target=roll)
    started = time.monotonic()
    roller.start()
    try:
        rc, out, err = cli("compare", str(exp), url, "--samples", "15", "-f", "json", "--wait", "90",
                           "--interval", "0.5")
    finally:
        roller.join(60)
    assert rc == 0, (out, err)
    assert restarted and restarted[0] - started < 90
    rounds = [line for line in err.splitlines() if "not met yet" in line]
    assert len(rounds) >= 2, err  # it did wait through the roll
    assert "round 1: 1 of 1 target(s) not met yet" in rounds[0]
    target = json.loads(out)["targets"][0]
    assert target["status"] == "pass"
    seen = {int(label.split()[1].split("/")[0]) for label in target["workers"]}
    assert seen and not seen & set(old), (seen, old)

    # /health of the converged probe: no error finding, so 200 for a load balancer.
    import servers

    status, _, body = servers.http_get(url + "health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and body.startswith(b"ok: no finding at or above error"), body
    status, _, _ = servers.http_get(url + "health")
    assert status == 404  # same rules as every other page: the token is required here


# --------------------------------------------------------------------------
# Retry-After from something in front of the probe (a load balancer during a deploy)


class _Deploying(http.server.BaseHTTPRequestHandler):
    """503 + Retry-After for the first requests, then the saved report."""

    busy = 2
    retry_after = "2"
    report = b""
    seen: List[float] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append(time.monotonic())
        if len(self.seen) <= self.busy:
            self.send_response(503)
            self.send_header("Retry-After", self.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.report)))
        self.end_headers()
        self.wfile.write(self.report)

    def log_message(self, *args):
        pass


def test_wait_honours_retry_after(tmp_path):
    report = venv_report(tmp_path / "venv")
    exp = tmp_path / "exp.toml"
    exp.write_text('version = 1\n[interpreter]\npython = "%s"\n' % ".".join(report["interpreter"]["version"].split(".")[:2]))
    handler = type("Handler", (_Deploying,), {"report": json.dumps(report).encode(), "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        rc, out, err = cli("compare", str(exp), url, "--retries", "0", "--wait", "30", "--interval", "0.1")
        assert rc == 0, (out, err)
        gaps = [b - a for a, b in zip(handler.seen, handler.seen[1:])]
        assert len(handler.seen) == 3 and all(g >= 1.9 for g in gaps), gaps
        assert "again in 2 s" in err

        # A Retry-After beyond the time left: give up at once, and say so.
        handler.seen.clear()
        handler.retry_after = "120"
        started = time.monotonic()
        rc, out, err = cli("compare", str(exp), url, "--retries", "0", "--wait", "5", "--interval", "0.1")
        assert rc == 2 and time.monotonic() - started < 5
        assert "the next try would be after Retry-After: 120 s" in err and "HTTP 503" in err
    finally:
        server.shutdown()
        server.server_close()


def test_retry_after_forms():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("999999") == 300.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_wait_bad_values_exit_2(tmp_path):
    report = save(venv_report(tmp_path / "venv"), tmp_path / "r.json")
    exp = tmp_path / "exp.toml"
    exp.write_text('version = 1\n[interpreter]\npython = "2.7"\n')
    for args, message in ((["--wait", "-1"], "--wait must be 0 or more"), (["--wait", "inf"], "--wait must be"),
                          (["--wait", "1", "--interval", "0"], "--interval must be more than 0")):
        rc, _, err = cli("compare", str(exp), str(report), *args)
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    # A saved report cannot change: no waiting for it.
    started = time.monotonic()
    rc, _, err = cli("compare", str(exp), str(report), "--wait", "30")
    assert rc == 1 and time.monotonic() - started < 10
    assert "cannot change: saved reports or stdin" in err
    assert f"{report}: interpreter.python (expected 2.7, got " in err


# --------------------------------------------------------------------------
# /health


def test_health_status_follows_the_threshold():
    app = ProbeMiddleware(hello)
    findings = json.loads(call(app, "/_venvprobe/findings", query="format=json")[2])["findings"]
    severities = {f["severity"] for f in findings}
    rank = {"error": 3, "warning": 2, "info": 1}
    for threshold in ("error", "warning", "info", "never"):
        status, headers, body = call(app, "/_venvprobe/health", query=f"fail-on={threshold}")
        expect_fail = threshold != "never" and any(rank[s] >= rank[threshold] for s in severities)
        assert status == ("503 Service Unavailable" if expect_fail else "200 OK"), (threshold, body)
        assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
        status, _, body = call(app, "/_venvprobe/health", query=f"fail-on={threshold}&format=json")
        data = json.loads(body)
        assert data["status"] == ("fail" if expect_fail else "pass") and data["fail_on"] == threshold
    status, _, body = call(app, "/_venvprobe/health", query="fail-on=bogus")
    assert status == "400 Bad Request" and b"unknown fail-on" in body
    status, _, body = call(app, "/_venvprobe/health", method="HEAD")
    assert status in ("200 OK", "503 Service Unavailable") and body == b""


def test_health_answers_503_for_findings_at_the_threshold():
    report = {"generated_at": "x", "findings": [{"code": "venv-python-mismatch", "severity": "error"},
                                                {"code": "user-site-enabled", "severity": "warning"}]}
    status, body, _ = answer(report, {}, "text")
    assert status == "503 Service Unavailable"
    assert body == b"fail: 1 finding at or above error: venv-python-mismatch (error)\n"
    status, body, _ = answer(report, {"fail-on": ["warning"]}, "json")
    assert json.loads(body)["findings"] == [{"code": "venv-python-mismatch", "severity": "error"},
                                            {"code": "user-site-enabled", "severity": "warning"}]
    assert answer({"findings": []}, {}, "text")[0] == "200 OK"


def test_health_follows_the_probe_access_rules():
    app = ProbeMiddleware(hello)
    assert call(app, "/_venvprobe/health", addr="10.1.2.3")[0] == "404 Not Found"
    assert call(app, "/_venvprobe/health", headers={"X-Forwarded-For": "203.0.113.9"})[0] == "404 Not Found"
    locked = ProbeMiddleware(hello, config=ProbeConfig(token=TOKEN))
    assert call(locked, "/_venvprobe/health")[0] == "404 Not Found"
    ok = call(locked, "/_venvprobe/health", addr="10.1.2.3", headers={"Authorization": f"Bearer {TOKEN}"})[0]
    assert ok in ("200 OK", "503 Service Unavailable")
