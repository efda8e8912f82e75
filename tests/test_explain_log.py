"""explain-log without Apache: replays the real logs captured by test_offline_apache_integration.py.

Fixtures in tests/data/offline/ are real error logs with the test's private
directory replaced by @ROOT@; each test maps it to its own tmp directory
(creating files there when explain-log's look at the machine matters).
Lines built from mod_wsgi's / numpy's / PyO3's format strings (not
captured from a server) are marked "synthetic".
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from offline_helpers import codes, expand_log, finding, run_cli, run_json
from report_helpers import pyenv_python
from venvprobe.offline import pathconfig

PYENV_311 = pyenv_python("3.11")


def _explain(tmp_path: Path, name: str, *args: str):
    log = tmp_path / name
    log.write_text(expand_log(name, tmp_path))
    return run_json("explain-log", str(log), "--no-check-homes", *args)


@pytest.mark.parametrize("name,home", [("bin-python.log", "venv/bin/python"), ("lib-python.log", "venv/lib/python3.11")])
def test_home_inside_the_venv(tmp_path, name, home):
    rc, res = _explain(tmp_path, name)
    assert rc == 1
    f = finding(res, "python-home-not-venv-root")
    assert f["data"]["home"] == f"{tmp_path}/{home}"
    assert f"use python-home={tmp_path}/venv" in f["message"]
    assert "pyvenv.cfg" in f["fix"] and f["severity"] == "error"
    assert any("No module named 'encodings'" in e for e in f["evidence"])
    assert codes(res) == ["python-home-not-venv-root"]  # one cause, however many respawns


def test_untraversable_home(tmp_path):
    rc, res = _explain(tmp_path, "private-dir.log")
    f = finding(res, "python-home-inaccessible")
    assert "(13)Permission denied" in f["message"] and f["data"]["home"] == f"{tmp_path}/private/venv"
    assert codes(res) == ["python-home-inaccessible"]


def test_unreadable_pyvenv_cfg(tmp_path):
    # Without the venv on this machine the log alone says mod_wsgi fell back to Py_SetPythonHome...
    rc, res = _explain(tmp_path, "unreadable-cfg.log")
    f = finding(res, "python-startup-fails")
    assert "no readable pyvenv.cfg" in f["message"]
    # ...and with it present, the cause is named exactly.
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    rc, res = _explain(tmp_path, "unreadable-cfg.log")
    f = finding(res, "pyvenv-cfg-unreadable")
    assert "chmod 644" in f["fix"]
    assert codes(res) == ["pyvenv-cfg-unreadable"]


def test_pythonhome_from_environment(tmp_path):
    rc, res = _explain(tmp_path, "pythonhome-env.log")
    f = finding(res, "pythonhome-from-env")
    assert "PYTHONHOME=/opt/nowhere" in f["message"] and f"python-home={tmp_path}/venv" in f["message"]
    assert f["severity"] == "error" and "envvars" in f["fix"]
    assert codes(res) == ["pythonhome-from-env"]


def test_pythonhome_from_environment_in_a_character_interleaved_log(tmp_path):
    """A real capture: the daemon's and an Apache child's dumps mixed character by character,
    the daemon's PYTHONHOME line lost. sys.prefix still names the home (prefix == PYTHONHOME)."""
    rc, res = _explain(tmp_path, "pythonhome-env-garbled.log")
    f = finding(res, "pythonhome-from-env")
    assert "PYTHONHOME=/opt/nowhere " in f["message"] and f"python-home={tmp_path}/venv" in f["message"]
    assert codes(res) == ["pythonhome-from-env"]


def test_interleaved_dumps_are_split_and_attributed(tmp_path):
    text = expand_log("interleaved.log", tmp_path)
    blocks = pathconfig.parse(text.splitlines())
    assert [(b.home, b.program_name) for b in blocks] == [("/opt/nowhere", "python3"),
                                                          ("/opt/nowhere", f"{tmp_path}/venv/bin/python")]
    assert all(b.fatal and "encodings" in b.exception for b in blocks)
    rc, res = _explain(tmp_path, "interleaved.log")
    assert codes(res) == ["pythonhome-from-env"]
    assert finding(res, "pythonhome-from-env")["data"]["occurrences"] == 2


