"""Today's stack: mod_wsgi 6.x built by ``pip install mod_wsgi`` against
pyenv's Python 3.12 and 3.13, loaded into the private test Apache, and
``mod_wsgi-express start-server``; Debian's 4.9.4 beside it.

In every interpreter a tiny WSGI script that shares nothing with venvprobe
(``truth.wsgi``) reports what the interpreter itself says: its id, main or
not, ``_interpreters.get_config()`` (3.13), whether daemon threads are
allowed, whether a single-phase extension of the standard library
(``_testsinglephase``) loads and whether psutil imports.  The collector,
mounted in the same process group and application group, must agree.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from pathlib import Path

import pytest

import servers
from offline_helpers import run_json, save_fixture
from report_helpers import COLLECT_SRC
from venvprobe.analyze import analyze

TRUTH_WSGI = r'''
import json, sys

def _ids():
    try:
        import _interpreters as m  # 3.13
    except ImportError:
        import _xxsubinterpreters as m  # 3.8-3.12
    def num(x):
        x = x[0] if isinstance(x, tuple) else x
        return int(getattr(x, "id", x))
    out = {"id": num(m.get_current()), "main_id": num(m.get_main())}
    get_config = getattr(m, "get_config", None)
    if get_config is not None:
        c = get_config(out["id"])
        out["config"] = {k: getattr(c, k) for k in ("use_main_obmalloc", "allow_fork", "allow_exec", "allow_threads",
                                                   "allow_daemon_threads", "check_multi_interp_extensions", "gil")}
    return out

def application(environ, start_response):
    t = _ids()
    import _thread
    allowed = getattr(_thread, "daemon_threads_allowed", None)
    t["daemon_threads"] = allowed() if allowed else None
    t["gil_enabled"] = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    try:
        import _testsinglephase  # single-phase init: refused where extensions are checked
        t["single_phase_loads"] = True
    except ImportError as exc:
        # False: refused by the multi-interpreter check; None: missing here
        t["single_phase_loads"] = False if "subinterpreters" in str(exc) else None
    try:
        import psutil
        t["psutil"] = "ok"
    except ImportError as exc:
        t["psutil"] = str(exc)
    body = json.dumps(t).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''

COLLECT_WSGI = f'''
def application(environ, start_response):
    g = {{"__name__": "__venvprobe_collect__"}}
    with open({str(COLLECT_SRC)!r}) as fh:
        exec(compile(fh.read(), {str(COLLECT_SRC)!r}, "exec"), g)
    body = g["dumps"](g["collect"]({{"use_psutil": False}})).encode("utf-8", "surrogatepass")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''

# (mount, WSGIScriptAlias options, main interpreter?, own GIL?)
MOUNTS = [
    ("d-main", "process-group=d application-group=%{GLOBAL}", True, False),
    ("d-legacy", "process-group=d application-group=legacy", False, False),
    ("d-own", "process-group=d application-group=own", False, True),
    ("e-main", "application-group=%{GLOBAL}", True, False),
    ("e-own", "application-group=eown", False, True),
]


def _readable_checkout() -> None:
    if not os.access(str(COLLECT_SRC), os.R_OK) or (os.stat(COLLECT_SRC).st_mode & 0o004) == 0:
        pytest.skip("the checkout is not readable by www-data")


def _apps(shared_tmp: Path) -> None:
    (shared_tmp / "truth.wsgi").write_text(TRUTH_WSGI)
    (shared_tmp / "collect.wsgi").write_text(COLLECT_WSGI)
    servers.make_world_readable(shared_tmp)


def _expected_gil(truth: dict) -> str:
    if not truth["gil_enabled"]:
        return "none"
    if truth["id"] == truth["main_id"]:
        return "shared"
    if "config" in truth:
        return truth["config"]["gil"]
    # 3.12 (no get_config): own GIL <=> the interpreter checks extensions.
    return "own" if truth["single_phase_loads"] is False else "shared"


def _pair(server: servers.BaseServer, mount: str) -> tuple:
    status, truth = server.get_json(f"/{mount}/truth", timeout=30)
    assert status == 200, (mount, status, server.logs())
    status, report = server.get_json(f"/{mount}/probe", timeout=30)
    assert status == 200, (mount, status, server.logs())
    report["findings"] = analyze(report)
    return truth, report


def _assert_agrees(truth: dict, report: dict, main: bool, own: bool) -> dict:
    ident = report["identity"]
    config = ident["interpreter_config"]
    assert ident["interpreter_id"] == truth["id"]
    assert ident["main_interpreter"] is (truth["id"] == truth["main_id"]) is main
    assert config["gil"] == _expected_gil(truth) == ("own" if own else "shared")
    assert config["gil_enabled"] is truth["gil_enabled"]
    assert config["free_threaded_build"] is False
    if "config" in truth:  # 3.13: every field, as the interpreter reports it
        assert config["config"] == truth["config"], (config, truth)
        assert config["config_source"] == "_interpreters.get_config()"
    elif truth["daemon_threads"] is not None:  # 3.12
        assert config["config"] == {"allow_daemon_threads": truth["daemon_threads"]}
    if truth["single_phase_loads"] is not None:
        assert config["check_multi_interp_extensions"] is (not truth["single_phase_loads"])
    return config


@pytest.mark.servers
@pytest.mark.parametrize("minor", ["3.12", "3.13"])
def test_mod_wsgi6_interpreters_gil_and_psutil(minor, apache_factory, shared_tmp: Path) -> None:
    """Daemon and embedded mode, main / legacy / own-GIL interpreters, one Apache."""
    _readable_checkout()
    build = servers.mod_wsgi6(minor)
    venv = servers.make_venv(shared_tmp / "venv", python=str(build.python), packages=["psutil"])
    (shared_tmp / "pp").mkdir()
    _apps(shared_tmp)
    aliases = "\n".join(
        f"WSGIScriptAlias /{m}/truth {shared_tmp}/truth.wsgi {opts}\n"
        f"WSGIScriptAlias /{m}/probe {shared_tmp}/collect.wsgi {opts}"
        for m, opts, _, _ in MOUNTS)
    apache = apache_factory(f"""
