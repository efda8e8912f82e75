"""Every folder in deploy_examples/, run for real.

Each test copies one example folder into a fresh www-data-readable
directory, replaces ``/srv/example`` with that directory, creates the venv
from Debian's /usr/bin/python3 (the interpreter Debian's mod_wsgi and the
uWSGI python3 plugin embed) with venvprobe installed, starts the real server
(Apache + mod_wsgi, uWSGI, gunicorn) on 127.0.0.1 and asserts what the
probe's JSON says about the interpreter that answered — and that the app's
own responses pass through the probe untouched.

Scenarios beyond the examples: the probe at its own URL without the app's
groups (finding ``probe-alone``), a package shadowed because a second venv
was added with plain ``site.addsitedir``, and the WSGIScriptAlias order
catch (the probe's alias must precede ``WSGIScriptAlias /``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import probe_helpers as ph
import schema_helpers
import servers

pytestmark = pytest.mark.servers

JSON = {"Accept": "application/json"}

#: Example folder -> the test that runs it (keeps "every folder is tested" honest).
COVERED = {
    "apache-daemon-single": "test_apache_daemon_single",
    "apache-daemon-two-apps": "test_apache_daemon_two_apps",
    "apache-embedded": "test_apache_embedded",
    "uwsgi-two-apps": "test_uwsgi_two_apps",
    "gunicorn-venv": "test_gunicorn_venv",
    "flask-blueprint": "test_flask_blueprint",
    "django-middleware": "test_django_middleware",
    "prometheus": "test_prometheus_rules",
}


@pytest.fixture(scope="module")
def house() -> Path:
    return ph.probe_house()


def probe_json(server: servers.BaseServer, path: str) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """GET a probe URL as JSON; returns (headers, data); fails with the server logs."""
    import json

    # The default way in: the token the probe made for itself, readable on the host.
    status, headers, body = server.get(path, headers=dict(JSON, **ph.bearer_for(server, path)), timeout=30)
    assert status == 200, f"GET {path} -> {status}: {body[:2000]!r}\n{server.logs()}"
    assert headers["content-type"].startswith("application/json"), headers
    data = json.loads(body)
    # Every document a probe serves under a real server matches the schema the package ships.
    schema_helpers.assert_valid(data, "identity" if path.split("?")[0].rstrip("/").endswith("/identity") else "report")
    return headers, data


def app_text(server: servers.BaseServer, path: str) -> str:
    status, headers, body = server.get(path)
    assert status == 200, f"GET {path} -> {status}: {body[:2000]!r}\n{server.logs()}"
    # The app's own response: no probe headers added on the way through.
    assert not any(h.startswith("x-venvprobe") for h in headers), headers
    return body.decode()


def codes(report: Dict[str, Any]) -> List[str]:
    return [f["code"] for f in report.get("findings") or []]


def server_of(report: Dict[str, Any]) -> Dict[str, Any]:
    return report["identity"]["server"]


def _apache_config(app: Path) -> str:
    return (app / "apache.conf").read_text()


# --------------------------------------------------------------------------
# bookkeeping


def test_repo_wheel_contains_the_probe(house):
    """``pip install venvprobe`` must install the probe (sub-packages included)."""
    problem = ph.repo_wheel_problem()
    assert problem is None, problem


def test_every_example_folder_is_tested():
    assert sorted(COVERED) == ph.example_names()
    names = {n for n in globals() if n.startswith("test_")}
    assert set(COVERED.values()) <= names


# --------------------------------------------------------------------------
# Prometheus: the scrape config and rules pass promtool; the rules' unit tests pass.
# (tests/test_prometheus_live.py runs them in a real Prometheus against real servers.)


def test_prometheus_rules(tmp_path):
    import subprocess

    servers.require("promtool")
    folder = ph.EXAMPLES / "prometheus"
    for args in (["check", "config", "--syntax-only", "prometheus.yml"],
                 ["check", "rules", "venvprobe-rules.yml"],
                 ["test", "rules", "venvprobe-rules.test.yml"]):
        proc = subprocess.run(["promtool", *args], cwd=folder, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"promtool {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
        assert "SUCCESS" in proc.stdout + proc.stderr
    # The rules' tests fail when a rule is broken: a diverging target that no longer fires.
    broken = tmp_path / "prometheus"
    shutil.copytree(folder, broken)
    rules = broken / "venvprobe-rules.yml"
    rules.write_text(rules.read_text().replace("expr: venvprobe:fingerprints:count5m > 1",
                                               "expr: venvprobe:fingerprints:count5m > 2"))
    proc = subprocess.run(["promtool", "test", "rules", "venvprobe-rules.test.yml"], cwd=broken,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "VenvprobeWorkersDiverge" in proc.stdout + proc.stderr


# --------------------------------------------------------------------------
# Apache + mod_wsgi


def test_apache_daemon_single(apache_factory, shared_tmp, house):
    app = ph.copy_example("apache-daemon-single", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    apache = apache_factory(_apache_config(app))

    assert app_text(apache, "/") == "hello from the app\n"
    headers, report = probe_json(apache, "/_venvprobe/")
    interp, ident, srv = report["interpreter"], report["identity"], server_of(report)
    assert interp["prefix"] == str(venv.root)  # python-home=/srv/example/venv
    assert interp["base_prefix"] == "/usr"
    assert interp["in_venv"] is True
    assert interp["executable"] == str(venv.python)
    assert srv["kind"] == "mod_wsgi"
    assert srv["mode"] == "daemon" and srv["process_group"] == "myapp"
    # WSGIApplicationGroup %{GLOBAL}: the main interpreter, group ''.
    assert srv["application_group"] == ""
    assert ident["main_interpreter"] is True and ident["interpreter_id"] == 0
    assert ident["pid"] != apache.pid and ident["ppid"] == apache.pid  # a daemon process
    assert headers["x-venvprobe-pid"] == str(ident["pid"])
    assert headers["x-venvprobe-interpreter"] == "0"
    assert report["probe"]["mount"] == "wsgi-script"
    # Probe and app share the interpreter: both scripts are loaded there, so
    # the probe is not "alone".
    files = {s["file"] for s in report["modules"]["wsgi_scripts"]}
    assert {str(app / "app.wsgi"), str(app / "probe.wsgi")} <= files
    assert "probe-alone" not in codes(report)
    assert "venv-python-mismatch" not in codes(report)
    # The probe knows which loaded script is its own one-liner.
    assert report["probe"]["own_scripts"] == [str(app / "probe.wsgi")]

    _, ident_only = probe_json(apache, "/_venvprobe/identity")
    assert ident_only["identity"]["pid"] == ident["pid"]
    assert ident_only["interpreter"]["prefix"] == str(venv.root)

    # This is the recommended setup, so it must not be reported as "several
    # apps in one interpreter": the probe's own script is not an app.
    assert "several-apps-one-interpreter" not in codes(report)


def test_apache_daemon_two_apps(apache_factory, shared_tmp, house):
    app = ph.copy_example("apache-daemon-two-apps", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    # Beyond the example: the probe at its own URL, in the same daemon group
    # but WITHOUT an application group, i.e. in a sub-interpreter of its own.
    (app / "probe.wsgi").write_text("from venvprobe.wsgi import application  # noqa: F401\n")
    servers.make_world_readable(app)
    config = _apache_config(app) + f"\nWSGIScriptAlias /_venvprobe {app}/probe.wsgi\n"
    apache = apache_factory(config)

    assert app_text(apache, "/app1/") == "hello from app1\n"
    assert app_text(apache, "/app2/anything?x=1") == "hello from app2\n"
    _, r1 = probe_json(apache, "/app1/_venvprobe/")
    _, r2 = probe_json(apache, "/app2/_venvprobe/")
    for r in (r1, r2):
        assert r["interpreter"]["prefix"] == str(venv.root)
        assert server_of(r)["mode"] == "daemon" and server_of(r)["process_group"] == "myapps"
        assert r["identity"]["main_interpreter"] is False  # per-URL sub-interpreters
        assert r["probe"]["mount"] == "middleware"
        assert "probe-alone" not in codes(r)
    # One daemon process (processes=1), two interpreters.
    assert r1["identity"]["pid"] == r2["identity"]["pid"]
    assert r1["identity"]["interpreter_id"] != r2["identity"]["interpreter_id"]
    # mod_wsgi's default application group (%{RESOURCE}) is
    # "<ServerName>:<port>|<mount point>" (the port because it is not 80).
    assert server_of(r1)["application_group"] == f"127.0.0.1:{apache.port}|/app1"
    assert server_of(r2)["application_group"] == f"127.0.0.1:{apache.port}|/app2"
    assert [s["file"] for s in r1["modules"]["wsgi_scripts"]] == [str(app / "app1.wsgi")]
    assert [s["file"] for s in r2["modules"]["wsgi_scripts"]] == [str(app / "app2.wsgi")]

    # The probe alone at its own URL: a third interpreter, and it says so.
    _, alone = probe_json(apache, "/_venvprobe/")
    assert server_of(alone)["application_group"] == f"127.0.0.1:{apache.port}|/_venvprobe"
    assert alone["identity"]["interpreter_id"] not in (r1["identity"]["interpreter_id"],
                                                       r2["identity"]["interpreter_id"])
    assert "probe-alone" in codes(alone)
    assert alone["probe"]["own_scripts"] == [str(app / "probe.wsgi")]
    assert r1["probe"]["own_scripts"] == []  # the middleware is part of the app's script
    finding = next(f for f in alone["findings"] if f["code"] == "probe-alone")
    assert finding["severity"] == "warning"
    assert "application-group" in finding["fix"]
    # Prominent: the first lines of the plain-text page mention it.
    status, _, text = apache.get("/_venvprobe/", headers=ph.bearer_for(apache))
    assert status == 200
    assert "probe-alone" in text.decode().split("\n== ")[1]  # in the first (findings) table


def test_apache_embedded(apache_factory, shared_tmp, house):
    app = ph.copy_example("apache-embedded", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    apache = apache_factory(_apache_config(app))

    assert app_text(apache, "/") == "hello from the embedded app\n"
    assert app_text(apache, "/some/page") == "hello from the embedded app\n"
    headers, report = probe_json(apache, "/_venvprobe/")
    srv = server_of(report)
    assert report["interpreter"]["prefix"] == str(venv.root)  # WSGIPythonHome
    assert srv["mode"] == "embedded" and srv["process_group"] == ""
    assert srv["application_group"] == ""  # WSGIApplicationGroup %{GLOBAL}
    assert report["identity"]["main_interpreter"] is True
    assert report["identity"]["ppid"] == apache.pid  # an Apache child process
    assert report["probe"]["mount"] == "middleware"
    assert headers["x-venvprobe-pid"] == str(report["identity"]["pid"])


def test_shadowed_by_plain_addsitedir(apache_factory, shared_tmp, house):
    """python-home = venv A (shadowpkg 1.0); the WSGI script does
    site.addsitedir(<venv B site-packages>) where shadowpkg 2.0 lives."""
    venv_a = ph.make_probe_venv(shared_tmp / "venv-a")
    venv_b = servers.make_venv(shared_tmp / "venv-b")
    ph.write_dist(venv_a.site_packages, "shadowpkg", "1.0")
    ph.write_dist(venv_b.site_packages, "shadowpkg", "2.0")
    app = shared_tmp / "app"
    app.mkdir()
    (app / "app.wsgi").write_text(f'''
import site
site.addsitedir({str(venv_b.site_packages)!r})

import shadowpkg
from venvprobe.middleware import ProbeMiddleware


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("shadowpkg " + shadowpkg.__version__ + "\\n").encode()]


application = ProbeMiddleware(app)
''')
    servers.make_world_readable(shared_tmp)
    apache = apache_factory(f"""