def test_a_cut_value_whose_tail_is_garbled_invents_no_home(tmp_path):
    """CI saw a third process's characters where a cut PYTHONHOME's tail belongs
    (':   sys.executable = ...'/usr/bin/python3'); joining them made a bogus
    pythonhome-from-env finding.  Built from interleaved.log (synthetic cut)."""
    text = expand_log("interleaved.log", tmp_path)
    cut = text.replace("  PYTHONHOME = '/opt/nowhere'\n  PYTHONPATH = (not set)\n  program name = 'Python path configuration:",
                       "  PYTHONHOME = '/opt/now" + "Python path configuration:", 1)
    cut = cut.replace("\npython3'\n", "\n:   sys.executable = failed to get the Python codec of the filesystem "
                      "encoding'/usr/bin/python3'\n", 1)
    assert cut.count("Python path configuration:") == text.count("Python path configuration:")
    assert ":   sys.executable" in cut
    blocks = pathconfig.parse(cut.splitlines())
    assert [b.garbled for b in blocks] == [True, False]
    assert all(" = " not in (b.home or "") for b in blocks)
    log = tmp_path / "cut.log"
    log.write_text(cut)
    rc, res = run_json("explain-log", str(log), "--no-check-homes")
    assert [(f["code"], f["data"]["subject"]) for f in res["findings"]] == [("pythonhome-from-env", "/opt/nowhere")]


def test_daemon_group_not_delegated(tmp_path):
    rc, res = _explain(tmp_path, "not-delegated.log")
    f = finding(res, "daemon-group-unused")
    assert "'g'" in f["message"] and f"{tmp_path}/app.wsgi" in f["message"]
    assert "WSGIProcessGroup" in f["fix"]


def test_restricted_embedded_and_undefined_group(tmp_path):
    rc, res = _explain(tmp_path, "restrict-nogroup.log")
    assert sorted(codes(res)) == ["daemon-group-undefined", "embedded-mode-disabled"]
    assert "'nope'" in finding(res, "daemon-group-undefined")["message"]


def test_python_home_in_virtualhost(tmp_path):
    rc, res = _explain(tmp_path, "vhost-python-home.log")
    f = finding(res, "global-only-directive-in-virtualhost")
    assert f"{tmp_path}/apache0/httpd.conf:49" in f["message"]


