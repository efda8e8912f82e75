"""The probe's security defaults, against real servers.

Default: a report needs the probe's own token (a file only the app's user can
read, which `venvprobe fetch` run as that user finds); loopback alone proves
nothing, because a reverse proxy on the same host makes everyone loopback.

* a header-less TCP proxy (socat/haproxy-tcp style, a few lines of Python)
  on the server's host, in front of the probe, reached by a client in a
  second network namespace;
* gunicorn on 127.0.0.1 serving ``venvprobe.wsgi:application`` (through a
  two-line wrapper that adds a hostile directory to sys.path), with secrets
  seeded into its environment and command line;
* gunicorn with a token file;
* gunicorn inside a network namespace of our own, reached from a second
  namespace over a veth pair: a real non-loopback client (10.200.0.2 ->
  10.200.0.1; no address is added to the host's namespace);
* Apache + mod_wsgi (daemon mode) with ``SetEnv`` secrets and a token;
* uWSGI with ``env =`` secrets.

Servers are started once per module (each ~0.1-0.5 s) and share one venv.
"""

from __future__ import annotations

import json
import re
import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from markdown_it import MarkdownIt

import probe_helpers as ph
import servers

pytestmark = pytest.mark.servers

HOSTILE = "<script>alert(1)</script>"
HOSTILE_DIST = "<img src=x onerror=alert(1)>"
HOSTILE_ENV = "<script>alert(2)</script>"

#: Seeded secrets: none of these values may appear in any response.
SECRETS = {
    "DATABASE_URL": "postgres://user:s3cr3tpw@db/x",
    "SECRET_KEY": "sk-live-0123456789abcdef",
    "PYTHON_API_TOKEN": "tok-9f8e7d6c5b4a",
    "PYTHONDBURL": "postgres://app:pyth0n-dsn-pw@db/y",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
}
SECRET_VALUES = ["s3cr3tpw", "sk-live-0123456789abcdef", "tok-9f8e7d6c5b4a", "pyth0n-dsn-pw",
                 "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"]
#: Passed on the gunicorn command line (`-e NAME=value` sets it in the workers too),
#: once as two arguments and once as `--env=NAME=value`, and in GUNICORN_CMD_ARGS
#: (an allowlisted variable).
CMDLINE_SECRET = ("SESSION_PASSWORD", "cmdl1ne-pa55word")
CMDLINE_SECRET2 = ("API_TOKEN", "cmdl1ne-t0ken-2")
CMD_ARGS_SECRET = ("DB_PASSWORD", "gun1corn-cmd-args-pw")

TOKEN = "vp-test-token-7f3a9c1e5b"
SUBRESOURCES = ["", "findings", "interpreter", "identity", "path", "shadowed", "distributions",
                "modules", "process", "environment"]
FORMATS = ["text", "json", "html", "markdown"]
PROXY_HEADERS = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-For": "127.0.0.1"},
    {"X-Forwarded-For": ""},
    {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"},
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"Forwarded": "for=127.0.0.1"},
    {"X-Real-IP": "203.0.113.7"},
    {"X-Real-IP": "127.0.0.1"},
    {"Via": "1.1 nginx"},
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Port": "443"},
    {"X-Forwarded-Server": "edge"},
    {"X-Forwarded-Host": "app.example"},
    {"Fastly-Client-IP": "127.0.0.1"},
    {"X-Envoy-External-Address": "127.0.0.1"},
    {"CF-Connecting-IP": "127.0.0.1"},
    {"True-Client-IP": "127.0.0.1"},
    {"X-Client-IP": "127.0.0.1"},
]


# --------------------------------------------------------------------------
# module-scoped servers


class Pool:
    """Servers started for this module; all stopped at module teardown."""

    def __init__(self) -> None:
        self.started: List[servers.BaseServer] = []

    def start(self, server: servers.BaseServer, timeout: float = 20.0) -> Any:
        self.started.append(server)
        server.start(timeout=timeout)
        return server

    def stop_all(self) -> None:
        errors = []
        for server in reversed(self.started):
            try:
                server.stop()
            except Exception as exc:
                errors.append(f"{server!r}: {exc!r}")
        if errors:
            raise RuntimeError("could not stop: " + "; ".join(errors))


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    p = Pool()
    yield p
    p.stop_all()


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = servers.fresh_shared_dir("security")
    yield path
    if not os.environ.get("VENVPROBE_KEEP_TMP"):
        import shutil

        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def venv(base: Path) -> servers.Venv:
    return ph.make_probe_venv(base / "venv", packages=("venvprobe", "gunicorn"))


