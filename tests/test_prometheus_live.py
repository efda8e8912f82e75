"""A real Prometheus scrapes real probes (gunicorn with 3 workers, Apache mod_wsgi daemon mode) on
127.0.0.1 with the rules of deploy_examples/prometheus/, and the divergence alert fires when one
gunicorn worker is left on old code.  Also: uWSGI's map-socket gives every worker its own scrape
target (docs/prometheus.md).

The test starts its own Prometheus (Debian's ``prometheus`` binary) on a free loopback port with a
temporary storage directory; it does not use or need any system Prometheus service.  The example
rules are used as shipped except their windows, shortened from minutes to seconds so the alert
fires in a test's time (promtool's unit tests run them with the real windows).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List

import pytest

import probe_helpers as ph
import servers

pytestmark = pytest.mark.servers

TOKEN = "prom-live-t0ken"
RULES = ph.EXAMPLES / "prometheus" / "venvprobe-rules.yml"


def fast_rules(text: str) -> str:
    """The shipped rules with windows in seconds: [5m] -> [12s], for: 10m -> 4s, for: 5m -> 0s."""
    text = text.replace("[5m]", "[12s]")
    text = re.sub(r"for: 10m", "for: 4s", text)
    return re.sub(r"for: 5m", "for: 0s", text)


class Prometheus:
    """Our own Prometheus: loopback port, private storage, stopped by pid."""

    def __init__(self, root: Path, scrape_configs: List[Dict[str, Any]]):
        self.root = root
        self.port = servers.free_port()
        root.mkdir(parents=True, exist_ok=True)
        (root / "rules.yml").write_text(fast_rules(RULES.read_text()))
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
                  "rule_files": [str(root / "rules.yml")], "scrape_configs": scrape_configs}
        # JSON is YAML: no YAML writer needed.
        (root / "prometheus.yml").write_text(json.dumps(config, indent=1))
        self.log = open(root / "prometheus.log", "wb")
        for attempt in range(3):
            self.proc = subprocess.Popen(
                ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
                stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, cwd=root)
            if self._ready(deadline=time.monotonic() + 60):
                return
            # Someone took the port between free_port() and Prometheus binding it: a new port.
            if attempt < 2 and "address already in use" in self.logs().lower():
                self.port = servers.free_port()
                continue
            raise RuntimeError("prometheus exited:\n" + self.logs())

    def _ready(self, deadline: float) -> bool:
        """True once Prometheus answers /-/ready; False if it exited; raises at the deadline."""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.api("/-/ready", raw=True):
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()  # not left running behind the failure
        raise RuntimeError("prometheus not ready in 60 s:\n" + self.logs())

    def logs(self) -> str:
        return (self.root / "prometheus.log").read_text(errors="replace")[-6000:]

    def api(self, path: str, raw: bool = False, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = servers.http_get(url, timeout=5)  # no http_proxy detour
        if raw:
            return status == 200
        assert status == 200, body[:1000]
        return json.loads(body)["data"]

    def query(self, expr: str) -> List[Dict[str, Any]]:
        return self.api("/api/v1/query", query=expr)["result"]

    def alerts(self, name: str, state: str = "firing") -> List[Dict[str, str]]:
        return [a["labels"] for a in self.api("/api/v1/alerts")["alerts"]
                if a["labels"].get("alertname") == name and a["state"] == state]

    def wait(self, what: str, check, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}\nalerts: {self.api('/api/v1/alerts')}\n"
                    f"targets: {self.api('/api/v1/targets')}\n{self.logs()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the process this test started
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def scrape_job(name: str, target: str, service: str, token_file: Path, path: str) -> Dict[str, Any]:
    return {"job_name": name, "metrics_path": path,
            "authorization": {"type": "Bearer", "credentials_file": str(token_file)},
            "static_configs": [{"targets": [target], "labels": {"service": service}}]}


@pytest.fixture
def prometheus_factory(shared_tmp):
    started: List[Prometheus] = []

    def make(scrape_configs):
        prom = Prometheus(shared_tmp / f"prometheus{len(started)}", scrape_configs)
        started.append(prom)
        return prom

    yield make
    for prom in started:
        prom.stop()


def test_prometheus_sees_a_diverging_gunicorn_worker(prometheus_factory, gunicorn_factory, apache_factory,
                                                      shared_tmp):
    servers.require("prometheus")
    servers.require_apache()
    token_file = shared_tmp / "token"
    token_file.write_text(TOKEN + "\n")

    gvenv = ph.make_probe_venv(shared_tmp / "gvenv", packages=("venvprobe", "gunicorn"))
    # TTL 0: every scrape is answered from a report of that worker as it is now.
    gu = gunicorn_factory(gvenv, "venvprobe.wsgi:application", workers=3,
                          env={"VENVPROBE_TOKEN": TOKEN, "VENVPROBE_TTL": "0"})
    pids = gu.wait_for_workers(3)
    workers_up = time.time()
    assert len(pids) == 3

    aroot = shared_tmp / "apache-site"
    app = ph.copy_example("apache-daemon-single", aroot)
    ph.make_probe_venv(aroot / "venv")
    # mod_wsgi hands the Authorization header to the app only when told to.
    conf = (app / "apache.conf").read_text() + f"\nSetEnv VENVPROBE_TOKEN {TOKEN}\nWSGIPassAuthorization On\n"
    apache = apache_factory(conf, extra_modules=("env",))

    gtarget, atarget = f"127.0.0.1:{gu.port}", f"127.0.0.1:{apache.port}"
    prom = prometheus_factory([scrape_job("venvprobe-gunicorn", gtarget, "shop", token_file, "/metrics"),
                               scrape_job("venvprobe-apache", atarget, "billing", token_file,
                                          "/_venvprobe/metrics")])

    def both_up():
        up = {r["metric"]["job"]: r["value"][1] for r in prom.query('up{job=~"venvprobe.*"}')}
        return up == {"venvprobe-gunicorn": "1", "venvprobe-apache": "1"} and up
    prom.wait("both targets scraped", both_up)
    servers_seen = {r["metric"]["server"] for r in prom.query("venvprobe_info")}
    assert servers_seen == {"gunicorn", "mod_wsgi"}
    # Behind 3 gunicorn workers, scrapes reach several processes: their start times change...
    prom.wait("scrapes from several gunicorn workers", lambda: [
        r for r in prom.query(f'changes(venvprobe_process_start_time_seconds{{instance="{gtarget}"}}[30s])')
        if float(r["value"][1]) > 0])
    # ... but the workers agree, so one fingerprint and no divergence.
    # (The recording rule is evaluated on its own clock: wait until it has seen both targets.)
    def recorded():
        counts = {r["metric"]["instance"]: r["value"][1] for r in prom.query("venvprobe:fingerprints:count5m")}
        return set(counts) == {gtarget, atarget} and counts
    counts = prom.wait("the fingerprint count recorded for both targets", recorded)
    assert counts == {gtarget: "1", atarget: "1"}
    assert prom.alerts("VenvprobeWorkersDiverge", "firing") + prom.alerts("VenvprobeWorkersDiverge", "pending") == []

    # One worker diverges: the venv's venvprobe source changes, two of the three workers
    # are restarted and load it anew; the third still runs what it imported before.
    time.sleep(max(0.0, workers_up + 2.0 - time.time()))  # changes within 1 s of start are not flagged
    init = next(Path(gvenv.site_packages).glob("venvprobe/__init__.py"))
    now = time.time()
    os.utime(init, (now, now))
    time.sleep(0.2)
    for pid in pids[1:]:
        os.kill(pid, signal.SIGTERM)  # workers of the gunicorn this test started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = gu.wait_for_workers(3)
        if len(current) == 3 and not set(pids[1:]) & set(current):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"gunicorn did not replace workers {pids[1:]}")

    firing = prom.wait("VenvprobeWorkersDiverge firing", lambda: prom.alerts("VenvprobeWorkersDiverge"), 90)
    assert [(a["instance"], a["job"], a["service"]) for a in firing] == [(gtarget, "venvprobe-gunicorn", "shop")]
    # The old worker also reports the change as a finding code, visible on its own series.
    codes = {r["metric"]["code"] for r in prom.query(
        f'last_over_time(venvprobe_finding{{instance="{gtarget}"}}[30s])')}
    assert "source-modified-after-start" in codes
    # Apache's single daemon process never diverged.
    assert not [a for a in prom.alerts("VenvprobeWorkersDiverge", "pending") if a["instance"] == atarget]


def test_uwsgi_map_socket_gives_each_worker_a_target(uwsgi_factory, shared_tmp):
    """docs/prometheus.md: one extra http-socket per worker, pinned with map-socket."""
    servers.require_uwsgi()
    venv = ph.make_probe_venv(shared_tmp / "uvenv")
    app_port, w1, w2 = servers.free_ports(3)
    uw = uwsgi_factory({
        "home": str(venv.root), "module": "venvprobe.wsgi:application", "processes": 2,
        "http-socket": [f"127.0.0.1:{app_port}", f"127.0.0.1:{w1}", f"127.0.0.1:{w2}"],
        "map-socket": ["0:1,2", "1:1", "2:2"],
        "env": [f"VENVPROBE_TOKEN={TOKEN}"],
    }, port=app_port, user=None, group=None)
    # (As root: a worker dup()s /dev/null over the sockets not mapped to it, and a sandbox whose
    # /dev/null is not a device refuses www-data that open.)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def pids_behind(port: int, n: int = 8) -> set:
        seen = set()
        for _ in range(n):
            status, headers, body = servers.http_get(f"http://127.0.0.1:{port}/metrics", headers=auth)
            assert status == 200, body[:500]
            assert b"venvprobe_info{" in body
            seen.add(headers["x-venvprobe-pid"])
        return seen

    first, second = pids_behind(w1), pids_behind(w2)
    assert len(first) == 1 and len(second) == 1 and first != second, (first, second, uw.logs())
