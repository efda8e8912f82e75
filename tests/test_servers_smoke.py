"""Smoke tests for the real-server harness in tests/servers.py.

Each test starts a genuine server (Debian apache2 + mod_wsgi, Debian
uwsgi + python3 plugin, gunicorn from a venv) with a hello-world WSGI app
that reports what interpreter it got, and asserts facts we rely on:
which sys.prefix each configuration yields, which process/interpreter
serves the request, and that stop() leaves no process or port behind.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

import servers

pytestmark = pytest.mark.servers

# Runs inside the servers: must work on Debian's python3.11 with no extra
# packages, and must not crash when a module is absent.
HELLO_WSGI = r'''
import json, os, sys

def _info(environ):
    info = {
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "executable": sys.executable,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uid": os.getuid(),
        "sys_path": sys.path,
        "modules_id": id(sys.modules),
        "script_name": environ.get("SCRIPT_NAME"),
        "file": __file__,
    }
    try:
        import mod_wsgi
        info["mod_wsgi"] = {"process_group": mod_wsgi.process_group,
                            "application_group": mod_wsgi.application_group}
    except ImportError:
        info["mod_wsgi"] = None
    try:
        import uwsgi
        info["uwsgi"] = {"worker_id": uwsgi.worker_id()}
    except ImportError:
        info["uwsgi"] = None
    # Interpreter identity: _interpreters (3.13+) or _xxsubinterpreters
    # (3.8-3.12); interpreter 0 is the main interpreter.
    info["interp"] = None
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            mod = __import__(name)
            info["interp"] = {"module": name, "current": int(mod.get_current()),
                              "main": int(mod.get_main())}
            break
        except Exception as exc:
            info["interp_error_" + name] = repr(exc)
    try:
        import tabulate
        info["tabulate"] = tabulate.__file__
    except ImportError:
        info["tabulate"] = None
    return info

def application(environ, start_response):
    body = json.dumps(_info(environ)).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''

WWW_DATA_UID = pwd.getpwnam("www-data").pw_uid if os.geteuid() == 0 else os.geteuid()


def _write_app(directory: Path, name: str = "hello.wsgi") -> Path:
    path = directory / name
    path.write_text(HELLO_WSGI)
    servers.make_world_readable(directory)
    return path


def _get(server: servers.BaseServer, path: str) -> Dict[str, Any]:
    status, info = server.get_json(path)
    assert status == 200, (status, info, server.logs())
    return info


def _assert_fully_stopped(server: servers.BaseServer, worker_pids: Any) -> None:
    server.stop()
    assert server.pid is not None
    assert not servers.process_alive(server.pid)
    for pid in worker_pids:
        assert not servers.process_alive(pid), f"worker {pid} survived stop()"
    assert server.session_processes() == []
    assert not servers.port_is_open(server.port)


def test_apache_daemon_mode_python_home(apache_factory, venv_factory, shared_tmp):
    venv = venv_factory(packages=["tabulate"])
    app = _write_app(shared_tmp)
    apache = apache_factory(
        f"""
WSGIDaemonProcess probe python-home={venv.root} processes=1 threads=2
WSGIScriptAlias /global {app} process-group=probe application-group=%{{GLOBAL}}
WSGIScriptAlias /sub {app} process-group=probe application-group=sub
<Directory {shared_tmp}>
    Require all granted
</Directory>
"""
    )
    glob = _get(apache, "/global")
    sub = _get(apache, "/sub")

    for info in (glob, sub):
        assert info["prefix"] == str(venv.root)
        assert info["base_prefix"] == "/usr"
        # mod_wsgi points the interpreter at <python-home>/bin/python.
        assert info["executable"] == str(venv.python)
        assert info["tabulate"].startswith(str(venv.site_packages))
        assert info["uid"] == WWW_DATA_UID
        assert info["mod_wsgi"]["process_group"] == "probe"
        # The daemon is a child of our apache2, not the parent itself.
        assert info["ppid"] == apache.pid
    assert glob["pid"] == sub["pid"]  # processes=1: same daemon process
    assert glob["mod_wsgi"]["application_group"] == ""  # %{GLOBAL}
    assert sub["mod_wsgi"]["application_group"] == "sub"
    # %{GLOBAL} is the main interpreter, a named group a sub-interpreter.
    assert glob["interp"]["current"] == glob["interp"]["main"] == 0
    assert sub["interp"]["current"] != 0
    assert glob["modules_id"] != sub["modules_id"]
    print(f"\n[apache daemon] start {apache.startup_seconds:.2f}s GLOBAL={glob['interp']} sub={sub['interp']}")

    status, _, _ = apache.get("/missing")
    assert status == 404  # http_get returns, never raises, on 4xx
    _assert_fully_stopped(apache, [glob["pid"]])


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_apache_embedded_mode_python_home(apache_factory, venv_factory, shared_tmp, mpm):
    venv = venv_factory()
    app = _write_app(shared_tmp)
    apache = apache_factory(
        f"""