@pytest.fixture(scope="module")
def app_dir(base: Path, venv: servers.Venv) -> Path:
    """The probe wrapped by an "app" that puts a hostile directory on sys.path."""
    app = base / "app"
    hostile = app / HOSTILE  # two components: "<script>alert(1)<" / "script>"
    hostile.mkdir(parents=True)
    # A distribution with a hostile name inside it, so names are tested too.
    ph.write_dist(hostile, HOSTILE_DIST, "6.6.6", module="hostile_mod")
    (app / "hostile_app.py").write_text(
        "import os, sys\n"
        f"sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), {HOSTILE!r}))\n"
        "from venvprobe.wsgi import application  # noqa: E402,F401\n"
    )
    (app / "probe.wsgi").write_text("from venvprobe.wsgi import application  # noqa: F401\n")
    servers.make_world_readable(base)
    return app


def _gunicorn(venv: servers.Venv, app_dir: Path, env: Optional[Dict[str, str]] = None,
              extra_args: Tuple[str, ...] = (), root: Optional[Path] = None) -> servers.GunicornServer:
    return servers.GunicornServer(venv, "hostile_app:application", chdir=app_dir, env=env,
                                  extra_args=list(extra_args), root=root)


@pytest.fixture(scope="module")
def gu(pool: Pool, venv: servers.Venv, app_dir: Path, base: Path) -> servers.GunicornServer:
    """No probe configuration: the defaults.  Secrets in env and on the command line."""
    env = dict(SECRETS)
    env["PYTHONHOSTILE"] = HOSTILE_ENV
    env["GUNICORN_CMD_ARGS"] = "--env " + "=".join(CMD_ARGS_SECRET)
    return pool.start(_gunicorn(venv, app_dir, env=env, root=base / "gu-default",
                                extra_args=("-e", "=".join(CMDLINE_SECRET),
                                            "--env=" + "=".join(CMDLINE_SECRET2))))


@pytest.fixture(scope="module")
def gu_token_file(pool: Pool, venv: servers.Venv, app_dir: Path, base: Path) -> Tuple[servers.GunicornServer, Path]:
    token_file = base / "token"
    token_file.write_text(TOKEN + "\n")
    env = dict(SECRETS, VENVPROBE_TOKEN_FILE=str(token_file))
    return pool.start(_gunicorn(venv, app_dir, env=env, root=base / "gu-tokenfile")), token_file


@pytest.fixture(scope="module")
def gu_allow(pool: Pool, venv: servers.Venv, app_dir: Path, base: Path) -> servers.GunicornServer:
    """Loopback trusted without a token, explicitly (VENVPROBE_ALLOW): proxy headers must still deny."""
    env = dict(SECRETS, VENVPROBE_ALLOW="127.0.0.0/8,::1/128")
    return pool.start(_gunicorn(venv, app_dir, env=env, root=base / "gu-allow"))


@pytest.fixture(scope="module")
def netns(base: Path) -> Iterator[ph.NetnsPair]:
    ok, reason = ph.NetnsPair.available()
    if not ok:
        # Not a missing server: a sandbox without CAP_SYS_ADMIN. Skip even
        # under CI; the loopback/proxy rules are still tested below.
        pytest.skip(f"network namespaces unavailable ({reason}): non-loopback client not tested")
    pair = ph.NetnsPair().open()
    yield pair
    pair.close()


def _gunicorn_in_ns(pool: Pool, pair: ph.NetnsPair, venv: servers.Venv, app_dir: Path, root: Path,
                    env: Dict[str, str]) -> servers.GunicornServer:
    # Started from inside the server namespace: gunicorn inherits it, binds
    # the harness's 127.0.0.1:<port> (that namespace's own loopback, which
    # the harness polls for readiness) and the veth address.
    with ph.in_netns(pair.server_ns):
        server = _gunicorn(venv, app_dir, env=env, root=root)
        server.extra_args += ["--bind", f"{pair.server_addr}:{server.port}"]
        return pool.start(server)