WSGIPythonHome {venv.root}
WSGIDaemonProcess d python-home={venv.root} python-path={shared_tmp}/pp processes=1 threads=4
<WSGIInterpreterOptions process-group=d application-group=own>
    WSGIPerInterpreterGIL On
</WSGIInterpreterOptions>
<WSGIInterpreterOptions application-group=eown>
    WSGIPerInterpreterGIL On
</WSGIInterpreterOptions>
{aliases}
<Directory {shared_tmp}>
    Require all granted
</Directory>
""", mod_wsgi=build.so)
    seen = {}
    for mount, _, main, own in MOUNTS:
        truth, report = _pair(apache, mount)
        config = _assert_agrees(truth, report, main, own)
        server = report["identity"]["server"]
        assert server["kind"] == "mod_wsgi" and server["version"] == build.version
        assert server["mode"] == ("daemon" if mount.startswith("d-") else "embedded")
        assert report["interpreter"]["version"].startswith(minor + ".")
        it = report["interpreter"]
        assert it["prefix"] == str(venv.root)
        # Re-checked for 6.x: a venv python-home with a readable pyvenv.cfg becomes the program name
        # (PyConfig.program_name), python-path goes to the front of sys.path, and HOME (so USER_SITE)
        # is the daemon user's in daemon mode only.
        assert it["home"]["program_name_home"] == str(venv.root) and not it["home"]["initialised_with"]
        paths = [e["path"] for e in report["sys_path"]["entries"]]
        if mount.startswith("d-"):
            assert paths[0] == f"{shared_tmp}/pp", paths
            assert it["user_site"]["HOME"] == pwd.getpwnam("www-data").pw_dir
            assert it["user_site"]["USER_SITE"].startswith(pwd.getpwnam("www-data").pw_dir + "/.local/")
        else:
            assert f"{shared_tmp}/pp" not in paths
        codes = [f["code"] for f in report["findings"]]
        if own:
            # Ground truth: psutil really fails here, and the report says so before any 500.
            assert "does not support loading in subinterpreters" in truth["psutil"], truth
            found = [f for f in report["findings"] if f["code"] == "extension-refuses-interpreter"]
            assert len(found) == 1, [(f["message"], f["evidence"]) for f in found]
            f = found[0]
            assert f["severity"] == "error"
            assert f["message"].startswith(f"psutil (installed in {venv.site_packages}) will not import here")
            assert "_psutil_linux" in f["message"]
            assert "application-group=%{GLOBAL}" in f["fix"] and "WSGIPerInterpreterGIL" in f["fix"]
            support = report["identity"]["extension_support"]
            assert support["checked"] is True
            assert [m["package"] for m in support["modules"] if m.get("refused")] == ["psutil"]
        else:
            assert truth["psutil"] == "ok"
            assert "extension-refuses-interpreter" not in codes
            assert report["identity"]["extension_support"]["checked"] is False
        seen[mount] = (report["identity"]["pid"], report["identity"]["interpreter_id"], config["gil"])
    # One daemon process holds three interpreters; embedded ones live in an Apache child.
    assert seen["d-main"][0] == seen["d-legacy"][0] == seen["d-own"][0] != seen["e-main"][0]
    assert len({seen[m][1] for m in ("d-main", "d-legacy", "d-own")}) == 3
    # check-apache, reading the same configuration, predicts each app's GIL mode as measured.
    rc, result = run_json("check-apache", str(apache.conf_path), "--python", str(build.python), "--no-homes")
    predicted = {a["url"]: a["gil"] for a in result["facts"]["apps"]}
    assert {m: predicted[f"/{m}/probe"] for m in seen} == {m: seen[m][2] for m in seen}
    log = apache.error_log()
    assert "Creating sub-interpreter 'own' in daemon process 'd' with own GIL." in log
    assert "Creating sub-interpreter 'legacy' in daemon process 'd'." in log


@pytest.mark.servers
def test_debian_mod_wsgi4_interpreters_agree(apache_factory, venv_factory, shared_tmp: Path) -> None:
    """Debian's 4.9.4 on /usr/bin/python3 (3.11): only shared GILs, ids still right."""
    _readable_checkout()
    venv = venv_factory(packages=["psutil"])
    _apps(shared_tmp)
    mounts = [m for m in MOUNTS if not m[3]]
    aliases = "\n".join(
        f"WSGIScriptAlias /{m}/truth {shared_tmp}/truth.wsgi {opts}\n"
        f"WSGIScriptAlias /{m}/probe {shared_tmp}/collect.wsgi {opts}" for m, opts, _, _ in mounts)
    apache = apache_factory(f"""
WSGIDaemonProcess d python-home={venv.root} processes=1 threads=4
{aliases}
<Directory {shared_tmp}>
    Require all granted
</Directory>
""")
    for mount, _, main, own in mounts:
        truth, report = _pair(apache, mount)
        config = _assert_agrees(truth, report, main, own)
        assert report["identity"]["server"]["version"].startswith("4.9.")
        assert config["gil"] == "shared"
        assert "extension-refuses-interpreter" not in [f["code"] for f in report["findings"]]


