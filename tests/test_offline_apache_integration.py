"""Real Apache + Debian mod_wsgi with broken configurations: the offline tools must name cause and fix.

Each test starts a private httpd (tests/servers.py) with one of the
configurations that kill or silently mislead the embedded interpreter,
captures the REAL error log, and runs ``check-home``, ``check-apache`` (on the
very httpd.conf Apache ran) and ``explain-log`` (on the very log it wrote)
through the CLI.  Where Python does start, the predicted sys.path of
check-home is compared with what the app really got.

Set VENVPROBE_SAVE_OFFLINE_FIXTURES=1 to refresh the log fixtures in
tests/data/offline/ used by the Apache-free unit tests.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

import servers
from offline_helpers import finding, run_cli, run_json, save_fixture, write_app
from report_helpers import pyenv_python

pytestmark = pytest.mark.servers

PYENV_311 = pyenv_python("3.11") or "pyenv-python3.11"
DIRECTORY = """
<Directory {tmp}>
    Require all granted
</Directory>
"""
FATAL = r"Fatal Python error"


def _three(log: Path, conf: Path, home: str, code: str, *extra_home_args: str):
    """explain-log, check-apache and check-home results (each asserted to exit 1 = findings)."""
    rc_log, explained = run_json("explain-log", str(log))
    rc_conf, configured = run_json("check-apache", str(conf))
    rc_home, homed = run_json("check-home", home, *extra_home_args)
    for name, rc, res in (("explain-log", rc_log, explained), ("check-apache", rc_conf, configured),
                          ("check-home", rc_home, homed)):
        assert rc == 1, f"{name} should report {code}: {json.dumps(res['findings'], indent=1)}"
        finding(res, code)
    return explained, configured, homed


def _text_names(command: list, code: str, fix_words: str) -> None:
    """The human output names the code and the fix too (not only the JSON)."""
    rc, out, err = run_cli(*command)
    assert rc == 1, err
    assert code in out and fix_words in out, out


@pytest.mark.parametrize("case", ["bin-python", "lib-python", "private-dir", "unreadable-cfg"])
def test_home_that_kills_startup(case, apache_factory, venv_factory, shared_tmp):
    """python-home=<venv>/bin/python, =<venv>/lib/python3.11, venv under a 0700 dir, pyvenv.cfg 0600 root."""
    if case == "private-dir":
        private = shared_tmp / "private"
        private.mkdir()
        venv = venv_factory("private/venv")
        os.chmod(private, 0o700)
    else:
        venv = venv_factory("venv")
    home = {"bin-python": f"{venv.root}/bin/python", "lib-python": f"{venv.root}/lib/python3.11"}.get(case, str(venv.root))
    if case == "unreadable-cfg":
        os.chmod(venv.root / "pyvenv.cfg", 0o600)
        assert os.stat(venv.root / "pyvenv.cfg").st_uid == 0 or os.geteuid() != 0
    write_app(shared_tmp)
    server = apache_factory(f"WSGIDaemonProcess g python-home={home} processes=1 threads=2\n"
                            "WSGIScriptAlias / {tmp}/app.wsgi process-group=g application-group=%{GLOBAL}\n"
                            + DIRECTORY, substitutions={"tmp": shared_tmp})
    server.wait_for_log(FATAL)
    server.stop()
    log = server.error_log()
    assert "No module named 'encodings'" in log
    save_fixture(f"{case}.log", log, shared_tmp)

    code = {"bin-python": "python-home-not-venv-root", "lib-python": "python-home-not-venv-root",
            "private-dir": "python-home-inaccessible", "unreadable-cfg": "pyvenv-cfg-unreadable"}[case]
    explained, configured, homed = _three(server.error_log_path, server.conf_path, home, code)
    for res in (explained, configured, homed):
        f = finding(res, code)
        if code == "python-home-not-venv-root":
            assert f"python-home={venv.root}" in f["message"], f["message"]
            assert "pyvenv.cfg" in f["fix"]
        elif code == "python-home-inaccessible":
            assert "chmod" in f["fix"] and "www-data" in f["fix"]
        else:
            assert "chmod 644" in f["fix"]
    if case == "private-dir":
        assert "private" in finding(homed, code)["message"]  # names the blocking directory
    # The prediction reproduces the failure Apache logged, with the same sys.prefix.
    pred = homed["facts"]["prediction"]
    assert pred["ok"] is False and "encodings" in (pred["exception"] or "")
    assert f"sys.prefix = '{pred['path_config']['values']['sys.prefix']}'" in log
    _text_names(["check-home", home], code, finding(homed, code)["fix"][:30])


def test_venv_made_by_pyenv_python(apache_factory, venv_factory, shared_tmp):
    """Same 3.11, other installation: mod_wsgi starts, silently on Debian's stdlib; all three tools say so."""
    servers.require(PYENV_311)
    venv = venv_factory("venv", python=PYENV_311)
    write_app(shared_tmp)
    server = apache_factory(f"WSGIDaemonProcess g python-home={venv.root} processes=1 threads=2\n"
                            "WSGIScriptAlias / {tmp}/app.wsgi process-group=g application-group=%{GLOBAL}\n"
                            + DIRECTORY, substitutions={"tmp": shared_tmp})
    status, _, body = server.get("/")
    assert status == 200, server.logs()
    real_prefix, real_path = body.decode().split(" ", 1)
    server.stop()
    log = server.error_log()
    assert FATAL not in log
    save_fixture("pyenv-venv.log", log, shared_tmp)

    explained, configured, homed = _three(server.error_log_path, server.conf_path, str(venv.root),
                                          "venv-python-mismatch")
    f = finding(homed, "venv-python-mismatch")
    assert os.path.dirname(os.path.dirname(PYENV_311)) in f["message"] and "3.11.2" in f["message"]
    assert "/usr/bin/python3 -m venv" in f["fix"]
    # check-home predicted exactly what the daemon got.
    predicted = homed["facts"]["prediction"]["values"]
    assert predicted["prefix"] == real_prefix == str(venv.root)
    assert repr(predicted["path"]) == real_path
    assert predicted["base_prefix"] == "/usr"


