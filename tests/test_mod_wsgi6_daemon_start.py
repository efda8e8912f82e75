"""mod_wsgi 6 daemon processes that cannot start, and interpreters whose initialisation raises: real
Apache + pip-built mod_wsgi 6.1.1 on pyenv's 3.13, one server with one daemon group per cause, then
``explain-log`` on its error log (saved as tests/data/offline/mod_wsgi6-daemon-start.log, read again
offline by tests/test_explain_log_mod_wsgi6.py)."""

from __future__ import annotations

from pathlib import Path

import servers
from offline_helpers import run_json, save_fixture

APP = "def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n"


def test_daemon_start_and_interpreter_init_failures_explained(apache_factory, shared_tmp: Path) -> None:
    """- h: home= names a directory that does not exist -> WSGI0009 + WSGI0025, exits, respawned;
    - hp: home= is a directory inside a 0700 directory of root's -> WSGI0009 "(13)Permission denied"; with
      the home checks on, explain-log names the directory that blocks www-data;
    - nb: user=nobody without home= -> mod_wsgi changes into nobody's passwd home, /nonexistent -> WSGI0010;
    - ex: a .pth on python-path calls sys.exit(3) -> WSGI0091 + WSGI0189 in the main interpreter and in
      sub-interpreter 'x' (each runs python-path); the app still answers;
    - ap: its python-home venv holds a 'mod_wsgi' package that raises -> WSGI0188 with the traceback;
    - sb: a .pth in its venv's site-packages hides 'site' (sys.modules['site'] = None), so mod_wsgi cannot
      apply python-path: WSGI0095 -> WSGI0035 (+ WSGI0188) for the main interpreter -> WSGI0038 (+ WSGI0029),
      the same for sub-interpreter 'z' -> WSGI0103, and the request -> WSGI0087 (a contrived trigger, but
      the only configuration found that reaches these real failure paths);
    - a WSGIFreeThreading inside <WSGIInterpreterOptions application-group=...> -> WSGI0201 at start-up.
    explain-log: one finding per cause, naming the directory / the .pth's directory / the raising file."""
    build = servers.mod_wsgi6("3.13")
    (shared_tmp / "app.wsgi").write_text(APP)
    (shared_tmp / "pp_exit").mkdir()
    (shared_tmp / "pp_exit" / "zz_exit.pth").write_text("import sys; sys.exit(3)\n")
    venv = servers.make_venv(shared_tmp / "venv", python=str(build.python))
    broken = servers.make_venv(shared_tmp / "broken", python=str(build.python))
    (broken.site_packages / "mod_wsgi").mkdir()
    (broken.site_packages / "mod_wsgi" / "__init__.py").write_text("raise RuntimeError('broken mod_wsgi package')\n")
    nosite = servers.make_venv(shared_tmp / "nosite", python=str(build.python))
    (nosite.site_packages / "zz_nosite.pth").write_text("import sys; sys.modules['site'] = None\n")
    (shared_tmp / "pp").mkdir()
    servers.make_world_readable(shared_tmp)
    missing = shared_tmp / "missing"
    private = shared_tmp / "private"
    (private / "app").mkdir(parents=True)
    private.chmod(0o700)
    apache = apache_factory(f"""
WSGIRestrictEmbedded On
WSGIPythonHome {venv.root}
WSGIDaemonProcess h home={missing} processes=1 threads=1
WSGIDaemonProcess hp home={private}/app processes=1 threads=1
WSGIDaemonProcess nb user=nobody group=nogroup processes=1 threads=1
WSGIDaemonProcess ex python-path={shared_tmp}/pp_exit processes=1 threads=1
WSGIDaemonProcess ap python-home={broken.root} processes=1 threads=1
WSGIDaemonProcess sb python-home={nosite.root} python-path={shared_tmp}/pp processes=1 threads=1
<WSGIInterpreterOptions process-group=ex application-group=x>
    WSGIFreeThreading On
</WSGIInterpreterOptions>
WSGIScriptAlias /ex {shared_tmp}/app.wsgi process-group=ex application-group=x
WSGIScriptAlias /ap {shared_tmp}/app.wsgi process-group=ap application-group=y
WSGIScriptAlias /sb {shared_tmp}/app.wsgi process-group=sb application-group=z
<Directory {shared_tmp}>
    Require all granted
</Directory>
""", mod_wsgi=build.so)
    # a .pth that exits, a broken 'mod_wsgi' package: logged, then ignored; the apps answer
    assert apache.get("/ex")[0] == 200 and apache.get("/ap")[0] == 200
    assert apache.get("/sb")[0] == 500  # WSGI0087: no interpreter for the request
    for pattern in (r"WSGI0009: .*/missing", r"WSGI0009: .*/private/app", r"WSGI0010: ", r"WSGI0189: .* sub-interpreter 'x'", r"WSGI0188: .* sub-interpreter 'y'",
                    r"WSGI0087: "):
        apache.wait_for_log(pattern)
    apache.stop()
    log = shared_tmp / "error.log"
    log.write_text(apache.error_log())
    save_fixture("mod_wsgi6-daemon-start.log", log.read_text(), shared_tmp)
    rc, result = run_json("explain-log", str(log), "--no-check-homes")
    by = {(f["code"], (f["data"] or {}).get("context")): f for f in result["findings"]}
    assert rc == 1 and len(by) == len(result["findings"]), result["findings"]
    assert sorted(by) == sorted([
        ("daemon-cannot-start", "daemon process 'h'"), ("daemon-cannot-start", "daemon process 'nb'"),
        ("daemon-cannot-start", "daemon process 'hp'"),
        ("interpreter-init-exception", "daemon process 'ex'"), ("interpreter-init-exception", "daemon process 'ap'"),
        ("interpreter-setup-fails", "daemon process 'sb'"), ("free-threading-scope-ignored", None),
        # mod_wsgi 6.1.1 still warns that the (ignored) directive has no effect on a GIL build
        ("free-threading-unavailable", None)]), result["findings"]
    home = by[("daemon-cannot-start", "daemon process 'h'")]
    assert home["data"]["directory"] == str(missing) and f"create {missing} or fix home=" in home["message"]
    assert "No such file or directory" in home["message"]
    nobody = by[("daemon-cannot-start", "daemon process 'nb'")]
    assert nobody["data"]["directory"] == "/nonexistent" and "add home=" in nobody["message"]
    exits = by[("interpreter-init-exception", "daemon process 'ex'")]
    assert exits["message"].startswith("SystemExit: 3 raised while mod_wsgi initialised main interpreter, "
                                       "sub-interpreter 'x' of daemon process 'ex'")
    assert f"python-path entry {shared_tmp}/pp_exit" in exits["message"]
    assert any("WSGI0091" in e for e in exits["evidence"]) and any("WSGI0189" in e for e in exits["evidence"])
    pkg = by[("interpreter-init-exception", "daemon process 'ap'")]
    assert pkg["data"]["exception"] == "RuntimeError: broken mod_wsgi package"
    assert f"in {broken.site_packages}/mod_wsgi/__init__.py line 1" in pkg["message"]
    setup = by[("interpreter-setup-fails", "daemon process 'sb'")]
    assert setup["data"]["interpreters"] == ["main interpreter", "sub-interpreter 'z'"]
    assert setup["message"].startswith("mod_wsgi could not set up main interpreter, sub-interpreter 'z' of daemon "
                                       "process 'sb': no Python handler works in that process; the cause logged: "
                                       "the 'site' module cannot be imported")
    assert "import of site halted; None in sys.modules" in setup["message"]
    assert setup["data"]["requests_refused"] == 1
    for code in ("WSGI0095", "WSGI0035", "WSGI0188", "WSGI0038", "WSGI0087"):
        assert any(code in e for e in setup["evidence"]), (code, setup["evidence"])
    denied = by[("daemon-cannot-start", "daemon process 'hp'")]
    assert "(Permission denied)" in denied["message"] and denied["data"]["directory"] == f"{private}/app"
    # with the home checks (the default), the path is checked as the daemon's uid on this machine
    rc, checked = run_json("explain-log", str(log))
    located = [f for f in checked["findings"] if f["code"] == "daemon-cannot-start"
               and f["data"]["context"] == "daemon process 'hp'"]
    assert len(located) == 1 and located[0]["data"]["blocked_at"] == str(private), located
    assert f"www-data cannot traverse {private} (drwx------ root:" in located[0]["message"]
    gone = [f for f in checked["findings"] if f["code"] == "daemon-cannot-start"
            and f["data"]["context"] == "daemon process 'h'"]
    assert gone[0]["data"]["blocked_at"] == str(missing) and f"{missing} does not exist" in gone[0]["message"]
    pth = [f for f in checked["findings"] if f["code"] == "interpreter-init-exception"
           and f["data"]["context"] == "daemon process 'ex'"]
    assert pth[0]["data"]["pth_files"] == ["zz_exit.pth"], pth
    assert f"{shared_tmp}/pp_exit holds: zz_exit.pth" in pth[0]["message"]