@pytest.mark.servers
def test_mod_wsgi_express_start_server(shared_tmp: Path, request) -> None:
    """``mod_wsgi-express start-server`` of the pip-built 6.x: main interpreter, shared GIL."""
    servers.require_apache()
    _readable_checkout()
    build = servers.mod_wsgi6("3.13")
    _apps(shared_tmp)
    both = shared_tmp / "both.wsgi"
    both.write_text(
        f"exec(open({str(shared_tmp / 'truth.wsgi')!r}).read())\n_truth = application\n"
        f"exec(open({str(shared_tmp / 'collect.wsgi')!r}).read())\n_probe = application\n"
        "def application(environ, start_response):\n"
        "    app = _truth if environ.get('PATH_INFO', '').endswith('/truth') else _probe\n"
        "    return app(environ, start_response)\n")
    servers.make_world_readable(shared_tmp)
    server = servers.ExpressServer(build, both, root=shared_tmp / "express")
    try:
        server.start(timeout=40)
        truth, report = _pair(server, "x")
        _assert_agrees(truth, report, main=True, own=False)
        ident = report["identity"]
        assert ident["server"]["kind"] == "mod_wsgi" and ident["server"]["version"] == build.version
        assert ident["server"]["mode"] == "daemon"  # express runs the app in a daemon group
    except Exception:
        print(server.logs())
        raise
    finally:
        server.stop()