@pytest.fixture(scope="module")
def gu_ns(pool: Pool, netns: ph.NetnsPair, venv: servers.Venv, app_dir: Path, base: Path) -> servers.GunicornServer:
    return _gunicorn_in_ns(pool, netns, venv, app_dir, base / "gu-ns", dict(SECRETS))


@pytest.fixture(scope="module")
def gu_ns_token(pool: Pool, netns: ph.NetnsPair, venv: servers.Venv, app_dir: Path, base: Path) -> servers.GunicornServer:
    env = dict(SECRETS, VENVPROBE_TOKEN=TOKEN, VENVPROBE_ALLOW=f"{netns.client_addr}/32")
    return _gunicorn_in_ns(pool, netns, venv, app_dir, base / "gu-ns-token", env)


@pytest.fixture(scope="module")
def apache(pool: Pool, venv: servers.Venv, app_dir: Path, base: Path) -> servers.ApacheServer:
    servers.require_apache()
    setenv = "\n".join(f'SetEnv {k} "{v}"' for k, v in SECRETS.items())
    config = f"""
WSGIDaemonProcess sec python-home={venv.root} processes=1 threads=4
WSGIProcessGroup sec
WSGIApplicationGroup %{{GLOBAL}}
{setenv}
# token-protected, with the Authorization header passed to the app
WSGIScriptAlias /_venvprobe {app_dir}/probe.wsgi
# the same token, but WITHOUT WSGIPassAuthorization: mod_wsgi drops the header
WSGIScriptAlias /_nopass {app_dir}/probe.wsgi
# nothing configured: the defaults (the probe's own token)
WSGIScriptAlias /_open {app_dir}/hostile_app.py
<Location /_venvprobe>
    SetEnv VENVPROBE_TOKEN {TOKEN}
    WSGIPassAuthorization On
</Location>
<Location /_nopass>
    SetEnv VENVPROBE_TOKEN {TOKEN}
</Location>
<Location /_open>
    WSGIPassAuthorization On
</Location>
<Directory {app_dir}>
    Require all granted
</Directory>
"""
    return pool.start(servers.ApacheServer(config, root=base / "apache", extra_modules=("env",)))


@pytest.fixture(scope="module")
def uwsgi(pool: Pool, venv: servers.Venv, app_dir: Path, base: Path) -> servers.UwsgiServer:
    servers.require_uwsgi()
    return pool.start(servers.UwsgiServer(
        {"home": str(venv.root), "chdir": str(app_dir), "module": "hostile_app:application",
         "env": [f"{k}={v}" for k, v in SECRETS.items()]},
        root=base / "uwsgi"))


# --------------------------------------------------------------------------
# helpers