def test_daemon_group_not_delegated(apache_factory, venv_factory, shared_tmp):
    """WSGIDaemonProcess without WSGIProcessGroup: the app silently runs embedded, without the venv."""
    venv = venv_factory("venv")
    write_app(shared_tmp)
    server = apache_factory(f"WSGIDaemonProcess g python-home={venv.root} processes=1 threads=2\n"
                            "WSGIScriptAlias / {tmp}/app.wsgi\n" + DIRECTORY, substitutions={"tmp": shared_tmp})
    status, _, body = server.get("/")
    assert status == 200 and body.startswith(b"/usr "), body  # embedded: Debian's prefix, not the venv
    server.stop(timeout=3)  # an embedded interpreter makes httpd's children slow to exit
    save_fixture("not-delegated.log", server.error_log(), shared_tmp)

    rc, explained = run_json("explain-log", str(server.error_log_path))
    f = finding(explained, "daemon-group-unused")
    assert "'g'" in f["message"] and "app.wsgi" in f["message"]
    rc2, configured = run_json("check-apache", str(server.conf_path))
    f2 = finding(configured, "daemon-group-unused")
    assert "WSGIProcessGroup" in f2["fix"] and "WSGIRestrictEmbedded On" in f2["fix"]
    assert rc == rc2 == 1
    app = configured["facts"]["apps"][0]
    assert app["mode"] == "embedded" and app["python_home"] is None
    # The home itself is fine: check-home has nothing to say about delegation.
    assert run_json("check-home", str(venv.root))[0] == 0