@pytest.mark.servers
def test_crash_loop_unreadable_base_explained(apache_factory, shared_tmp: Path) -> None:
    """python-home is a venv of pyenv's own Python, under a home www-data cannot
    read: the daemon segfaults and respawns; explain-log names the unreadable path."""
    build = servers.mod_wsgi6("3.13")
    original = servers.pyenv_python("3.13")
    assert original is not None
    install = original.parents[1]
    res = subprocess.run(["runuser", "-u", "www-data", "--", "test", "-r", str(install / "lib")],
                         capture_output=True)
    private = None
    if res.returncode == 0:
        # pyenv is readable by www-data on this machine: put a copy of it behind a 0700 directory.
        private = shared_tmp / "private"
        private.mkdir()
        servers.shutil.copytree(servers.readable_python("3.13").parents[1], private / install.name,
                                symlinks=True, copy_function=os.link)
        install = private / install.name
        original = install / "bin" / original.name
    venv = servers.make_venv(shared_tmp / "venv", python=str(original))
    (shared_tmp / "app.wsgi").write_text("def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n")
    servers.make_world_readable(shared_tmp)
    if private is not None:
        os.chmod(private, 0o700)
    apache = apache_factory(f"""
WSGIRestrictEmbedded On
WSGIDaemonProcess app python-home={venv.root} threads=2
WSGIScriptAlias / {shared_tmp}/app.wsgi process-group=app application-group=%{{GLOBAL}}
<Directory {shared_tmp}>
    Require all granted
</Directory>
""", mod_wsgi=build.so)
    deadline = time.monotonic() + 60  # reached only if the crash loop stopped
    while apache.error_log().count("terminated by signal 11") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    apache.stop()
    log = shared_tmp / "error.log"
    log.write_text(apache.error_log())
    assert "WSGI0036" in log.read_text() and "terminated by signal 11" in log.read_text()
    rc, result = run_json("explain-log", str(log))
    assert rc == 1, result
    findings = result["findings"]
    base = [f for f in findings if f["code"] == "python-base-unreadable"]
    assert len(base) == 1, findings
    f = base[0]
    assert f["severity"] == "error"
    assert str(install) in f["message"] and str(venv.root) in f["message"]
    assert any("WSGI0036" in e for e in f["evidence"]) and any("signal 11" in e for e in f["evidence"])
    assert f["data"]["daemon_restarts"] >= 2
    # The same log without its first lines (rotated, or --tail): the "mod_wsgi/6.1.1 Python/3.13" banner
    # is gone, but the coded messages still show mod_wsgi 6 wrote it, not the module installed here
    # (Debian's 4.9.4 on 3.11); comparing with that one once invented a venv-python-mismatch.
    last = [line for line in log.read_text().splitlines() if "AH00489" not in line][-12:]
    rotated = shared_tmp / "rotated.log"
    rotated.write_text("\n".join(last) + "\n")
    rc, result = run_json("explain-log", str(rotated))
    assert rc == 1 and [f["code"] for f in result["findings"]] == ["python-base-unreadable"], result["findings"]
    # Lines cut short by a log shipper lose "in daemon process 'app'": the pid still says where it ran.
    cut = shared_tmp / "cut.log"
    cut.write_text("".join((line[:line.index("WSGI00") + 40] if "WSGI00" in line else line) + "\n"
                           for line in log.read_text().splitlines()))
    rc, result = run_json("explain-log", str(cut))
    assert rc == 1 and [f["code"] for f in result["findings"]] == ["python-base-unreadable"], result["findings"]
    assert result["findings"][0]["data"]["context"] == "daemon process 'app'"


@pytest.mark.servers
def test_pth_import_refused_while_an_own_gil_interpreter_is_created(apache_factory, shared_tmp: Path) -> None:
    """A .pth file on an own-GIL group's WSGIPythonPath imports psutil: site.addsitedir runs it while
    mod_wsgi creates the interpreter, before any script loads.  The app still answers, psutil is gone
    there, and explain-log names the package, the interpreter and the .pth (it once gave only a bare
    "a C extension refused a sub-interpreter" warning: no script was loaded yet to blame)."""
    build = servers.mod_wsgi6("3.13")
    venv = servers.make_venv(shared_tmp / "venv", python=str(build.python), packages=["psutil"])
    (shared_tmp / "pp").mkdir()
    (shared_tmp / "pp" / "zz_preload.pth").write_text("import psutil\n")
    (shared_tmp / "app.wsgi").write_text("def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n")
    servers.make_world_readable(shared_tmp)
    apache = apache_factory(f"""
WSGIRestrictEmbedded On
WSGIDaemonProcess d python-home={venv.root} processes=1 threads=2
<WSGIInterpreterOptions process-group=d application-group=own>
    WSGIPerInterpreterGIL On
    WSGIPythonPath {shared_tmp}/pp
</WSGIInterpreterOptions>
WSGIScriptAlias /own {shared_tmp}/app.wsgi process-group=d application-group=own
<Directory {shared_tmp}>
    Require all granted
</Directory>
""", mod_wsgi=build.so)
    assert apache.get("/own")[0] == 200
    apache.wait_for_log(r"Loading WSGI script .* into sub-interpreter 'own'")
    apache.stop()
    log = shared_tmp / "error.log"
    log.write_text(apache.error_log())
    save_fixture("mod_wsgi6-own-gil-pth.log", log.read_text(), shared_tmp)
    assert "does not support loading in subinterpreters" in log.read_text()
    rc, result = run_json("explain-log", str(log), "--no-check-homes")
    assert rc == 1 and [f["code"] for f in result["findings"]] == ["extension-refuses-interpreter"], result["findings"]
    message = result["findings"][0]["message"]
    assert message.startswith(f"psutil (installed in {venv.site_packages}) will not import in sub-interpreter 'own'")
    assert f"imported by {shared_tmp}/pp/zz_preload.pth line 1" in message