@pytest.mark.parametrize("name", ["mixed.log", "mixed-nested.log", "mixed-garbled.log"])
def test_mixed_log_one_finding_per_cause(tmp_path, name):
    """Real captures: mixed-nested.log has dumps nested in each other, mixed-garbled.log two written char by char."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    rc, res = _explain(tmp_path, name)
    got = sorted((f["code"], f["data"]["home"]) for f in res["findings"])
    assert got == sorted([("python-home-not-venv-root", f"{tmp_path}/venv/bin/python"),
                          ("python-home-not-venv-root", f"{tmp_path}/venv/lib/python3.11"),
                          ("python-home-inaccessible", f"{tmp_path}/private/venv"),
                          ("pyvenv-cfg-unreadable", f"{tmp_path}/locked")])
    restarts = [f["data"].get("daemon_restarts") for f in res["findings"]]
    assert all(r and r >= 1 for r in restarts)


def test_pyenv_venv_log_needs_the_machine(tmp_path, venv_factory):
    """The log of a pyenv-made venv is clean; the cause is found by inspecting the home it names."""
    rc, res = _explain(tmp_path, "pyenv-venv.log")
    assert rc == 0 and res["findings"] == []
    if PYENV_311 is None:
        pytest.skip("no pyenv 3.11 on this machine")
    venv = venv_factory("venv", python=PYENV_311)
    log = tmp_path / "pyenv.log"
    log.write_text(expand_log("pyenv-venv.log", venv.root.parent))
    rc, res = run_json("explain-log", str(log))
    f = finding(res, "venv-python-mismatch")
    assert os.path.dirname(os.path.dirname(PYENV_311)) in f["message"]
    assert any("the log shows python-home" in e for e in f["evidence"])
    assert res["facts"]["home_checks"][0]["user"]["name"] == "www-data"  # uid=33 from "Starting process"


def test_uwsgi_log(tmp_path):
    rc, res = _explain(tmp_path, "uwsgi-bin-python.log")
    assert res["facts"]["server"] == "uwsgi"
    f = finding(res, "python-home-not-venv-root")
    assert f"use home={tmp_path}/venv" in f["message"] and "home = <venv root>" in f["fix"]


SYNTHETIC = """\
[Sat Nov 21 10:00:00.000000 2026] [wsgi:warn] [pid 10:tid 10] mod_wsgi: Compiled for Python/3.11.2.
[Sat Nov 21 10:00:00.000001 2026] [wsgi:warn] [pid 10:tid 10] mod_wsgi: Runtime using Python/3.11.7.
[Sat Nov 21 10:00:01.000000 2026] [wsgi:info] [pid 12:tid 20] [remote 127.0.0.1:1] mod_wsgi (pid=12, process='g', application='example.com|/shop'): Loading Python script file '/srv/shop/app.wsgi'.
[Sat Nov 21 10:00:01.100000 2026] [wsgi:error] [pid 12:tid 20] [remote 127.0.0.1:1] ImportError: cannot load module more than once per process
[Sat Nov 21 10:00:02.000000 2026] [wsgi:error] [pid 12:tid 21] [remote 127.0.0.1:1] ImportError: PyO3 modules do not yet support subinterpreters, see https://github.com/PyO3/pyo3/issues/576
AH00526: Syntax error on line 3 of /etc/apache2/sites-enabled/shop.conf:
Invalid command 'WSGIDaemonProcess', perhaps misspelled or defined by a module not included in the server configuration
[Sat Nov 21 10:00:03.000000 2026] [wsgi:error] [pid 13:tid 22] [client 127.0.0.1:2] Target WSGI script not found or unable to stat: /srv/shop/missing.wsgi
"""


def test_synthetic_messages_from_source_format_strings(tmp_path):
    log = tmp_path / "synthetic.log"
    log.write_text(SYNTHETIC)
    rc, res = run_json("explain-log", str(log), "--no-check-homes")
    assert sorted(set(codes(res))) == ["c-extension-in-subinterpreter", "mod-wsgi-not-loaded",
                                       "mod-wsgi-python-patch-mismatch", "wsgi-script-unreadable"]
    sub = [f for f in res["findings"] if f["code"] == "c-extension-in-subinterpreter"]
    assert len(sub) == 2 and all("'example.com|/shop'" in f["message"] for f in sub)
    assert "WSGIApplicationGroup %{GLOBAL}" in sub[0]["fix"]
    assert "3.11.2" in finding(res, "mod-wsgi-python-patch-mismatch")["message"]


def test_clean_log_stdin_tail_and_formats(tmp_path):
    clean = "[Sat Nov 21 10:00:00.0 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4 configured\n"
    rc, res = run_json("explain-log", "-", "--no-check-homes", stdin=clean)
    assert rc == 0 and res["findings"] == [] and res["summary"] == {"error": 0, "warning": 0, "info": 0}
    log = tmp_path / "bin.log"
    log.write_text(expand_log("bin-python.log", tmp_path) + clean)
    # --tail keeps only the end: the fatal start-ups are cut off.
    rc, res = run_json("explain-log", str(log), "--no-check-homes", "--tail", "1")
    assert rc == 0
    for fmt, marker in (("text", "== Findings =="), ("markdown", "## Findings")):
        rc, out, err = run_cli("explain-log", str(log), "--no-check-homes", "--format", fmt)
        assert rc == 1 and marker in out and "python-home-not-venv-root" in out and "pyvenv.cfg" in out
    rc, out, err = run_cli("explain-log", str(log), "--no-check-homes", "--fail-on", "never")
    assert rc == 0
    rc, out, err = run_cli("explain-log", str(tmp_path / "nope.log"))
    assert rc == 2 and "does not exist" in err and "Traceback" not in err


def test_real_cli_process(tmp_path):
    """The installed console script, as a user would run it (exit code 1, one line per finding)."""
    log = tmp_path / "x.log"
    log.write_text(expand_log("lib-python.log", tmp_path))
    proc = subprocess.run(["venvprobe", "explain-log", str(log), "--no-check-homes"], capture_output=True, text=True)
    assert proc.returncode == 1 and "python-home-not-venv-root" in proc.stdout


def test_a_rejoined_home_that_disagrees_with_the_prefix_yields_the_prefix(tmp_path):
    """A real capture (CI, 04:48): the daemon's PYTHONHOME was cut at '/opt/nowhe', an Apache child's dump
    interleaved character by character, and a stray "1'" closed the value: '/opt/nowhe1'.
    With PYTHONHOME set, sys.prefix is the home, and it was printed whole."""
    rc, res = _explain(tmp_path, "pythonhome-env-cut.log")
    f = finding(res, "pythonhome-from-env")
    assert "PYTHONHOME=/opt/nowhere " in f["message"] and "nowhe1" not in f["message"]
    assert f"python-home={tmp_path}/venv" in f["message"]