WSGIPythonHome {venv.root}
WSGIScriptAlias /hello {app}
WSGIScriptAlias /global {app} application-group=%{{GLOBAL}}
<Directory {shared_tmp}>
    Require all granted
</Directory>
""",
        mpm=mpm,
    )
    info = _get(apache, "/hello")
    glob = _get(apache, "/global")
    assert info["prefix"] == glob["prefix"] == str(venv.root)
    assert info["executable"] == str(venv.python)
    assert info["mod_wsgi"]["process_group"] == ""  # embedded mode
    # Default application group is %{RESOURCE}: "<server>[:port]|<script>",
    # i.e. a sub-interpreter even for a single app.
    assert info["mod_wsgi"]["application_group"] == f"127.0.0.1:{apache.port}|/hello"
    assert info["interp"]["current"] != 0
    assert glob["mod_wsgi"]["application_group"] == ""
    assert glob["interp"]["current"] == 0
    assert info["uid"] == WWW_DATA_UID
    assert info["ppid"] == apache.pid  # an MPM child process
    _assert_fully_stopped(apache, [info["pid"], glob["pid"]])
    # Under a threaded MPM the child that ran a sub-interpreter hangs in
    # Python finalisation at shutdown (mod_wsgi 4.9.4 + Python 3.11);
    # stop() SIGKILLs it after children_grace instead of waiting ~10 s.
    print(
        f"\n[apache embedded {mpm}] start {apache.startup_seconds:.2f}s "
        f"stop {apache.stop_seconds:.2f}s force_killed={apache.force_killed} "
        f"group={info['mod_wsgi']['application_group']!r} interp={info['interp']}"
    )


def test_apache_broken_daemon_still_starts_and_logs(apache_factory, shared_tmp):
    app = _write_app(shared_tmp)
    apache = apache_factory(
        f"""
WSGIDaemonProcess broken python-home=/nonexistent/venv processes=1 threads=1
WSGIScriptAlias /hello {app} process-group=broken application-group=%{{GLOBAL}}
<Directory {shared_tmp}>
    Require all granted