WSGIDaemonProcess shadow python-home={venv_a.root} processes=1 threads=2
WSGIScriptAlias / {app}/app.wsgi process-group=shadow application-group=%{{GLOBAL}}
<Directory {app}>
    Require all granted
    WSGIPassAuthorization On
</Directory>
""")
    assert app_text(apache, "/") == "shadowpkg 1.0\n"
    _, report = probe_json(apache, "/_venvprobe/")
    assert report["interpreter"]["prefix"] == str(venv_a.root)
    items = [d for d in report["shadowed"]["distributions"] if d["name"] == "shadowpkg"]
    assert len(items) == 1, report["shadowed"]
    item = items[0]
    assert item["winner"]["version"] == "1.0"
    assert item["winner"]["location"] == str(venv_a.site_packages)
    assert [(l["version"], l["location"]) for l in item["losers"]] == [("2.0", str(venv_b.site_packages))]
    assert item["versions_differ"] is True
    # addsitedir appends: venv B's site-packages comes after venv A's.
    entries = {e["path"]: e for e in report["sys_path"]["entries"]}
    assert entries[str(venv_b.site_packages)]["index"] > entries[str(venv_a.site_packages)]["index"]
    found = [f for f in report["findings"] if f["code"] == "shadowed-distribution"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert found[0]["data"] == {"name": "shadowpkg", "winner": "1.0", "losers": ["2.0"]}
    assert "1.0" in found[0]["message"] and "2.0" in found[0]["message"]
    # The dedicated sub-resource says the same.
    _, sub = probe_json(apache, "/_venvprobe/shadowed")
    assert sub["shadowed"]["distributions"] == report["shadowed"]["distributions"]


# --------------------------------------------------------------------------
# uWSGI


def test_uwsgi_two_apps(uwsgi_factory, shared_tmp, house):
    app = ph.copy_example("uwsgi-two-apps", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    options = ph.uwsgi_ini_options(app / "uwsgi.ini")
    assert options["home"] == str(venv.root)
    uw = uwsgi_factory(options)

    assert app_text(uw, "/app1/") == "hello from app1\n"
    assert app_text(uw, "/app2/x") == "hello from app2\n"
    _, r1 = probe_json(uw, "/app1/_venvprobe/")
    _, r2 = probe_json(uw, "/app2/_venvprobe/")
    for r in (r1, r2):
        assert r["interpreter"]["prefix"] == str(venv.root)  # home =
        assert server_of(r)["kind"] == "uwsgi"
        assert r["identity"]["ppid"] == uw.pid  # a worker of our master
        assert r["probe"]["mount"] == "middleware"
    assert r1["identity"]["pid"] == r2["identity"]["pid"]  # processes = 1
    # What uWSGI 2.0 really does: the first mount gets the main interpreter,
    # the second a sub-interpreter.
    assert r1["identity"]["main_interpreter"] is True and r1["identity"]["interpreter_id"] == 0
    assert r2["identity"]["main_interpreter"] is False
    assert r1["identity"]["interpreter_id"] != r2["identity"]["interpreter_id"]
    # The cheap identity view agrees, and is answered by the same interpreters.
    _, i1 = probe_json(uw, "/app1/_venvprobe/identity")
    _, i2 = probe_json(uw, "/app2/_venvprobe/identity")
    assert i1["identity"]["interpreter_id"] == r1["identity"]["interpreter_id"]
    assert i2["identity"]["interpreter_id"] == r2["identity"]["interpreter_id"]


def test_uwsgi_probe_mounted_separately_runs_in_its_own_interpreter(uwsgi_factory, shared_tmp, house):
    """Beyond the example: ``mount = /_venvprobe=venvprobe.wsgi:application``
    next to the apps gives the probe a sub-interpreter of its own — a
    standalone look at the venv, not at either app's interpreter."""
    app = ph.copy_example("uwsgi-two-apps", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    options = ph.uwsgi_ini_options(app / "uwsgi.ini")
    options["mount"] = list(options["mount"]) + ["/_venvprobe=venvprobe.wsgi:application"]
    uw = uwsgi_factory(options)

    _, a1 = probe_json(uw, "/app1/_venvprobe/identity")
    _, a2 = probe_json(uw, "/app2/_venvprobe/identity")
    _, alone = probe_json(uw, "/_venvprobe/")
    assert alone["probe"]["mount"] == "wsgi-script"
    assert alone["interpreter"]["prefix"] == str(venv.root)
    assert alone["identity"]["main_interpreter"] is False
    ids = {a1["identity"]["interpreter_id"], a2["identity"]["interpreter_id"], alone["identity"]["interpreter_id"]}
    assert len(ids) == 3
    assert alone["identity"]["pid"] == a1["identity"]["pid"]
    assert "probe-alone" in codes(alone)
    # The probe's own Flask (MarkupSafe speedups) is not counted as the app's C extension.
    assert "c-extension-in-subinterpreter" not in codes(alone)


# --------------------------------------------------------------------------
# gunicorn, Flask, Django


def test_gunicorn_venv(gunicorn_factory, shared_tmp, house):
    app = ph.copy_example("gunicorn-venv", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv", packages=("venvprobe", "gunicorn"))
    conf = app / "gunicorn.conf.py"
    assert f'chdir = "{app}"' in conf.read_text()
    # The example's config file is used as is; the harness's --bind (a free
    # port) and --workers override its bind/workers on the command line.
    gu = gunicorn_factory(venv, "app:application", workers=2, extra_args=["-c", str(conf)], chdir=app)

    assert app_text(gu, "/") == "hello from gunicorn\n"
    headers, report = probe_json(gu, "/_venvprobe/")
    assert report["interpreter"]["prefix"] == str(venv.root)
    assert report["interpreter"]["executable"] == str(venv.python)
    assert server_of(report)["kind"] == "gunicorn"
    assert report["identity"]["ppid"] == gu.pid
    assert report["identity"]["main_interpreter"] is True
    assert report["process"]["cwd"] == str(app)
    assert report["probe"]["mount"] == "middleware"
    assert int(headers["x-venvprobe-pid"]) in gu.wait_for_workers()
    dists = {d["name"].lower(): d for d in report["distributions"]}
    assert dists["gunicorn"]["location"] == str(venv.site_packages)


def test_flask_blueprint(gunicorn_factory, shared_tmp, house):
    app = ph.copy_example("flask-blueprint", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv", packages=("venvprobe", "gunicorn"))
    gu = gunicorn_factory(venv, "app:app", chdir=app)

    assert app_text(gu, "/") == "hello from flask\n"
    status, _, body = gu.get("/no-such-page")
    assert status == 404 and b"Not Found" in body  # Flask's own 404 page
    assert b"<!doctype html>" in body.lower()
    _, report = probe_json(gu, "/_venvprobe/")
    assert report["probe"]["mount"] == "blueprint"
    assert report["interpreter"]["prefix"] == str(venv.root)
    assert server_of(report)["kind"] == "gunicorn"
    _, findings = probe_json(gu, "/_venvprobe/findings")
    assert findings["findings"] == report["findings"]


def test_django_middleware(gunicorn_factory, shared_tmp, house):
    app = ph.copy_example("django-middleware", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv", packages=("venvprobe", "gunicorn", "django"))
    gu = gunicorn_factory(venv, "mysite.wsgi:application", chdir=app)

    assert app_text(gu, "/") == "hello from django\n"
    status, _, body = gu.get("/no-such-page")
    assert status == 404 and b"Not Found" in body and b"venvprobe" not in body  # Django's 404
    _, report = probe_json(gu, "/_venvprobe/")
    assert report["probe"]["mount"] == "middleware"
    assert report["interpreter"]["prefix"] == str(venv.root)
    names = {d["name"].lower() for d in report["distributions"]}
    assert {"django", "venvprobe", "gunicorn"} <= names
    loaded = {m["name"] for m in report["modules"]["top_level"]}
    assert "django" in loaded and "mysite" in loaded
    assert report["environment"]["variables"].get("DJANGO_SETTINGS_MODULE") == "mysite.settings"
    _, ident = probe_json(gu, "/_venvprobe/identity")
    assert ident["identity"]["pid"] == report["identity"]["pid"]


def test_apache_probe_alias_must_come_before_the_root_alias(apache_factory, shared_tmp):
    """The catch documented in "Mounting the probe": mod_wsgi takes the FIRST
    WSGIScriptAlias that matches, so ``WSGIScriptAlias /`` placed before
    ``/_venvprobe`` swallows the probe's URL (the app answers it).  No venv
    needed: two plain scripts that say who they are."""
    for name in ("app", "probe"):
        (shared_tmp / f"{name}.wsgi").write_text(
            "def application(environ, start_response):\n"
            "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
            f"    return [b'{name}']\n")
    servers.make_world_readable(shared_tmp)
    directory = f"<Directory {shared_tmp}>\n    Require all granted\n</Directory>\n"
    wrong = apache_factory(f"WSGIScriptAlias / {shared_tmp}/app.wsgi\n"
                           f"WSGIScriptAlias /_venvprobe {shared_tmp}/probe.wsgi\n" + directory)
    assert wrong.get("/_venvprobe/")[2] == b"app"
    right = apache_factory(f"WSGIScriptAlias /_venvprobe {shared_tmp}/probe.wsgi\n"
                           f"WSGIScriptAlias / {shared_tmp}/app.wsgi\n" + directory)
    assert right.get("/_venvprobe/")[2] == b"probe"
    assert right.get("/other")[2] == b"app"