def test_python_home_inside_virtualhost(apache_factory, venv_factory, shared_tmp):
    """httpd refuses the config; check-apache says why before deploy, explain-log from httpd's output."""
    venv = venv_factory("venv")
    write_app(shared_tmp)
    server = apache_factory("<VirtualHost *:{port}>\n"
                            f"    WSGIPythonHome {venv.root}\n"
                            "    WSGIScriptAlias / {tmp}/app.wsgi\n</VirtualHost>\n" + DIRECTORY,
                            substitutions={"tmp": shared_tmp}, start=False)
    ok, output = server.configtest()
    assert not ok and "cannot occur within <VirtualHost> section" in output
    with pytest.raises(servers.ServerStartError):
        server.start()
    console = shared_tmp / "httpd-start.log"
    console.write_text(server.console_log())
    save_fixture("vhost-python-home.log", server.console_log(), shared_tmp)

    rc, explained = run_json("explain-log", str(console))
    f = finding(explained, "global-only-directive-in-virtualhost")
    assert "WSGIPythonHome" in f["message"] and str(server.conf_path) in f["message"]
    rc2, configured = run_json("check-apache", str(server.conf_path))
    f2 = finding(configured, "global-only-directive-in-virtualhost")
    assert f"{server.conf_path}:" in f2["message"] and "python-home=" in f2["fix"]
    assert rc == rc2 == 1
    assert run_json("check-home", str(venv.root))[0] == 0


def test_pythonhome_in_apache_environment(apache_factory, venv_factory, shared_tmp):
    """PYTHONHOME in Apache's environment (envvars) beats python-home: explain-log and check-apache see it."""
    venv = venv_factory("venv")
    write_app(shared_tmp)
    server = apache_factory(f"WSGIDaemonProcess g python-home={venv.root} processes=1 threads=2\n"
                            "WSGIScriptAlias / {tmp}/app.wsgi process-group=g\n" + DIRECTORY,
                            substitutions={"tmp": shared_tmp}, env={"PYTHONHOME": "/opt/nowhere"})
    server.wait_for_log(FATAL)
    server.stop()
    save_fixture("pythonhome-env.log", server.error_log(), shared_tmp)
    rc, explained = run_json("explain-log", str(server.error_log_path))
    f = finding(explained, "pythonhome-from-env")
    assert "/opt/nowhere" in f["message"] and str(venv.root) in f["message"]
    assert "envvars" in f["fix"]
    envvars = shared_tmp / "envvars"
    envvars.write_text("export APACHE_RUN_USER=www-data\nexport PYTHONHOME=/opt/nowhere\n")
    rc2, configured = run_json("check-apache", str(server.conf_path), "--envvars", str(envvars))
    assert finding(configured, "pythonhome-from-env")["severity"] == "error"
    assert rc == rc2 == 1


def test_restricted_embedded_and_undefined_group(apache_factory, venv_factory, shared_tmp):
    """WSGIRestrictEmbedded On + an undelegated app, and process-group= naming no group: both HTTP 500."""
    venv = venv_factory("venv")
    write_app(shared_tmp)
    write_app(shared_tmp, "other.wsgi")
    server = apache_factory("WSGIRestrictEmbedded On\n"
                            f"WSGIDaemonProcess g python-home={venv.root} processes=1 threads=2\n"
                            "WSGIScriptAlias /a {tmp}/app.wsgi\n"
                            "WSGIScriptAlias /b {tmp}/other.wsgi process-group=nope\n" + DIRECTORY,
                            substitutions={"tmp": shared_tmp})
    assert server.get("/a")[0] == 500
    assert server.get("/b")[0] == 500
    server.stop()
    save_fixture("restrict-nogroup.log", server.error_log(), shared_tmp)
    rc, explained = run_json("explain-log", str(server.error_log_path))
    rc2, configured = run_json("check-apache", str(server.conf_path))
    for res in (explained, configured):
        assert "app.wsgi" in finding(res, "embedded-mode-disabled")["message"]
        assert "nope" in finding(res, "daemon-group-undefined")["message"]
    assert rc == rc2 == 1


