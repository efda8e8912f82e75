"""The probe's request rules, called as a WSGI app (the real-server tests live elsewhere).

These exercise the decision logic with exact REMOTE_ADDR values that a test
on loopback cannot produce (a client on 10.x), and the adapters' isolation
guarantees.
"""

from __future__ import annotations

import io
import os
import json
import sys
from typing import Dict, List, Optional, Tuple

import pytest

from venvprobe.middleware import ProbeMiddleware
from venvprobe.probe import Probe, ProbeConfig
from venvprobe.probe.config import find_default_token
from venvprobe.probe.core import negotiate
from venvprobe.probe.flask_app import VenvProbe, create_app


@pytest.fixture(autouse=True, scope="module")
def own_home(tmp_path_factory):
    """A HOME of our own: the probe keeps its default token under ~/.config/venvprobe."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    # ... or under $TMPDIR/venvprobe-<uid>: the machine's /tmp is shared with every other run.
    mp.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmpdir")))
    for name in ("VENVPROBE_TOKEN", "VENVPROBE_TOKEN_FILE", "VENVPROBE_ALLOW"):
        mp.delenv(name, raising=False)
    yield
    mp.undo()


def own_token() -> str:
    """The probe's own token, as `venvprobe fetch` finds it (the probe makes it on first use)."""
    token, _, error = find_default_token(create=True)
    assert token, error
    return token


def call(app, path: str = "/", method: str = "GET", addr: str = "127.0.0.1",
         headers: Optional[Dict[str, str]] = None, query: str = "", extra: Optional[dict] = None,
         auth: bool = True) -> Tuple[str, Dict[str, str], bytes]:
    """One request; with *auth*, carrying the probe's own token (the default way in)."""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "REMOTE_ADDR": addr, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if auth and not any(h.lower() == "authorization" for h in headers or {}):
        environ["HTTP_AUTHORIZATION"] = "Bearer " + own_token()
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ.update(extra or {})
    captured: List = []

    def start_response(status, hdrs, exc_info=None):
        captured.append((status, hdrs))

    body = b"".join(app(environ, start_response))
    status, hdrs = captured[0]
    return status, dict(hdrs), body


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "yes")])
    return [b"hello app"]


@pytest.fixture(scope="module")
def app():
    return ProbeMiddleware(hello)


def test_loopback_alone_gets_nothing_by_default(app):
    # A same-host reverse proxy makes every client loopback: loopback proves nothing.
    for addr in ("127.0.0.1", "::1"):
        status, headers, body = call(app, "/_venvprobe/", addr=addr, auth=False)
        assert (status, body) == ("404 Not Found", b"Not Found\n") and "X-Venvprobe-Pid" not in headers


def test_the_probes_own_token_gets_text_report_by_default(app):
    status, headers, body = call(app, "/_venvprobe/", headers={"Accept": "*/*"})
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Venvprobe-Pid"].isdigit()
    text = body.decode()
    # Findings come first, then the sections.
    assert text.index("== Findings ==") < text.index("== Interpreter ==") < text.index("== sys.path")
    assert sys.prefix in text


@pytest.mark.parametrize("addr", ["10.1.2.3", "192.168.0.7", "2001:db8::1", "::ffff:10.0.0.1", "", "garbage"])
def test_non_loopback_or_bogus_client_gets_404_and_nothing_else(app, addr):
    status, headers, body = call(app, "/_venvprobe/", addr=addr, auth=False)
    assert status == "404 Not Found"
    assert body == b"Not Found\n"
    assert "X-Venvprobe-Pid" not in headers


