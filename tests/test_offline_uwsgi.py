"""check-uwsgi and explain-log on uWSGI: ini parsing, app/interpreter order, and a real uWSGI start."""

from __future__ import annotations

from pathlib import Path

import pytest

import servers
from offline_helpers import finding, run_cli, run_json, save_fixture, write_app
from venvprobe.offline import uwsgi_config as uc


def _ini(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_ini_parsing_apps_and_interpreters(tmp_path):
    ini = _ini(tmp_path / "app.ini", """\
[other]
home = /nowhere
[uwsgi]
plugins = http, python3
; comment
home = %dvenv
pythonpath = /srv/a
pp = /srv/b
mount = /one=/srv/one.wsgi
mount = /two=/srv/two.wsgi
module = main:app
env = PYTHONHOME=/opt/x
uid = www-data
""")
    cfg = uc.load(str(ini))
    assert cfg.home == f"{tmp_path}/venv"  # %d is the ini's directory
    assert cfg.pythonpath == ["/srv/a", "/srv/b"]
    assert cfg.python_plugin == "python3"
    assert cfg.env == {"PYTHONHOME": "/opt/x"}
    apps = cfg.apps()
    # module first (main interpreter), then the mounts in order (sub-interpreters)
    assert [(a.index, a.mountpoint, a.target, a.interpreter) for a in apps] == [
        (0, "", "main:app", "main interpreter"), (1, "/one", "/srv/one.wsgi", "sub-interpreter #1"),
        (2, "/two", "/srv/two.wsgi", "sub-interpreter #2")]
    with pytest.raises(uc.IniError):
        uc.load(str(ini), "missing")


def test_check_uwsgi_findings(tmp_path, venv_factory, shared_tmp):
    venv = venv_factory("venv")
    # A fake numpy (metadata only) is enough to know the venv is sub-interpreter-unsafe.
    (venv.site_packages / "numpy-1.26.0.dist-info").mkdir()
    write_app(shared_tmp, "one.wsgi")
    write_app(shared_tmp, "two.wsgi")
    ini = _ini(shared_tmp / "uwsgi.ini", f"""\
[uwsgi]
plugin = python3
home = {venv.root}
pythonpath = {venv.site_packages}
mount = /one={shared_tmp}/one.wsgi
mount = /two={shared_tmp}/two.wsgi
env = PYTHONHOME=/opt/nowhere
uid = www-data
""")
    rc, res = run_json("check-uwsgi", str(ini))
    assert rc == 1
    assert "single-interpreter = true" in finding(res, "c-extension-in-subinterpreter")["message"]
    assert "single-interpreter" in finding(res, "c-extension-in-subinterpreter")["fix"]
    assert finding(res, "pythonhome-from-env")
    assert [a["main_interpreter"] for a in res["facts"]["apps"]] == [True, False]
    assert res["facts"]["embedder"]["version"].startswith("3.11.")
    # single-interpreter makes the sub-interpreter finding go away
    ini.write_text(ini.read_text().replace("env = PYTHONHOME=/opt/nowhere\n", "single-interpreter = true\n"))
    rc, res = run_json("check-uwsgi", str(ini))
    assert rc == 0, res["findings"]
    rc, out, err = run_cli("check-uwsgi", str(tmp_path / "missing.ini"))
    assert rc == 2 and "does not exist" in err


def test_check_apache_points_uwsgi_files_to_check_uwsgi(tmp_path):
    ini = _ini(tmp_path / "x.ini", "[uwsgi]\nplugin = python3\n")
    rc, out, err = run_cli("check-apache", str(ini))
    assert rc == 2 and "check-uwsgi" in err


@pytest.mark.servers
def test_real_uwsgi_with_bin_python_home(uwsgi_factory, venv_factory, shared_tmp):
    """home = <venv>/bin/python under the real uWSGI: explain-log and check-uwsgi name cause and fix."""
    venv = venv_factory("venv")
    app = write_app(shared_tmp)
    server = uwsgi_factory({"home": f"{venv.root}/bin/python", "wsgi-file": str(app)}, start=False)
    try:
        server.start()
        server.wait_for_log("Fatal Python error")
    except servers.ServerStartError:
        pass  # uWSGI may exit before binding: the log is what matters
    server.stop()
    log = server.console_log()
    assert "Python Home is not a directory" in log and "No module named 'encodings'" in log
    save_fixture("uwsgi-bin-python.log", log, shared_tmp)
    rc, explained = run_json("explain-log", str(server.console_log_path))
    f = finding(explained, "python-home-not-venv-root")
    assert f"home={venv.root}" in f["message"] and "home = <venv root>" in f["fix"]
    assert explained["facts"]["server"] == "uwsgi"
    rc2, checked = run_json("check-uwsgi", str(server.ini_path))
    f2 = finding(checked, "python-home-not-venv-root")
    assert f"use home={venv.root}" in f2["message"]
    assert rc == rc2 == 1
    # and the fixed ini is clean
    fixed = shared_tmp / "fixed.ini"
    fixed.write_text(server.ini_path.read_text().replace(f"{venv.root}/bin/python", str(venv.root)))
    rc3, clean = run_json("check-uwsgi", str(fixed))
    assert rc3 == 0, clean["findings"]
    assert clean["facts"]["home"]["prediction"]["values"]["prefix"] == str(venv.root)