def test_one_finding_per_cause_in_a_mixed_log(apache_factory, venv_factory, shared_tmp):
    """Four broken daemon groups in one httpd: interleaved dumps, one finding per (cause, home)."""
    good = venv_factory("venv")
    private = shared_tmp / "private"
    private.mkdir()
    hidden = venv_factory("private/venv")
    os.chmod(private, 0o700)
    locked = venv_factory("locked")
    os.chmod(locked.root / "pyvenv.cfg", 0o600)
    write_app(shared_tmp)
    homes = {"gbin": f"{good.root}/bin/python", "glib": f"{good.root}/lib/python3.11",
             "gpriv": str(hidden.root), "gcfg": str(locked.root)}
    conf = "".join(f"WSGIDaemonProcess {g} python-home={h} processes=1 threads=1\n"
                   f"WSGIScriptAlias /{g} {{tmp}}/app.wsgi process-group={g}\n" for g, h in homes.items())
    server = apache_factory(conf + DIRECTORY, substitutions={"tmp": shared_tmp})
    deadline = time.monotonic() + 15
    while server.error_log().count("No module named 'encodings'") < 8 and time.monotonic() < deadline:
        time.sleep(0.2)
    server.stop()
    save_fixture("mixed.log", server.error_log(), shared_tmp)
    rc, explained = run_json("explain-log", str(server.error_log_path))
    got = sorted((f["code"], f["data"].get("home")) for f in explained["findings"])
    assert got == sorted([("python-home-not-venv-root", homes["gbin"]), ("python-home-not-venv-root", homes["glib"]),
                          ("python-home-inaccessible", homes["gpriv"]), ("pyvenv-cfg-unreadable", homes["gcfg"])]), got
    rc2, configured = run_json("check-apache", str(server.conf_path))
    assert {f["code"] for f in configured["findings"]} >= {"python-home-not-venv-root", "python-home-inaccessible",
                                                           "pyvenv-cfg-unreadable"}
    assert rc == rc2 == 1
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o700  # nothing was "fixed" behind our back


REPORT_WSGI = """\
import json
import sys

sys.path.insert(0, {lib!r})
from venvprobe.report import build_report


def application(environ, start_response):
    body = json.dumps(build_report()).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
"""


def test_config_expectations_match_the_live_interpreter(apache_factory, venv_factory, shared_tmp):
    """check-apache --expectations says what the live app will report; compare agrees with the real daemon."""
    import shutil

    venv = venv_factory("venv")
    lib = shared_tmp / "lib"
    shutil.copytree(servers.REPO_ROOT / "venvprobe", lib / "venvprobe",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    servers.make_world_readable(lib)
    script = shared_tmp / "report.wsgi"
    script.write_text(REPORT_WSGI.format(lib=str(lib)))
    os.chmod(script, 0o644)
    server = apache_factory(f"WSGIDaemonProcess shop python-home={venv.root} processes=1 threads=2\n"
                            "WSGIScriptAlias /report {tmp}/report.wsgi process-group=shop "
                            "application-group=%{GLOBAL}\n" + DIRECTORY, substitutions={"tmp": shared_tmp})
    status, _, body = server.get("/report")
    assert status == 200, server.logs()
    report = shared_tmp / "report.json"
    report.write_bytes(body)
    server.stop()
    out_dir = shared_tmp / "expect"
    rc, configured = run_json("check-apache", str(server.conf_path), "--expectations", str(out_dir))
    assert rc == 0, configured["findings"]
    [toml] = sorted(out_dir.glob("*.toml"))
    text = toml.read_text()
    assert 'mode = "daemon"' in text and 'process_group = "shop"' in text and f'prefix = "{venv.root}"' in text
    rc, out, err = run_cli("compare", str(toml), str(report))
    assert rc == 0, out + err