</Directory>
"""
    )
    # Apache itself is up; the daemon keeps dying while initialising Python.
    apache.wait_for_log(r"Unable to stat Python home /nonexistent/venv")
    apache.wait_for_log(r"Fatal Python error: init_fs_encoding")
    assert servers.process_alive(apache.pid)
    _assert_fully_stopped(apache, [])


def test_apache_configtest_and_start_error(apache_factory):
    bad = apache_factory("WSGIBogusDirective on\n", start=False)
    ok, output = bad.configtest()
    assert not ok and "WSGIBogusDirective" in output
    with pytest.raises(servers.ServerStartError, match="WSGIBogusDirective"):
        bad.start()
    good = apache_factory("", start=False)
    assert good.configtest() == (True, "Syntax OK\n")


def test_uwsgi_home_and_two_mounts(uwsgi_factory, venv_factory, shared_tmp):
    venv = venv_factory()
    a = _write_app(shared_tmp, "a.wsgi")
    b = _write_app(shared_tmp, "b.wsgi")
    uw = uwsgi_factory(
        {
            "home": str(venv.root),
            "mount": [f"/a={a}", f"/b={b}"],
            "manage-script-name": True,
        }
    )
    ia = _get(uw, "/a/x")
    ib = _get(uw, "/b/y")
    default = _get(uw, "/")  # no mount matches: uWSGI's default app (app 0)
    for info in (ia, ib):
        assert info["prefix"] == str(venv.root)
        assert info["base_prefix"] == "/usr"
        # uWSGI does not pretend to be the venv's python.
        assert os.path.basename(info["executable"]).startswith("uwsgi")
        assert info["uwsgi"]["worker_id"] == 1
        assert info["uid"] == WWW_DATA_UID
        assert info["ppid"] == uw.pid  # worker forked by the master
        assert str(venv.site_packages) in info["sys_path"]
    assert ia["script_name"] == "/a" and ib["script_name"] == "/b"
    # First mount -> main interpreter, later mounts -> sub-interpreters.
    assert ia["interp"]["current"] == 0
    assert ib["interp"]["current"] != 0
    assert ia["modules_id"] != ib["modules_id"]
    assert default["file"] == str(a)
    print(f"\n[uwsgi] start {uw.startup_seconds:.2f}s mount a={ia['interp']} b={ib['interp']} exe={ia['executable']}")
    _assert_fully_stopped(uw, [ia["pid"]])


def test_uwsgi_single_app_home(uwsgi_factory, venv_factory, shared_tmp):
    venv = venv_factory(tool="virtualenv")
    app = _write_app(shared_tmp)
    uw = uwsgi_factory({"home": str(venv.root), "wsgi-file": str(app), "processes": 2})
    info = _get(uw, "/")
    assert info["prefix"] == str(venv.root)
    assert info["interp"]["current"] == 0
    assert info["uwsgi"]["worker_id"] in (1, 2)
    _assert_fully_stopped(uw, [info["pid"]])


def test_gunicorn_serves_from_venv(gunicorn_factory, venv_factory, shared_tmp):
    venv = venv_factory(packages=["gunicorn"])
    app_dir = shared_tmp / "app"
    app_dir.mkdir()
    (app_dir / "hello.py").write_text(HELLO_WSGI)
    gu = gunicorn_factory(venv, "hello:application", workers=2, chdir=app_dir)
    info = _get(gu, "/")
    assert info["prefix"] == str(venv.root)
    assert info["executable"] == str(venv.python)
    assert info["mod_wsgi"] is None and info["uwsgi"] is None
    assert info["interp"]["current"] == 0
    assert info["ppid"] == gu.pid  # a worker, forked by the arbiter
    workers = gu.wait_for_workers()
    assert len(workers) == 2 and info["pid"] in workers
    print(f"\n[gunicorn] start {gu.startup_seconds:.2f}s exe={info['executable']}")
    _assert_fully_stopped(gu, workers)


def test_make_venv_tools(venv_factory):
    for tool in ("venv", "virtualenv"):
        venv = venv_factory(f"v-{tool}", tool=tool)
        cfg = (venv.root / "pyvenv.cfg").read_text()
        assert ("virtualenv" in cfg) == (tool == "virtualenv")
        out = venv.run("-c", "import sys; print(sys.prefix)").stdout.strip()
        assert out == str(venv.root)
        assert venv.site_packages.is_dir()
        mode = venv.root.stat().st_mode
        assert mode & 0o005 == 0o005  # others may read + traverse


def test_wheelhouse_contents(wheelhouse):
    names = {p.name.split("-")[0].lower() for p in wheelhouse.glob("*.whl")}
    assert {"flask", "psutil", "tabulate", "packaging", "gunicorn"} <= names
    # The repo's wheel may legitimately fail while the package is being
    # written; then the reason is recorded next to the wheels.
    assert servers.repo_wheel(wheelhouse) is not None or (
        wheelhouse / servers.REPO_WHEEL_ERROR
    ).exists()


def test_require_skips_or_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        servers.require("no-such-binary-venvprobe")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        servers.require("no-such-binary-venvprobe")
    servers.require("/usr/bin/env", "json")  # present: no-op


def test_www_data_can_read_shared_dirs(shared_tmp):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to www-data")
    app = _write_app(shared_tmp)
    res = subprocess.run(
        ["setpriv", "--reuid=www-data", "--regid=www-data", "--clear-groups", "cat", str(app)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert res.returncode == 0, res.stderr


def test_port_taken_by_someone_else(apache_factory):
    # A listener that is not ours must never be mistaken for readiness.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        taken = squatter.getsockname()[1]
        fixed = apache_factory("", port=taken, start=False)
        with pytest.raises(servers.ServerStartError, match="Address already in use"):
            fixed.start()
        # An auto-chosen port that got stolen is retried on a fresh port.
        auto = apache_factory("", start=False)
        auto.port = taken
        auto.start()
        assert auto.port != taken
        assert auto.get("/nothing-here")[0] == 404