@pytest.mark.parametrize("addr", ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"])
def test_every_loopback_form_is_loopback_when_loopback_is_allowlisted(addr):
    app = ProbeMiddleware(hello, config=ProbeConfig(allow=["127.0.0.0/8", "::1/128"]))
    assert call(app, "/_venvprobe/identity", addr=addr, auth=False)[0] == "200 OK"


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_proxy_headers_on_allowlisted_loopback_are_refused(header):
    app = ProbeMiddleware(hello, config=ProbeConfig(allow=["127.0.0.0/8"]))
    status, _, body = call(app, "/_venvprobe/", headers={header: "203.0.113.9"}, auth=False)
    assert status == "404 Not Found" and b"venvprobe" not in body


def test_methods_other_than_get_head_are_refused_after_authorisation(app):
    assert call(app, "/_venvprobe/", method="POST")[0] == "405 Method Not Allowed"
    assert call(app, "/_venvprobe/", method="DELETE", addr="10.0.0.1", auth=False)[0] == "404 Not Found"
    status, headers, body = call(app, "/_venvprobe/identity", method="HEAD")
    assert status == "200 OK" and body == b"" and int(headers["Content-Length"]) > 0


def test_middleware_passes_everything_else_through_untouched(app):
    for path in ("/", "/_venvprobex", "/other/_venvprobe"):
        status, headers, body = call(app, path, addr="10.9.9.9", auth=False)
        assert (status, headers.get("X-App"), body) == ("200 OK", "yes", b"hello app")


def test_token_required_and_constant_time_checked(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    app = ProbeMiddleware(hello, config=ProbeConfig(token_file=str(token_file)))
    assert call(app, "/_venvprobe/identity", auth=False)[0] == "404 Not Found"  # loopback alone is never enough
    assert call(app, "/_venvprobe/identity", headers={"Authorization": "Bearer wrong"})[0] == "404 Not Found"
    assert call(app, "/_venvprobe/identity", headers={"Authorization": "Basic s3cret-token"})[0] == "404 Not Found"
    ok = call(app, "/_venvprobe/identity", addr="10.1.1.1", headers={"Authorization": "Bearer s3cret-token"})
    assert ok[0] == "200 OK"
    # A token behind a proxy is fine: the token is the authentication.
    assert call(app, "/_venvprobe/identity", headers={"Authorization": "Bearer s3cret-token",
                                                      "X-Forwarded-For": "1.2.3.4"})[0] == "200 OK"


def test_unreadable_or_empty_token_file_locks_the_probe(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("")
    for path in (empty, tmp_path / "missing"):
        app = ProbeMiddleware(hello, config=ProbeConfig(token_file=str(path)))
        assert call(app, "/_venvprobe/identity", auth=False)[0] == "404 Not Found"
        # Not even with the probe's own default token: a configured file that
        # cannot be read locks the probe.
        assert call(app, "/_venvprobe/identity")[0] == "404 Not Found"


def test_token_from_wsgi_environ_like_mod_wsgi_setenv():
    app = ProbeMiddleware(hello)
    extra = {"VENVPROBE_TOKEN": "from-setenv"}
    assert call(app, "/_venvprobe/identity", extra=extra, auth=False)[0] == "404 Not Found"
    assert call(app, "/_venvprobe/identity", extra=extra, headers={"Authorization": "Bearer from-setenv"})[0] == "200 OK"


def test_cidr_allowlist():
    app = ProbeMiddleware(hello, config=ProbeConfig(allow=["10.20.0.0/16"]))
    assert call(app, "/_venvprobe/identity", addr="10.20.3.4", auth=False)[0] == "200 OK"
    assert call(app, "/_venvprobe/identity", addr="10.21.3.4", auth=False)[0] == "404 Not Found"
    assert call(app, "/_venvprobe/identity", addr="127.0.0.1", auth=False)[0] == "404 Not Found"
    bad = ProbeMiddleware(hello, config=ProbeConfig(allow=["not-a-net"]))
    assert call(bad, "/_venvprobe/identity", auth=False)[0] == "404 Not Found"


@pytest.mark.parametrize("accept,expected", [
    ("*/*", "text"),
    ("application/json", "json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("text/markdown", "markdown"),
    ("application/json;q=0.5, text/html;q=0.9", "html"),
    ("image/png", "text"),
    ("", "text"),
])
def test_content_negotiation(accept, expected):
    assert negotiate({"HTTP_ACCEPT": accept}, {}) == expected


def test_format_query_overrides_and_unknown_format_is_400(app):
    status, headers, body = call(app, "/_venvprobe/", query="format=json", headers={"Accept": "text/html"})
    assert status == "200 OK" and headers["Content-Type"] == "application/json"
    report = json.loads(body)
    assert report["schema"]["name"] == "venvprobe.report"
    assert report["probe"]["mount"] == "middleware"
    assert call(app, "/_venvprobe/", query="format=../../etc/passwd")[0] == "400 Bad Request"


def test_sub_resources_and_unknown_ones(app):
    for name in ("findings", "path", "shadowed", "identity", "interpreter", "distributions", "metrics"):
        assert call(app, f"/_venvprobe/{name}")[0] == "200 OK", name
    assert call(app, "/_venvprobe/../../etc/passwd")[0] == "404 Not Found"
    assert call(app, "/_venvprobe/nope")[0] == "404 Not Found"


def test_report_is_cached_and_fresh_recomputes():
    probe = Probe(ProbeConfig(ttl=60))
    first = probe.report(ttl=60)
    assert probe.report(ttl=60) is first
    assert probe.report(fresh=True, ttl=60) is not first


def test_identity_is_live_not_cached():
    app = ProbeMiddleware(hello)
    a = json.loads(call(app, "/_venvprobe/identity", query="format=json")[2])
    b = json.loads(call(app, "/_venvprobe/identity", query="format=json")[2])
    assert a["identity"]["pid"] == b["identity"]["pid"]
    assert a["generated_at"] <= b["generated_at"]


def test_metrics_exposition_format(app):
    status, headers, body = call(app, "/_venvprobe/metrics")
    text = body.decode()
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE venvprobe_info gauge" in text
    assert "pid=" not in text  # per-process identity is a gauge, not a label (tests/test_prometheus_metrics.py)
    assert f'python_version="{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"' in text
    for severity in ("error", "warning", "info"):
        assert f'venvprobe_findings{{severity="{severity}"}}' in text
    for line in text.splitlines():
        assert line.startswith("#") or line.split()[-1].replace(".", "").isdigit(), line


def test_a_failure_inside_the_probe_is_a_500_from_the_probe_only(monkeypatch):
    app = ProbeMiddleware(hello)

    def boom(*a, **k):
        raise RuntimeError("collector exploded")

    monkeypatch.setattr(app.probe, "report", boom)
    status, _, body = call(app, "/_venvprobe/")
    assert status == "500 Internal Server Error"
    assert b"exploded" not in body  # details go to the server log, not the client
    assert call(app, "/")[2] == b"hello app"  # the host app is unaffected


def test_html_escapes_hostile_sys_path_entries(monkeypatch, tmp_path):
    hostile = tmp_path / "<script>alert(1)</script>"
    hostile.mkdir(parents=True)  # the "/" in "</script>" makes it two levels
    monkeypatch.setattr(sys, "path", sys.path + [str(hostile)])
    app = ProbeMiddleware(hello)
    body = call(app, "/_venvprobe/", query="format=html&fresh=1")[2].decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    md = call(app, "/_venvprobe/path", query="format=markdown&fresh=1")[2].decode()
    assert "<script>" not in md


def test_secret_environment_values_never_appear(monkeypatch):
    secrets = {"DATABASE_URL": "postgres://app:pw-9f8e7d@db.internal/app", "PYTHON_API_TOKEN": "tok-1a2b3c4d",
               "SECRET_KEY": "django-insecure-abcdef", "VENVPROBE_REDACT_KEY": "rk-77665544"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    app = ProbeMiddleware(hello)
    for fmt in ("text", "json", "html", "markdown"):
        for sub in ("", "environment", "process", "interpreter"):
            body = call(app, f"/_venvprobe/{sub}", query=f"format={fmt}&fresh=1")[2].decode()
            for needle in ("pw-9f8e7d", "tok-1a2b3c4d", "django-insecure-abcdef", "rk-77665544"):
                assert needle not in body, (fmt, sub, needle)
    body = call(app, "/_venvprobe/environment", query="format=json")[2].decode()
    assert "PYTHON_API_TOKEN" in body and "[secret:" in body


def test_flask_extension_and_app_factory():
    from flask import Flask

    host = Flask("host")

    @host.route("/")
    def index():
        return "host index"

    VenvProbe(host)
    client = host.test_client()
    assert client.get("/").data == b"host index"
    assert client.get("/_venvprobe/identity", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    auth = {"Authorization": "Bearer " + own_token()}
    r = client.get("/_venvprobe/identity?format=json", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["probe"]["mount"] == "blueprint"
    assert client.get("/_venvprobe/", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 404
    solo = create_app().test_client()
    r = solo.get("/?format=json", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["probe"]["mount"] == "wsgi-script"
    assert r.headers["Cache-Control"] == "no-store"
    assert solo.get("/", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 404


def test_importing_the_middleware_does_not_import_flask():
    import subprocess

    code = "import sys, venvprobe.middleware; print('flask' in sys.modules, 'psutil' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_default_token_never_creates_a_missing_home(tmp_path, monkeypatch):
    """HOME=/nonexistent (a daemon user's, or a clean environment's): as root, makedirs made that home.
    The token goes to the per-user temporary directory instead."""
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    token, path, error = find_default_token(create=True)
    assert token and error is None
    assert path == str(tmp_path / "tmp" / f"venvprobe-{os.geteuid()}" / "probe.token")
    assert not (tmp_path / "no-home").exists()