def bearer(token: str = TOKEN) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def request(server: servers.BaseServer, method: str, path: str,
            headers: Optional[Dict[str, str]] = None, body: bytes = b"") -> Tuple[int, Dict[str, str], bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def every_body(get: Callable[[str], Tuple[int, Dict[str, str], bytes]], prefix: str) -> List[Tuple[str, bytes]]:
    """Every sub-resource in every format, plus /metrics; all must be 200."""
    out = []
    for sub in SUBRESOURCES:
        for fmt in FORMATS:
            url = f"{prefix}/{sub}?format={fmt}"
            status, headers, body = get(url)
            assert status == 200, (url, status, body[:500])
            assert headers.get("cache-control") == "no-store", (url, headers)
            out.append((url, body))
    status, _, body = get(prefix + "/metrics")
    assert status == 200 and b"venvprobe_info{" in body
    out.append((prefix + "/metrics", body))
    # Accept-negotiated variants of the full report as well.
    for accept in ("text/html", "application/json", "text/markdown", "*/*"):
        status, _, body = get_with(get, prefix + "/", accept)
        out.append((f"{prefix}/ Accept: {accept}", body))
    return out


def get_with(get: Callable, url: str, accept: str) -> Tuple[int, Dict[str, str], bytes]:
    return get(url, {"Accept": accept})


def assert_no_secrets(bodies: List[Tuple[str, bytes]], extra: Tuple[str, ...] = ()) -> None:
    leaks = [(url, s) for url, body in bodies for s in SECRET_VALUES + list(extra) if s.encode() in body]
    assert not leaks, f"secret values leaked: {leaks[:10]}"


def getter(server: servers.BaseServer, base_headers: Optional[Dict[str, str]] = None) -> Callable:
    def get(url: str, headers: Optional[Dict[str, str]] = None):
        h = dict(base_headers or {})
        h.update(headers or {})
        return server.get(url, headers=h, timeout=30)
    return get


def own(server: servers.BaseServer, wake: str = "/identity") -> Dict[str, str]:
    """The Authorization header with the probe's own token (the default way in)."""
    return ph.bearer_for(server, wake)


# --------------------------------------------------------------------------
# gunicorn, loopback: defaults


def test_loopback_alone_gets_nothing_by_default(gu):
    for path in ("/", "/identity", "/metrics", "/environment?format=json"):
        status, headers, body = gu.get(path)
        assert (status, body) == (404, b"Not Found\n"), (path, status, body[:300])
        assert not any(h.startswith("x-venvprobe") for h in headers)
    assert "missing or wrong bearer token (the probe's token is in " in gu.logs()


def test_own_token_file_is_private_to_the_apps_user(gu):
    own(gu)
    path = ph.own_token_paths(gu)[0]
    assert path.exists(), ph.own_token_paths(gu)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert len(path.read_text().strip()) >= 40


def test_loopback_with_the_own_token_gets_a_report(gu):
    status, headers, body = gu.get("/", headers=dict(own(gu), Accept="application/json"))
    assert status == 200, body[:500]
    data = json.loads(body)
    assert data["probe"]["mount"] == "wsgi-script"
    assert headers["x-venvprobe-pid"] == str(data["identity"]["pid"])
    for name in ("cache-control", "x-content-type-options", "content-security-policy"):
        assert name in headers
    assert headers["cache-control"] == "no-store"
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none' covers scripts


@pytest.mark.parametrize("proxy", PROXY_HEADERS, ids=lambda h: "-".join(f"{k}={v}" for k, v in h.items()))
def test_proxy_headers_on_loopback_get_404(gu, proxy):
    # Under the defaults a proxy header means someone else is forwarded,
    # whatever address it names.
    for server in (gu,):
        for path in ("/", "/identity", "/metrics", "/path?format=json"):
            status, headers, body = server.get(path, headers=proxy)
            assert status == 404, (path, proxy, status, body[:300])
            assert body == b"Not Found\n"  # the same 404 as an unknown URL: nothing to learn
            assert not any(h.startswith("x-venvprobe") for h in headers)
    # The probe's own token is for a person on the host: not through a proxy either.
    assert gu.get("/identity", headers=dict(own(gu), **proxy))[0] == 404


@pytest.mark.parametrize("proxy", PROXY_HEADERS, ids=lambda h: "-".join(f"{k}={v}" for k, v in h.items()))
def test_allowlisted_proxys_forwarded_client_is_judged(gu_allow, proxy):
    """Loopback explicitly allowlisted: a proxy there is trusted to name the client, and the
    client it names is judged; a header that names no client cannot be judged and denies."""
    (name, value), = proxy.items()
    names_only_loopback = name not in ("Via", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Server",
                                       "X-Forwarded-Host") and value and "203.0.113.7" not in value
    status, _, body = gu_allow.get("/identity", headers=proxy)
    assert status == (200 if names_only_loopback else 404), (proxy, status, body[:200])
    assert gu_allow.get("/identity")[0] == 200  # the same request without the header


def test_post_and_put_are_405_only_after_authorization(gu):
    auth = own(gu)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, body = request(gu, method, "/", headers=auth, body=b"x=1")
        assert status == 405, (method, status, body)
        assert headers.get("allow") == "GET, HEAD"
        assert request(gu, method, "/", body=b"x=1")[0] == 404
        status, _, body = request(gu, method, "/findings", headers={"X-Forwarded-For": "203.0.113.7"}, body=b"x")
        assert status == 404, (method, status, body)
    status, headers, body = request(gu, "HEAD", "/", headers=auth)
    assert status == 200 and body == b"" and headers["cache-control"] == "no-store"


def test_request_parameters_cannot_read_files_or_import(gu):
    auth = own(gu)
    for url in ("/?format=../../../../etc/passwd", "/?format=html&file=/etc/passwd",
                "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/?module=os&import=subprocess",
                "/modules?name=/etc/passwd", "/etc/passwd", "/identity/../../../etc/passwd"):
        status, _, body = gu.get(url, headers=auth)
        assert b"root:x:0:0" not in body, url
        assert status in (200, 400, 404), (url, status)
    status, _, body = gu.get("/?format=../../etc/passwd", headers=auth)
    assert status == 400 and b"unknown format" in body


def test_hostile_path_names_render_inert(gu):
    auth = own(gu)
    status, _, body = gu.get("/path?format=json", headers=auth)
    assert status == 200
    paths = [e["path"] for e in json.loads(body)["sys_path"]["entries"]]
    assert any(p.endswith("/" + HOSTILE) for p in paths), paths  # the app really added it
    for sub in ("", "path", "distributions", "findings", "environment"):
        status, headers, html = gu.get(f"/{sub}?format=html", headers=auth)
        assert status == 200 and headers["content-type"].startswith("text/html")
        page = html.decode()
        for raw in (HOSTILE, HOSTILE_DIST, HOSTILE_ENV, "<script", "<img", "onerror=alert(1)>"):
            assert raw not in page, (sub, raw)
        assert "<style>" in page  # self-contained: inline CSS only
        assert "src=" not in page.replace("src=x", "") and "<link" not in page
    html = gu.get("/?format=html", headers=auth)[2].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html  # PYTHONHOSTILE, an allowlisted name
    # Markdown is judged by what a renderer makes of it: no raw HTML reaches the page, the names stay text.
    md = gu.get("/?format=markdown", headers=auth)[2].decode()
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    # The <details> folds venvprobe writes around long tables are its own HTML, not the host's.
    fold = re.compile(r"^(<details>\n<summary>[^<>]*</summary>|</details>)$")
    kinds = {t.type for t in tokens if not (t.type == "html_block" and fold.match(t.content.strip()))}
    kinds |= {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & {"html_inline", "html_block", "image"}, kinds
    for raw in (HOSTILE, HOSTILE_DIST, HOSTILE_ENV, "<script", "<img"):
        assert raw not in md, raw  # entities, not backslashes: literal for any renderer
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_secrets_absent_from_every_format_and_subresource(gu):
    auth = own(gu)
    bodies = every_body(getter(gu, auth), "")
    assert_no_secrets(bodies, extra=(CMDLINE_SECRET[1], CMDLINE_SECRET2[1], CMD_ARGS_SECRET[1]))
    env = json.loads(gu.get("/environment?format=json", headers=auth)[2])["environment"]["variables"]
    # Allowlisted names are shown, their secret values masked; others are left out.
    assert env["PYTHON_API_TOKEN"].startswith("[secret:")
    assert env["PYTHONDBURL"].startswith("postgres://app:[secret:") and env["PYTHONDBURL"].endswith("@db/y")
    for name in ("DATABASE_URL", "SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "SESSION_PASSWORD"):
        assert name not in env
    cmdline = json.loads(gu.get("/process?format=json", headers=auth)[2])["process"]["cmdline"]
    assert any(a.startswith(CMDLINE_SECRET[0] + "=[secret:") for a in cmdline), cmdline


def test_request_headers_never_appear(gu):
    cookie = "sessionid=c00kie-value-123"
    auth = own(gu)
    token = auth["Authorization"].split()[1]
    for sub in ("", "environment", "process", "identity"):
        for fmt in FORMATS:
            status, _, body = gu.get(f"/{sub}?format={fmt}", headers=dict(auth, Cookie=cookie))
            assert status == 200
            assert b"c00kie-value-123" not in body and token.encode() not in body


# --------------------------------------------------------------------------
# tokens


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": TOKEN},
    {"X-Venvprobe-Token": TOKEN},
], ids=["missing", "wrong", "longer", "shorter", "basic", "no-scheme", "other-header"])
def test_token_file_wrong_or_missing_token_gets_404(gu_token_file, headers):
    server, _ = gu_token_file
    for path in ("/", "/identity", "/metrics", f"/?token={TOKEN}"):
        status, _, body = server.get(path, headers=headers)
        assert status == 404 and body == b"Not Found\n", (path, headers, status)


def test_token_file_right_token_gets_200_and_rotates(gu_token_file):
    server, token_file = gu_token_file
    status, _, body = server.get("/identity?format=json", headers=bearer())
    assert status == 200, body[:300]
    assert server.get("/identity", headers={"Authorization": f"bearer   {TOKEN}"})[0] == 200  # scheme is case-insensitive
    # A token is proof enough: proxy headers do not matter once it is configured.
    assert server.get("/identity", headers=dict(bearer(), **{"X-Forwarded-For": "203.0.113.7"}))[0] == 200
    assert request(server, "POST", "/", headers=bearer())[0] == 405
    assert request(server, "POST", "/")[0] == 404
    assert_no_secrets(every_body(getter(server, bearer()), ""))
    # Rotate the token file: the new token works at once, the old one no more.
    token_file.write_text("rotated-" + TOKEN + "\n")
    st = token_file.stat()
    os.utime(token_file, (st.st_atime, st.st_mtime + 5))
    assert server.get("/identity", headers=bearer())[0] == 404
    assert server.get("/identity", headers=bearer("rotated-" + TOKEN))[0] == 200
    token_file.write_text(TOKEN + "\n")
    os.utime(token_file, (st.st_atime, st.st_mtime + 10))


# --------------------------------------------------------------------------
# real non-loopback clients (network namespaces)


def _from_client(pair: ph.NetnsPair, server: servers.BaseServer, path: str,
                 headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    with ph.in_netns(pair.client_ns):
        return servers.http_get(f"http://{pair.server_addr}:{server.port}{path}", headers=headers)


def _from_server_ns_loopback(pair: ph.NetnsPair, server: servers.BaseServer, path: str,
                             headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    with ph.in_netns(pair.server_ns):
        return servers.http_get(f"http://127.0.0.1:{server.port}{path}", headers=headers)


def own_in_ns(pair: ph.NetnsPair, server: servers.BaseServer) -> Dict[str, str]:
    if not any(p.exists() for p in ph.own_token_paths(server)):
        _from_server_ns_loopback(pair, server, "/identity")  # the probe makes its token on first use
    return own(server)


def test_non_loopback_client_gets_404_by_default(netns, gu_ns):
    auth = own_in_ns(netns, gu_ns)
    for path in ("/", "/identity", "/metrics", "/findings?format=json"):
        status, headers, body = _from_client(netns, gu_ns, path)
        assert status == 404 and body == b"Not Found\n", (path, status, body[:200])
        assert _from_client(netns, gu_ns, path, headers=bearer())[0] == 404
        # Not even with the probe's own token: that one is for a person on the host.
        assert _from_client(netns, gu_ns, path, headers=auth)[0] == 404
    # The same server answers its own loopback with that token: the 404 is about the client.
    status, _, body = _from_server_ns_loopback(netns, gu_ns, "/identity?format=json", headers=auth)
    assert status == 200, body[:300]
    # And the client really is non-loopback: with a token + allowlist it is
    # served, and the report shows that address nowhere it should not.


def test_non_loopback_client_with_token_and_allowlist(netns, gu_ns_token):
    status, _, body = _from_client(netns, gu_ns_token, "/identity?format=json", headers=bearer())
    assert status == 200, body[:300]
    assert _from_client(netns, gu_ns_token, "/identity")[0] == 404
    assert _from_client(netns, gu_ns_token, "/identity", headers=bearer("nope"))[0] == 404
    # Loopback is not in the allowlist (10.200.0.2/32): 404 even with the token.
    assert _from_server_ns_loopback(netns, gu_ns_token, "/identity", headers=bearer())[0] == 404
    bodies = []
    for sub in SUBRESOURCES:
        for fmt in FORMATS:
            status, _, body = _from_client(netns, gu_ns_token, f"/{sub}?format={fmt}", headers=bearer())
            assert status == 200
            bodies.append((f"/{sub}?format={fmt}", body))
    assert_no_secrets(bodies)


# --------------------------------------------------------------------------
# Apache + mod_wsgi


def test_apache_default_rules_and_setenv_secrets(apache):
    assert apache.get("/_open/identity")[0] == 404  # loopback alone: nothing
    auth = own(apache, "/_open/identity")
    # www-data cannot write its home (/var/www): the token went to $TMPDIR/venvprobe-<uid>/.
    assert ph.own_token_paths(apache)[1].exists()
    status, _, body = apache.get("/_open/identity?format=json", headers=auth)
    assert status == 200, (body[:300], apache.logs())
    for proxy in PROXY_HEADERS:
        for headers in (proxy, dict(auth, **proxy)):
            status, _, body = apache.get("/_open/", headers=headers)
            assert status == 404 and body == b"Not Found\n", (headers, status)
    assert request(apache, "POST", "/_open/", headers=auth)[0] == 405
    assert request(apache, "POST", "/_open/", headers=dict(auth, **{"X-Real-IP": "203.0.113.7"}))[0] == 404
    html = apache.get("/_open/path?format=html", headers=auth)[2].decode()
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_no_secrets(every_body(getter(apache, auth), "/_open"))


def test_apache_token_via_setenv_needs_wsgipassauthorization(apache):
    assert apache.get("/_venvprobe/identity")[0] == 404
    assert apache.get("/_venvprobe/identity", headers=bearer("wrong"))[0] == 404
    status, _, body = apache.get("/_venvprobe/identity?format=json", headers=bearer())
    assert status == 200, (body[:300], apache.logs())
    assert request(apache, "PUT", "/_venvprobe/", headers=bearer())[0] == 405
    assert request(apache, "PUT", "/_venvprobe/")[0] == 404
    assert_no_secrets(every_body(getter(apache, bearer()), "/_venvprobe"))
    # Without WSGIPassAuthorization On, mod_wsgi never hands the Authorization
    # header to the app: the right token gets the same 404 as no token.
    assert apache.get("/_nopass/identity", headers=bearer())[0] == 404


# --------------------------------------------------------------------------
# uWSGI


def test_uwsgi_env_secrets_absent(uwsgi):
    auth = own(uwsgi)
    status, _, body = uwsgi.get("/identity?format=json", headers=auth)
    assert status == 200, (body[:300], uwsgi.logs())
    server = json.loads(body)["identity"]["server"]
    assert server["kind"] == "uwsgi"
    # uwsgi.opt keeps the last `env =` line; its value is masked, the name kept.
    assert server["options"]["env"].startswith("AWS_SECRET_ACCESS_KEY=[secret:"), server["options"]
    assert_no_secrets(every_body(getter(uwsgi, auth), ""))


# --------------------------------------------------------------------------
# a same-host reverse proxy that adds no headers (socat, haproxy mode tcp,
# nginx stream), in front of the probe, with a real remote client


class HeaderlessProxy:
    """A TCP relay in the server's namespace: client <-> 127.0.0.1:<upstream>, bytes only."""

    def __init__(self, netns: str, listen_addr: str, upstream_port: int) -> None:
        self.netns, self.listen_addr, self.upstream_port = netns, listen_addr, upstream_port
        self.port = 0
        self.relayed = 0
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "proxy did not start"

    def _run(self) -> None:
        # setns() is per thread: every socket this thread opens (the listener
        # and each upstream connection) lives in the server's namespace.
        with ph.in_netns(self.netns):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.listen_addr, 0))
            listener.listen(16)
            listener.settimeout(0.2)
            self.port = listener.getsockname()[1]
            self._ready.set()
            try:
                while not self._closed.is_set():
                    try:
                        conn, _ = listener.accept()
                    except socket.timeout:
                        continue
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
                    for src, dst in ((conn, upstream), (upstream, conn)):
                        threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()
            finally:
                listener.close()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.relayed += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)


