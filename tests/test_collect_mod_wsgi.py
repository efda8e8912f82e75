"""The collector inside real Apache + mod_wsgi (Debian's, embedding
/usr/bin/python3): the facts only an embedded interpreter has -- apache2 as
the real executable, the libpython and mod_wsgi objects mapped in, the venv
reached through python-home, process/application groups, sub-interpreters
with a C extension, several scripts in one interpreter, and embedded mode
without any home.  The WSGI script runs this checkout's collector (one file, report_helpers.COLLECT_SRC)
directly: nothing of venvprobe is installed in the venv."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

import servers
from report_helpers import COLLECT_SRC
from venvprobe.analyze import analyze

COLLECT_WSGI = f'''
import sys

def application(environ, start_response):
    ext = environ.get("QUERY_STRING", "").partition("ext=")[2]
    if ext:
        __import__(ext)
    g = {{"__name__": "__venvprobe_collect__"}}
    with open({str(COLLECT_SRC)!r}) as fh:
        exec(compile(fh.read(), {str(COLLECT_SRC)!r}, "exec"), g)
    body = g["dumps"](g["collect"]({{"use_psutil": False}})).encode("utf-8", "surrogatepass")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''

OTHER_WSGI = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other app"]
'''


def _report(apache: servers.ApacheServer, path: str) -> dict:
    status, report = apache.get_json(path, timeout=30)
    assert status == 200, (status, report, apache.logs())
    report["findings"] = analyze(report)
    return report


def _codes(report: dict) -> list:
    return [f["code"] for f in report["findings"]]


@pytest.mark.servers
def test_daemon_mode_python_home_groups_and_subinterpreter(apache_factory, venv_factory, shared_tmp: Path) -> None:
    if not os.access(str(COLLECT_SRC), os.R_OK) or (os.stat(COLLECT_SRC).st_mode & 0o004) == 0:
        pytest.skip("the checkout is not readable by www-data")
    venv = venv_factory(packages=["psutil"])  # Debian's python3: what mod_wsgi embeds
    (shared_tmp / "collect.wsgi").write_text(COLLECT_WSGI)
    (shared_tmp / "other.wsgi").write_text(OTHER_WSGI)
    servers.make_world_readable(shared_tmp)
    apache = apache_factory(f"""
WSGIDaemonProcess g python-home={venv.root} processes=1 threads=2
WSGIScriptAlias /other {shared_tmp}/other.wsgi process-group=g application-group=%{{GLOBAL}}
WSGIScriptAlias /global {shared_tmp}/collect.wsgi process-group=g application-group=%{{GLOBAL}}
WSGIScriptAlias /sub {shared_tmp}/collect.wsgi process-group=g application-group=sub
<Directory {shared_tmp}>
    Require all granted
</Directory>
""")
    status, _, body = apache.get("/other")
    assert status == 200 and body == b"other app"
    glob = _report(apache, "/global")
    sub = _report(apache, "/sub?ext=psutil")

    it = glob["interpreter"]
    assert it["real_executable"] == os.path.realpath(servers.apache_binary())
    assert it["executable"] == str(venv.python)
    assert it["prefix"] == str(venv.root) and it["base_prefix"] == "/usr" and it["in_venv"] is True
    # mod_wsgi 4.x started the interpreter as <python-home>/bin/python (pyvenv.cfg readable).
    assert it["home"]["program_name_home"] == str(venv.root)
    mapped = [os.path.basename(p) for p in it["mapped_objects"]]
    assert any(m.startswith("mod_wsgi") for m in mapped), mapped
    assert any(m.startswith("libpython3.11") for m in mapped), mapped
    assert glob["process"]["parents"][0]["pid"] == apache.pid
    assert glob["process"]["uids"][1] == pwd.getpwnam("www-data").pw_uid  # the daemon's user

    server = glob["identity"]["server"]
    assert (server["kind"], server["mode"], server["process_group"], server["application_group"]) == \
        ("mod_wsgi", "daemon", "g", "")
    assert glob["identity"]["main_interpreter"] is True and glob["identity"]["interpreter_id"] == 0
    assert sorted(s["file"] for s in glob["modules"]["wsgi_scripts"]) == \
        [f"{shared_tmp}/collect.wsgi", f"{shared_tmp}/other.wsgi"]
    assert _codes(glob) == ["several-apps-one-interpreter"], glob["findings"]
    f = glob["findings"][0]
    assert f["message"].startswith("2 WSGI scripts share interpreter 0: ")
    assert "application-group=" in f["fix"]

    assert sub["identity"]["pid"] == glob["identity"]["pid"]  # processes=1
    assert sub["identity"]["main_interpreter"] is False and sub["identity"]["interpreter_id"] != 0
    assert sub["identity"]["server"]["application_group"] == "sub"
    assert sub["identity"]["third_party_extensions"] == ["psutil._psutil_linux"]
    c = [x for x in sub["findings"] if x["code"] == "c-extension-in-subinterpreter"]
    assert len(c) == 1 and c[0]["message"].endswith(": psutil._psutil_linux")
    assert "WSGIApplicationGroup %{GLOBAL}" in c[0]["fix"]


@pytest.mark.servers
@pytest.mark.parametrize("home", [None, "/usr"])
def test_embedded_mode_home(apache_factory, shared_tmp: Path, home) -> None:
    if (os.stat(COLLECT_SRC).st_mode & 0o004) == 0:
        pytest.skip("the checkout is not readable by www-data")
    (shared_tmp / "collect.wsgi").write_text(COLLECT_WSGI)
    servers.make_world_readable(shared_tmp)
    directive = f"WSGIPythonHome {home}" if home else ""
    apache = apache_factory(f"""
{directive}
WSGIScriptAlias /e {shared_tmp}/collect.wsgi application-group=%{{GLOBAL}}
<Directory {shared_tmp}>
    Require all granted
</Directory>
""")
    report = _report(apache, "/e")
    server = report["identity"]["server"]
    assert server["kind"] == "mod_wsgi" and server["mode"] == "embedded" and server["process_group"] == ""
    it = report["interpreter"]
    assert it["in_venv"] is False and it["prefix"] == "/usr"
    assert it["real_executable"] == os.path.realpath(servers.apache_binary())
    got = {f["code"]: f for f in report["findings"]}
    assert got["no-venv"]["severity"] == "warning"
    if home:
        # WSGIPythonHome without a pyvenv.cfg: mod_wsgi calls Py_SetPythonHome, read back via ctypes.
        assert it["home"]["initialised_with"] == home
        assert it["home"]["source"] == "Py_SetPythonHome (embedding server)"
        assert "prefix-from-path-search" not in got
        return
    assert it["home"]["initialised_with"] is None
    assert "WSGIPythonHome" in got["prefix-from-path-search"]["fix"]
    assert got["prefix-from-path-search"]["message"].startswith(
        "no python-home was given to the mod_wsgi interpreter: it derived prefix /usr")
