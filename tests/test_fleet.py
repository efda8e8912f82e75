"""Reports from probe URLs: a real HTTP(S) server on 127.0.0.1 (http.server in a thread)
serves saved real reports, slowly, too big, without JSON, behind a token or TLS.

The live probe under gunicorn is tested in test_fleet_live.py.
"""

from __future__ import annotations

import copy
import json
import re
import os
import pty
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional

import pytest

from test_compare_helpers import cli, venv_report
from venvprobe.fleet import FetchOptions, Target, gather, token_warnings

TOKEN = "s3cret-t0ken"


class Recorder:
    """Requests seen and how many were in flight at once."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, str]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.counters: Dict[str, int] = {}

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]


class Server:
    """A threaded HTTP server on 127.0.0.1 whose routes are set per test."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.routes: Dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.rec = Recorder()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with server.rec.lock:
                    server.rec.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                    server.rec.active += 1
                    server.rec.max_active = max(server.rec.max_active, server.rec.active)
                try:
                    route = server.routes.get(path)
                    if route is None:
                        self.send_json({"error": "no such route"}, 404)
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up: that is what several tests want
                finally:
                    with server.rec.lock:
                        server.rec.active -= 1

            def send_json(self, data, status=200, content_type="application/json"):
                body = json.dumps(data).encode() if not isinstance(data, bytes) else data
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    return venv_report(base / "venv", dists=[("demo-app", "1.4.2")])


@pytest.fixture
def server(report):
    srv = Server()
    srv.routes["/_venvprobe/"] = lambda h: h.send_json(report)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def exp_file(tmp_path_factory, report):
    path = tmp_path_factory.mktemp("exp") / "exp.toml"
    path.write_text(f'[interpreter]\nprefix = "{report["interpreter"]["prefix"]}"\n'
                    '[distributions.require]\ndemo-app = "==1.4.2"\n[workers]\nidentical = true\n')
    return path


# ---------------------------------------------------------------------------
# the basics


def test_compare_a_probe_url(server, exp_file, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no probe made a token for this user
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # (nor in $TMPDIR/venvprobe-<uid>, the other default place)
    rc, out, err = cli("compare", str(exp_file), server.url("/_venvprobe/"))
    assert (rc, err) == (0, ""), out
    assert "3 checks: 2 met, 0 not met, 1 skipped" in out
    (req,) = server.rec.requests
    assert req["accept"] == "application/json"
    assert "authorization" not in req


def test_loopback_urls_get_the_token_a_probe_made_for_this_user(server, exp_file, tmp_path, monkeypatch):
    from venvprobe.probe.config import find_default_token

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    token, path, error = find_default_token(create=True)
    assert token and path.startswith(str(tmp_path)), error
    assert cli("compare", str(exp_file), server.url("/_venvprobe/"))[0] == 0
    assert server.rec.requests[-1]["authorization"] == f"Bearer {token}"


def test_fetch_saves_the_report_as_served(server, report, tmp_path):
    out = tmp_path / "saved.json"
    rc, stdout, err = cli("fetch", server.url("/_venvprobe/"), "-o", str(out))
    assert (rc, stdout, err) == (0, "", "")
    assert json.loads(out.read_text()) == report
    rc, _, err = cli("fetch", "/etc/hostname")
    assert rc == 2 and "is not an http:// or https:// URL" in err


def test_html_page_is_asked_again_for_json(server, report, exp_file):
    def page(h):
        if "format=json" in h.path:
            h.send_json(report)
        else:
            h.send_json(b"<!doctype html><title>venvprobe</title>", content_type="text/html")

    server.routes["/probe"] = page
    rc, out, _ = cli("compare", str(exp_file), server.url("/probe"))
    assert rc == 0, out
    assert [r["path"] for r in server.rec.requests] == ["/probe", "/probe?format=json"]


# ---------------------------------------------------------------------------
# could not check: exit 2 with a clear line


def test_unreachable_host(exp_file):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/_venvprobe/"
    started = time.monotonic()
    rc, out, err = cli("compare", str(exp_file), url, "--retries", "1")
    assert time.monotonic() - started < 3
    assert rc == 2
    assert f"could not check: {url}: connection refused (nothing listening on 127.0.0.1:{port}?)" in out
    rc, _, err = cli("fetch", url, "--retries", "0")
    assert rc == 2 and err == f"venvprobe fetch: {url}: connection refused (nothing listening on 127.0.0.1:{port}?)\n"


def test_slow_server_times_out(server, exp_file):
    server.routes["/slow"] = lambda h: (time.sleep(3), h.send_json({}))
    started = time.monotonic()
    rc, out, _ = cli("compare", str(exp_file), server.url("/slow"), "--timeout", "0.5", "--retries", "0")
    assert time.monotonic() - started < 2.5
    assert rc == 2 and "no answer within 0.5 s (timeout)" in out


def test_dripping_server_hits_the_deadline(server, exp_file):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(100):  # a byte every 0.1 s: never idle long enough for a socket timeout
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.1)

    server.routes["/drip"] = drip
    started = time.monotonic()
    rc, out, _ = cli("compare", str(exp_file), server.url("/drip"), "--timeout", "1", "--retries", "0")
    assert time.monotonic() - started < 3
    assert rc == 2 and "did not arrive within 1 s (timeout)" in out