@pytest.fixture(scope="module")
def tcp_proxy(netns: ph.NetnsPair, gu_ns: servers.GunicornServer) -> Iterator[HeaderlessProxy]:
    proxy = HeaderlessProxy(netns.server_ns, netns.server_addr, gu_ns.port)
    yield proxy
    proxy.close()


def _through_proxy(pair: ph.NetnsPair, proxy: HeaderlessProxy, path: str,
                   headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    with ph.in_netns(pair.client_ns):
        return servers.http_get(f"http://{pair.server_addr}:{proxy.port}{path}", headers=headers, timeout=30)


def test_remote_client_through_a_headerless_same_host_proxy_gets_nothing(netns, gu_ns, tcp_proxy):
    before = tcp_proxy.relayed
    report_bytes = 0
    answers = 0
    variants: List[Optional[Dict[str, str]]] = [None, bearer(), {"Accept": "application/json"}] + list(PROXY_HEADERS)
    for headers in variants:
        for sub in SUBRESOURCES + ["metrics"]:
            for fmt in (FORMATS if headers is None else ["json"]):
                status, resp_headers, body = _through_proxy(netns, tcp_proxy, f"/{sub}?format={fmt}", headers)
                answers += 1
                assert (status, body) == (404, b"Not Found\n"), (sub, fmt, headers, status, body[:200])
                assert not any(h.startswith("x-venvprobe") for h in resp_headers)
                if status == 200:
                    report_bytes += len(body)
    assert report_bytes == 0
    assert tcp_proxy.relayed > before  # the requests really went through the relay to the probe
    # The probe saw loopback (that is what such a proxy does) and still said no.
    assert "venvprobe: denied 127.0.0.1: missing or wrong bearer token" in gu_ns.console_log()
    assert answers > 50


def test_person_on_the_host_gets_the_report_with_one_fetch(netns, gu_ns, tcp_proxy, venv):
    """The documented step: `venvprobe fetch http://127.0.0.1:PORT/` as the app's user, on the host."""
    uid, home, _ = ph.server_identity(gu_ns)
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
    with ph.in_netns(netns.server_ns):
        res = subprocess.run([str(venv.bin / "venvprobe"), "fetch", f"http://127.0.0.1:{gu_ns.port}/"],
                             env=env, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    report = json.loads(res.stdout)
    assert report["probe"]["mount"] == "wsgi-script" and report["interpreter"]["prefix"] == str(venv.root)
    # The token never leaves the host: the same fetch through the proxy's
    # outside address sends no token and gets the 404.
    with ph.in_netns(netns.server_ns):
        res = subprocess.run([str(venv.bin / "venvprobe"), "fetch", "--retries", "0",
                              f"http://{netns.server_addr}:{tcp_proxy.port}/"],
                             env=env, capture_output=True, timeout=120)
    assert res.returncode == 2 and b"404" in res.stderr, res.stderr.decode()


def test_person_on_the_host_fetches_from_apache_as_www_data(apache, venv):
    """www-data cannot write /var/www: the probe's token is in $TMPDIR/venvprobe-<uid>/, and
    `venvprobe fetch` run as www-data finds it there."""
    own(apache, "/_open/identity")
    uid, home, tmp = ph.server_identity(apache)
    res = subprocess.run([str(venv.bin / "venvprobe"), "fetch", f"http://127.0.0.1:{apache.port}/_open/"],
                         env={"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "TMPDIR": tmp},
                         user=uid, capture_output=True, timeout=120, cwd="/")
    assert res.returncode == 0, res.stderr.decode()
    assert json.loads(res.stdout)["identity"]["server"]["kind"] == "mod_wsgi"


# --------------------------------------------------------------------------
# the token file is read bounded and never blocks


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge", "directory", "binary", "two-words"])
def test_unusable_token_file_is_refused_logged_and_locks_without_hanging(tmp_path, kind):
    import io

    from venvprobe.middleware import ProbeMiddleware
    from venvprobe.probe import ProbeConfig

    path = tmp_path / "token"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "huge":
        path.write_bytes(b"A" * (1 << 20))
    elif kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00tok")
    else:
        path.write_text("two words\n")
    app = ProbeMiddleware(lambda e, s: [b""], config=ProbeConfig(token_file=str(path)))
    errors = io.StringIO()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/_venvprobe/identity", "QUERY_STRING": "",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_AUTHORIZATION": "Bearer two", "wsgi.errors": errors}
    result: List[Any] = []

    def call() -> None:
        captured: List[str] = []
        body = b"".join(app(environ, lambda status, headers, exc=None: captured.append(status)))
        result.append((captured[0], body))

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "reading the token file blocked the request"
    assert result == [("404 Not Found", b"Not Found\n")]
    assert "refused" in errors.getvalue() or "unreadable" in errors.getvalue(), errors.getvalue()
