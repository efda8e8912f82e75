"""analyze() is a pure function of report data: server-specific findings and
fixes from saved (here: hand-written) reports, no file-system access,
malformed data never raises."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from venvprobe.analyze import analyze, summarize

PREFIX = "/opt/nowhere/venv"  # paths that exist on no test machine: analysis must not look


def _entry(index: int, path: str, kind: str, **kw: Any) -> dict:
    e = {"index": index, "path": path, "abs_path": path, "real_path": path, "exists": True, "is_dir": True,
         "readable": True, "origin": {"kind": kind, "detail": kind}}
    e.update(kw)
    return e


def mini_report(server: str = "mod_wsgi", **over: Any) -> dict:
    report = {
        "schema": {"name": "venvprobe.report", "version": 1},
        "collector": {"in_process": True},
        "interpreter": {
            "version": "3.11.2", "prefix": PREFIX, "base_prefix": "/usr", "base_prefix_real": "/usr",
            "in_venv": True, "real_executable": "/usr/sbin/apache2", "executable": PREFIX + "/bin/python",
            "mapped_objects": ["/usr/lib/apache2/modules/mod_wsgi.so", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"],
            "pyvenv_cfg": {"path": PREFIX + "/pyvenv.cfg", "home": "/usr/bin", "version": "3.11.2",
                           "home_exists": True, "include_system_site_packages": False},
            "sysconfig_paths": {"stdlib": "/usr/lib/python3.11", "platstdlib": PREFIX + "/lib/python3.11",
                                "purelib": PREFIX + "/lib/python3.11/site-packages",
                                "platlib": PREFIX + "/lib/python3.11/site-packages"},
            "user_site": {"ENABLE_USER_SITE": False, "HOME": "/var/www"},
            "flags": {"ignore_environment": 0}, "home": {"initialised_with": None, "env_PYTHONHOME": None},
        },
        "identity": {"pid": 10, "interpreter_id": 0, "main_interpreter": True,
                     "server": {"kind": server, "process_group": "app", "application_group": ""}},
        "sys_path": {"entries": [
            _entry(0, "/usr/lib/python3.11", "stdlib"),
            _entry(1, "/usr/lib/python3.11/lib-dynload", "lib_dynload"),
            _entry(2, PREFIX + "/lib/python3.11/site-packages", "venv_site"),
        ], "pth_files": []},
        "distributions": [], "shadowed": {"modules": [], "distributions": []},
        "modules": {"top_level": [], "extensions": [], "wsgi_scripts": [{"module": "_mod_wsgi_x", "file": "/srv/app.wsgi"}]},
        "environment": {"variables": {}}, "process": {},
    }
    for key, value in over.items():
        report[key] = value
    return report


def codes(findings: list) -> list:
    return [f["code"] for f in findings]


def test_healthy_mod_wsgi_daemon_has_no_findings() -> None:
    assert analyze(mini_report()) == []


def test_pure_same_input_same_output_input_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    report = mini_report()
    report["environment"]["variables"] = {"PYTHONPATH": "/srv/lib", "PYTHONHOME": "/opt/py"}
    report["sys_path"]["entries"].append(_entry(3, "/srv/gone", "runtime", exists=False))
    before = copy.deepcopy(report)
    import builtins
    import os

    def no_fs(*a: Any, **k: Any) -> Any:
        raise AssertionError("analysis touched the file system")

    for name in ("stat", "lstat", "listdir", "scandir", "access"):
        monkeypatch.setattr(os, name, no_fs)
    monkeypatch.setattr(builtins, "open", no_fs)
    first = analyze(report)
    second = analyze(report)
    monkeypatch.undo()
    assert first == second and report == before
    assert codes(first) == ["pythonhome-from-env", "pythonpath-from-env", "sys-path-missing"]
    # JSON round trip (a saved report) gives the same findings.
    assert analyze(json.loads(json.dumps(report))) == first


def test_server_specific_fixes_and_severities() -> None:
    user = mini_report()
    user["interpreter"]["user_site"] = {"ENABLE_USER_SITE": True, "HOME": "/var/www"}
    user["sys_path"]["entries"].insert(2, _entry(2, "/var/www/.local/lib/python3.11/site-packages", "user_site"))
    f = [x for x in analyze(user) if x["code"] == "user-site-active"][0]
    assert f["severity"] == "warning" and "PYTHONNOUSERSITE=1 in Apache's envvars" in f["fix"]
    user["identity"]["server"] = {"kind": "other"}
    f = [x for x in analyze(user) if x["code"] == "user-site-active"][0]
    assert f["severity"] == "info"

    bare = mini_report(server="uwsgi")
    bare["interpreter"].update(in_venv=False, prefix="/usr", pyvenv_cfg=None)
    bare["sys_path"]["entries"][2] = _entry(2, "/usr/lib/python3/dist-packages", "base_site")
    got = {x["code"]: x for x in analyze(bare)}
    assert got["no-venv"]["severity"] == "warning" and "home = /srv/venvs/app" in got["no-venv"]["fix"]
    assert "home = <venv root>" in got["prefix-from-path-search"]["fix"]
    bare["interpreter"]["home"] = {"initialised_with": "/usr", "env_PYTHONHOME": None}
    assert "prefix-from-path-search" not in codes(analyze(bare))


def test_subinterpreter_and_shared_interpreter_findings() -> None:
    r = mini_report()
    r["identity"].update(interpreter_id=3, main_interpreter=False)
    r["identity"]["server"]["application_group"] = "host|/app"
    r["modules"]["extensions"] = [
        {"module": "_json", "file": "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"},
        {"module": "lxml.etree", "file": PREFIX + "/lib/python3.11/site-packages/lxml/etree.cpython-311-x86_64-linux-gnu.so"},
    ]
    r["modules"]["wsgi_scripts"].append({"module": "_mod_wsgi_y", "file": "/srv/other.wsgi"})
    got = {x["code"]: x for x in analyze(r)}
    c = got["c-extension-in-subinterpreter"]
    assert c["message"] == "1 third-party C extensions are loaded in sub-interpreter 3: lxml.etree"
    assert "WSGIApplicationGroup %{GLOBAL}" in c["fix"]
    s = got["several-apps-one-interpreter"]
    assert s["message"] == "2 WSGI scripts share interpreter 3: /srv/app.wsgi, /srv/other.wsgi"


def test_foreign_libpython_under_mod_wsgi() -> None:
    """python-home names a venv from /opt/python3.11 but Apache's mod_wsgi maps Debian's libpython."""
    r = mini_report()
    r["interpreter"].update(base_prefix="/opt/python3.11", base_prefix_real="/opt/python3.11", version="3.11.2")
    r["interpreter"]["pyvenv_cfg"].update(home="/opt/python3.11/bin", version="3.11.9")
    got = [x for x in analyze(r) if x["code"] == "venv-python-mismatch"]
    assert len(got) == 1
    assert "mapped /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 is not under base_prefix /opt/python3.11" in got[0]["evidence"]
    # Without a venv it is the interpreter/installation mismatch.
    r["interpreter"].update(pyvenv_cfg=None, in_venv=False, prefix="/opt/python3.11")
    assert "interpreter-installation-mismatch" in codes(analyze(r))


@pytest.mark.parametrize("damage", [
    {},
    {"sys_path": "garbage", "interpreter": None, "identity": 7},
    {"sys_path": {"entries": [1, "x", None, {"index": "a"}]}, "distributions": [None, 3, {"name": None}]},
    {"shadowed": {"modules": [{"name": None}], "distributions": [{}]}, "modules": {"top_level": [{}]}},
    {"interpreter": {"error": "RuntimeError: boom"}, "sys_path": {"error": "OSError: x"}},
])
def test_malformed_reports_never_raise(damage: dict) -> None:
    report = mini_report()
    report.update(damage)
    if damage == {}:
        report = {}
    found = analyze(report)
    assert isinstance(found, list)
    for f in found:
        assert {"code", "severity", "message", "evidence", "fix"} <= set(f)
    assert set(summarize(found)) == {"error", "warning", "info"}


def test_probe_own_script_is_not_an_app() -> None:
    r = mini_report()
    r["modules"]["wsgi_scripts"].append({"module": "_mod_wsgi_p", "file": "/srv/probe.wsgi"})
    assert "several-apps-one-interpreter" in codes(analyze(r))  # without the probe's word for it
    r["probe"] = {"mount": "wsgi-script", "own_scripts": ["/srv/probe.wsgi"]}
    assert codes(analyze(r)) == []  # the app plus the probe's own script: healthy
    r["modules"]["wsgi_scripts"] = [{"module": "_mod_wsgi_p", "file": "/srv/probe.wsgi"}]
    f = [x for x in analyze(r) if x["code"] == "probe-alone"][0]
    assert f["evidence"] == ["WSGI scripts loaded here: none"]


def test_install_scheme_dir_not_created_yet_is_not_a_finding() -> None:
    """Debian's /usr/local/lib/python3.X/dist-packages before the first pip install:
    site.py adds it as soon as it exists."""
    r = mini_report()
    purelib = "/usr/local/lib/python3.11/dist-packages"
    r["interpreter"].update(in_venv=False, prefix="/usr", pyvenv_cfg=None,
                            site_packages=[purelib, "/usr/lib/python3/dist-packages"])
    r["interpreter"]["sysconfig_paths"].update(purelib=purelib, platlib=purelib)
    r["interpreter"]["install_dirs_exist"] = {"purelib": False, "platlib": False}
    assert "install-scheme-not-on-path" not in codes(analyze(r))
    r["interpreter"]["install_dirs_exist"] = {"purelib": True, "platlib": True}  # exists, yet not on sys.path
    assert "install-scheme-not-on-path" in codes(analyze(r))
    r["interpreter"]["install_dirs_exist"] = {"purelib": False, "platlib": False}
    r["interpreter"]["flags"] = {"no_site": 1}  # -S: never added
    assert "install-scheme-not-on-path" in codes(analyze(r))