@pytest.mark.parametrize("with_length", [True, False])
def test_5mb_non_json_answer_is_refused_without_reading_it(server, exp_file, with_length):
    body = b"<html>" + b"x" * (5 << 20) + b"</html>"

    def big(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if with_length:
            h.send_header("Content-Length", str(len(body)))
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        for i in range(0, len(body), 64 << 10):
            h.wfile.write(body[i:i + (64 << 10)])
            time.sleep(0.002)

    server.routes["/big"] = big
    started = time.monotonic()
    rc, out, _ = cli("compare", str(exp_file), server.url("/big?format=json"), "--retries", "0")
    elapsed = time.monotonic() - started
    assert rc == 2
    size = "5.0 MB" if with_length else "at least "
    assert f"answered text/html ({size}" in out and "not a JSON report" in out
    assert elapsed < 1.5  # stopped after the first bytes: ~80 chunks would take longer


def test_answer_over_the_size_cap(server, report, exp_file):
    padded = copy.deepcopy(report)
    padded["padding"] = "x" * (2 << 20)
    server.routes["/fat"] = lambda h: h.send_json(padded)
    rc, out, _ = cli("compare", str(exp_file), server.url("/fat"), "--max-bytes", str(1 << 20))
    assert rc == 2 and "is 2.0 MB, more than the 1.0 MB cap" in out
    rc, out, _ = cli("compare", str(exp_file), server.url("/fat"))
    assert rc == 0  # under the default 32 MiB cap


@pytest.mark.parametrize("payload,message", [
    (b"not json{", "is not valid JSON"),
    (b'{"hello": 1}', "is not a venvprobe report (no schema header)"),
    (b'{"schema": {"name": "venvprobe.report", "version": 99}}', "uses report schema version 99; this venvprobe reads up to 1: upgrade venvprobe"),
])
def test_bad_answers(server, exp_file, payload, message):
    server.routes["/bad"] = lambda h: h.send_json(payload)
    rc, out, _ = cli("compare", str(exp_file), server.url("/bad"), "--retries", "0")
    assert rc == 2 and message in out


def test_retries_transient_errors_but_not_4xx(server, report, exp_file):
    def flaky(h):
        if server.rec.count("flaky") == 1:
            h.send_json({"error": "warming up"}, 503)
        else:
            h.send_json(report)

    server.routes["/flaky"] = flaky
    rc, out, _ = cli("compare", str(exp_file), server.url("/flaky"), "--retries", "1")
    assert rc == 0, out
    assert server.rec.counters["flaky"] == 2
    server.rec.counters.clear()
    rc, out, _ = cli("compare", str(exp_file), server.url("/flaky"), "--retries", "0")
    assert rc == 2 and "HTTP 503 Service Unavailable: warming up" in out
    rc, out, _ = cli("compare", str(exp_file), server.url("/missing"), "--retries", "3")
    assert rc == 2 and "HTTP 404" in out and "missing or wrong token" in out
    assert sum(r["path"] == "/missing" for r in server.rec.requests) == 1


# ---------------------------------------------------------------------------
# tokens


def _auth_route(server, report):
    def auth(h):
        if h.headers.get("Authorization") == f"Bearer {TOKEN}":
            h.send_json(report)
        else:  # like the probe: 404, not 401, so scanners learn nothing
            h.send_json(b"Not Found\n", 404, "text/plain")

    server.routes["/auth"] = auth


def test_token_from_environment(server, report, exp_file, monkeypatch):
    _auth_route(server, report)
    rc, out, _ = cli("compare", str(exp_file), server.url("/auth"), "--retries", "0")
    assert rc == 2 and "HTTP 404 Not Found" in out
    monkeypatch.setenv("VENVPROBE_TOKEN", TOKEN)
    rc, out, err = cli("compare", str(exp_file), server.url("/auth"))
    assert (rc, err) == (0, ""), out
    assert server.rec.requests[-1]["authorization"] == f"Bearer {TOKEN}"


def test_token_file_and_command_line(server, report, exp_file, tmp_path, monkeypatch):
    monkeypatch.delenv("VENVPROBE_TOKEN", raising=False)
    _auth_route(server, report)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    rc, out, err = cli("compare", str(exp_file), server.url("/auth"), "--token-file", str(token_file))
    assert (rc, err) == (0, ""), out
    token_file.chmod(0o644)
    rc, _, err = cli("compare", str(exp_file), server.url("/auth"), "--token-file", str(token_file))
    assert rc == 0 and "readable by other users (chmod 600 it)" in err
    rc, _, err = cli("compare", str(exp_file), server.url("/auth"), "--token", TOKEN)
    assert rc == 0
    assert err == ("venvprobe compare: warning: --token puts the token on the command line, where `ps` and shell "
                   "history show it; prefer $VENVPROBE_TOKEN or --token-file\n")
    rc, _, err = cli("compare", str(exp_file), server.url("/auth"), "--token-file", str(tmp_path / "nope"))
    assert rc == 2 and "does not exist" in err


def test_token_stays_with_its_host_across_redirects(server, report, exp_file, monkeypatch):
    _auth_route(server, report)

    def redirect_to(location):
        def route(h):
            h.send_response(302)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()
        return route

    server.routes["/same"] = redirect_to("/auth")
    server.routes["/elsewhere"] = redirect_to(server.url("/auth", host="localhost"))
    monkeypatch.setenv("VENVPROBE_TOKEN", TOKEN)
    rc, out, _ = cli("compare", str(exp_file), server.url("/same"))
    assert rc == 0, out
    rc, out, _ = cli("compare", str(exp_file), server.url("/elsewhere"), "--retries", "0")
    assert rc == 2 and "HTTP 404" in out
    final = [r for r in server.rec.requests if r["path"] == "/auth"][-1]
    assert final["host"] == f"localhost:{server.port}" and "authorization" not in final


def test_token_over_plain_http_to_a_remote_host_warns():
    assert token_warnings(["http://10.1.2.3/_venvprobe/"], TOKEN) == [
        "the token is sent unencrypted to 10.1.2.3 (http, not https)"]
    assert token_warnings(["https://10.1.2.3/", "http://127.0.0.1:8000/", "http://[::1]/"], TOKEN) == []
    assert token_warnings(["http://10.1.2.3/"], None) == []


# ---------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def tls_server(report, tls_files):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls_files))
    srv = Server(tls=ctx)
    srv.routes["/_venvprobe/"] = lambda h: h.send_json(report)
    yield srv
    srv.close()


def test_tls_verification(tls_server, tls_files, exp_file, tmp_path):
    url = tls_server.url("/_venvprobe/")
    rc, out, _ = cli("compare", str(exp_file), url)
    assert rc == 2 and "TLS certificate not trusted" in out and "--cacert FILE" in out
    rc, out, err = cli("compare", str(exp_file), url, "--cacert", str(tls_files[0]))
    assert (rc, err) == (0, ""), out
    rc, out, err = cli("compare", str(exp_file), url, "--insecure")
    assert rc == 0
    assert err.startswith("venvprobe compare: warning: --insecure: TLS certificates are not verified")
    rc, _, err = cli("compare", str(exp_file), url, "--cacert", str(tmp_path / "none.pem"))
    assert rc == 2 and "does not exist" in err
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    rc, _, err = cli("compare", str(exp_file), url, "--cacert", str(bad))
    assert rc == 2 and "is not a PEM certificate file" in err


# ---------------------------------------------------------------------------
# many targets, samples, workers


def test_pool_is_bounded_and_concurrent(server, report):
    busy = {"now": 0, "max": 0}

    def slow(h):
        # Counted around the wait only: the server thread may still be
        # finishing a response the client already has.
        with server.rec.lock:
            busy["now"] += 1
            busy["max"] = max(busy["max"], busy["now"])
        time.sleep(0.3)
        with server.rec.lock:
            busy["now"] -= 1
        h.send_json(report)

    server.routes["/pool"] = slow
    targets = [Target("url", server.url(f"/pool?n={i}")) for i in range(6)]
    started = time.monotonic()
    results = gather(targets, FetchOptions(concurrency=2))
    elapsed = time.monotonic() - started
    assert [r.error for r in results] == [None] * 6
    assert [r.target for r in results] == targets  # results keep the order of the targets
    assert busy["max"] == 2
    assert 0.85 < elapsed < 1.8  # three rounds of two


def _worker_reports(report: dict) -> List[dict]:
    """Three workers of one deployment, the third still on old code."""
    out = []
    for i, pid in enumerate((4101, 4102, 4103)):
        r = copy.deepcopy(report)
        r["identity"]["pid"] = pid
        r["process"]["create_time"] = 1000.0 + i
        out.append(r)
    old = out[0]  # started first, before the deploy
    next(d for d in old["distributions"] if d["name"] == "demo-app")["version"] = "1.3.0"
    return out


def test_samples_find_workers_and_the_one_that_differs(server, report, exp_file, tmp_path):
    workers = _worker_reports(report)
    server.routes["/workers"] = lambda h: h.send_json(workers[(server.rec.count("w") - 1) % 3])
    url = server.url("/workers")
    rc, out, _ = cli("compare", str(exp_file), url, "--samples", "6")
    assert rc == 1
    assert f"== {url}: NOT MET (3 checks: 1 met, 2 not met, 0 skipped)\n" in out
    assert "\n   3 workers in 6 samples: pid 4101, pid 4102, pid 4103\n" in out
    assert "note: pid 4101 differs from the other workers: distributions: demo-app 1.3.0 (others: 1.4.2)" in out
    row = next(l for l in out.splitlines() if re.match(r"NOT MET +workers\.identical ", l))
    assert "pid 4101 differs: distributions: demo-app 1.3.0 (others: 1.4.2)" in row
    row = next(l for l in out.splitlines() if re.match(r"NOT MET +distributions\.require: demo-app ", l))
    assert "pid 4101: 1.3.0; pid 4102, pid 4103: 1.4.2" in row
    rc, js, _ = cli("compare", str(exp_file), url, "--samples", "6", "-f", "json")
    target = json.loads(js)["targets"][0]
    assert sorted(target["workers"]) == ["pid 4101", "pid 4102", "pid 4103"]
    checks = {c["check"]: c for c in target["checks"]}
    assert checks["distributions.require: demo-app"]["workers"] == ["pid 4101"]

    out_dir = tmp_path / "workers"
    rc, _, err = cli("fetch", url, "--samples", "6", "--output-dir", str(out_dir))
    assert rc == 1
    assert "3 distinct workers in 6 samples" in err
    assert "pid 4101 differs from the others: distributions: demo-app 1.3.0 (others: 1.4.2)" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["pid-4101.json", "pid-4102.json", "pid-4103.json"]


def test_summary_across_targets(server, report, exp_file, tmp_path):
    old = copy.deepcopy(report)
    next(d for d in old["distributions"] if d["name"] == "demo-app")["version"] = "1.3.0"
    server.routes["/old"] = lambda h: h.send_json(old)
    rc, out, _ = cli("compare", str(exp_file), server.url("/_venvprobe/"), server.url("/old"),
                     str(tmp_path / "gone.json"))
    assert rc == 2
    summary = out[out.index("== summary"):].splitlines()
    assert summary[0] == "== summary: 3 targets, 1 met all, 1 not met, 1 could not be checked"
    assert any(l.startswith("distributions.require: demo-app") and l.endswith(server.url("/old")) for l in summary)
    assert any(l.startswith("(could not check)") and "gone.json" in l for l in summary)


def test_some_failed_samples_are_noted(server, report, exp_file):
    def half(h):
        if server.rec.count("half") % 2:
            h.send_json(report)
        else:
            h.send_json({"error": "boom"}, 500)

    server.routes["/half"] = half
    rc, out, _ = cli("compare", str(exp_file), server.url("/half"), "--samples", "4", "--retries", "0")
    assert rc == 0, out
    assert "note: 2 of 4 samples failed: " in out and "HTTP 500" in out


# ---------------------------------------------------------------------------
# progress on a terminal


def test_progress_is_shown_on_a_tty_only(server, exp_file):
    url = server.url("/_venvprobe/")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from venvprobe._cli import main; sys.exit(main())",
                                 "compare", str(exp_file), url, url], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        seen = b""
        deadline = time.monotonic() + 30
        while proc.poll() is None or select.select([master], [], [], 0)[0]:
            if time.monotonic() > deadline:
                proc.kill()
                break
            if select.select([master], [], [], 0.1)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        out = proc.stdout.read().decode()
        assert proc.wait() == 0, out
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    text = seen.decode()
    assert f"venvprobe: 1/2 {url}" in text and f"venvprobe: 2/2 {url}" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared at the end
    assert "venvprobe:" not in out  # progress never goes to stdout
