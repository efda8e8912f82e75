"""explain-log on mod_wsgi 6 logs: real captures (tests/data/offline/mod_wsgi6-*.log, made by
tests/test_mod_wsgi6.py's set-ups with mod_wsgi 6.1.1 on pyenv's 3.13) and one line per message
code explain-log claims to know, built from the format strings in mod_wsgi 6's source ("synthetic")."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline_helpers import codes, expand_log, finding, run_json
from venvprobe.offline.error_log import KNOWN_CODES


def _explain(tmp_path: Path, name: str):
    log = tmp_path / name
    log.write_text(expand_log(name, tmp_path))
    return run_json("explain-log", str(log), "--no-check-homes")


def test_crash_loop_capture(tmp_path):
    rc, res = _explain(tmp_path, "mod_wsgi6-crash-loop.log")
    assert rc == 1
    assert codes(res) == ["python-startup-fails"]  # one cause, however many respawns
    f = finding(res, "python-startup-fails")
    assert f["severity"] == "error"
    assert f"python-home={tmp_path}/venv" in f["message"] and "Failed to import encodings module" in f["message"]
    assert f["data"]["daemon_restarts"] >= 2 and f["data"]["context"] == "daemon process 'app'"
    assert any("WSGI0036" in e for e in f["evidence"]) and any("WSGI0028" in e for e in f["evidence"])
    assert any("Could not find platform independent libraries" in e for e in f["evidence"])
    assert any("terminated by signal 11" in e for e in f["evidence"])


def test_embedded_mode_capture(tmp_path):
    rc, res = _explain(tmp_path, "mod_wsgi6-embedded-unreadable.log")
    assert rc == 1 and codes(res) == ["embedded-python-fails"]
    f = finding(res, "embedded-python-fails")
    assert "embedded mode, no python-home" in f["message"]
    assert "WSGIRestrictEmbedded On" in f["fix"]
    assert [e for e in f["evidence"] if "WSGI0001" in e] and [e for e in f["evidence"] if "WSGI0210" in e]


def test_own_gil_psutil_capture(tmp_path):
    rc, res = _explain(tmp_path, "mod_wsgi6-own-gil-psutil.log")
    assert rc == 1 and codes(res) == ["extension-refuses-interpreter"]
    f = finding(res, "extension-refuses-interpreter")
    assert f["message"].startswith(f"psutil (installed in {tmp_path}/good/lib/python3.13/site-packages) will not "
                                   "import in sub-interpreter 'app1'")
    assert any("with own GIL" in e for e in f["evidence"])
    assert "application-group=%{GLOBAL}" in f["fix"]


def test_pth_refused_at_interpreter_creation_capture(tmp_path):
    """A .pth on the own-GIL group's python-path imported psutil while the interpreter was created."""
    rc, res = _explain(tmp_path, "mod_wsgi6-own-gil-pth.log")
    assert rc == 1 and codes(res) == ["extension-refuses-interpreter"]
    f = finding(res, "extension-refuses-interpreter")
    assert f["message"].startswith(f"psutil (installed in {tmp_path}/venv/lib/python3.13/site-packages) will not "
                                   "import in sub-interpreter 'own'")
    assert f"imported by {tmp_path}/pp/zz_preload.pth line 1 while the interpreter was created" in f["message"]
    assert any("with own GIL" in e for e in f["evidence"]) and any("zz_preload.pth" in e for e in f["evidence"])


def test_another_thread_creating_an_interpreter_does_not_take_the_blame(tmp_path):
    """While a request thread's import fails in app1, another thread creates app2: the refusal stays app1's."""
    lines = expand_log("mod_wsgi6-own-gil-psutil.log", tmp_path).splitlines()
    request = [line for line in lines if "tid 2471" in line and "Loading WSGI script" not in line]
    creating = next(line for line in lines if "Creating sub-interpreter 'app1'" in line)
    other = creating.replace("tid 2442", "tid 2499").replace("'app1'", "'app2'")
    head = lines[:lines.index(creating) + 2]  # app1 created and its script loaded by the first thread
    path = tmp_path / "other-thread.log"
    path.write_text("\n".join(head + [other] + request) + "\n")
    rc, res = run_json("explain-log", str(path), "--no-check-homes")
    assert rc == 1 and codes(res) == ["extension-refuses-interpreter"], res["findings"]
    assert "will not import in sub-interpreter 'app1'" in res["findings"][0]["message"]
    assert "imported by" not in res["findings"][0]["message"]


def test_interleaved_tracebacks_of_two_own_gil_interpreters(tmp_path):
    """Two threads of one daemon fail at once in two own-GIL interpreters: Apache interleaves their
    tracebacks line by line.  Each refusal is read from its own thread's lines (once both were
    blamed on the last interpreter loaded, with the other's package)."""
    lines = expand_log("mod_wsgi6-own-gil-psutil.log", tmp_path).splitlines()
    first = [line for line in lines if "tid 2471" in line]  # the capture's request-time traceback
    assert first and any("does not support loading in subinterpreters" in line for line in first)
    second = [line.replace("tid 2471", "tid 2480").replace("'app1'", "'app2'").replace("48106", "48200")
              .replace(f"{tmp_path}/good/", f"{tmp_path}/other venv/").replace("ps.wsgi", "lx.wsgi")
              .replace("psutil/__init__.py", "lxml/__init__.py").replace("psutil/_pslinux.py", "lxml/etree.py")
              .replace("import psutil", "import lxml.etree").replace("psutil._psutil_linux", "lxml._elementpath")
              .replace("_psutil_linux", "_elementpath") for line in first]
    head = [line for line in lines if "tid 2471" not in line and "2442]" in line and "Creating sub" in line]
    start = [line for line in lines[:lines.index(head[0])]]
    log = start + head + [head[0].replace("'app1'", "'app2'")]
    for a, b in zip(first, second):
        log += [a, b]
    path = tmp_path / "interleaved.log"
    path.write_text("\n".join(log) + "\n")
    rc, res = run_json("explain-log", str(path), "--no-check-homes")
    assert rc == 1 and codes(res) == ["extension-refuses-interpreter"] * 2, res["findings"]
    messages = sorted(f["message"] for f in res["findings"])
    assert messages[0].startswith(f"lxml (installed in {tmp_path}/other venv/lib/python3.13/site-packages) will not "
                                  "import in sub-interpreter 'app2'") and "lxml._elementpath" in messages[0]
    assert messages[1].startswith(f"psutil (installed in {tmp_path}/good/lib/python3.13/site-packages) will not "
                                  "import in sub-interpreter 'app1'") and "psutil._psutil_linux" in messages[1]


def test_free_threading_on_a_gil_build_capture(tmp_path):
    rc, res = _explain(tmp_path, "mod_wsgi6-free-threading-gil-build.log")
    assert rc == 1 and codes(res) == ["free-threading-unavailable"]
    f = finding(res, "free-threading-unavailable")
    assert "skipped the per-interpreter GIL for sub-interpreter 'app1'" in f["message"]
    assert any("WSGI0200" in e for e in f["evidence"]) and any("WSGI0202" in e for e in f["evidence"])


def test_daemon_start_and_interpreter_init_capture(tmp_path):
    """Real capture (tests/test_mod_wsgi6_daemon_start.py): a daemon whose home= is missing or behind a 0700
    directory (WSGI0009), one
    whose user's passwd home is /nonexistent (WSGI0010), a .pth calling sys.exit() on python-path
    (WSGI0091/0189), a raising 'mod_wsgi' package in a venv (WSGI0188), 'site' hidden so no interpreter can be
    set up (WSGI0095/0035/0188/0038/0029/0103/0087), WSGIFreeThreading in an application-group block (WSGI0201)."""
    rc, res = _explain(tmp_path, "mod_wsgi6-daemon-start.log")
    assert rc == 1
    by = {(f["code"], (f["data"] or {}).get("context")): f for f in res["findings"]}
    assert len(by) == len(res["findings"]) == 8, res["findings"]
    home = by[("daemon-cannot-start", "daemon process 'h'")]
    assert home["message"].startswith(f"daemon process 'h' cannot change its working directory to home={tmp_path}/"
                                      "missing (No such file or directory): it exits before Python starts")
    assert home["data"]["directory"] == f"{tmp_path}/missing"
    assert any("WSGI0009" in e for e in home["evidence"]) and any("WSGI0025" in e for e in home["evidence"])
    denied = by[("daemon-cannot-start", "daemon process 'hp'")]
    assert f"home={tmp_path}/private/app (Permission denied)" in denied["message"]
    assert f"Fix: let the daemon's user search (x) every directory on the way to {tmp_path}/private/app" in \
        denied["message"] and "create" not in denied["message"]
    nobody = by[("daemon-cannot-start", "daemon process 'nb'")]
    assert "/nonexistent, the home directory of uid=65534" in nobody["message"]
    assert "add home=<a directory uid=65534 can enter>" in nobody["message"]
    exits = by[("interpreter-init-exception", "daemon process 'ex'")]
    assert exits["data"]["exception"] == "SystemExit: 3"
    assert exits["data"]["interpreters"] == ["main interpreter", "sub-interpreter 'x'"]
    assert f"python-path entry {tmp_path}/pp_exit" in exits["message"] and "ignored it" in exits["message"]
    pkg = by[("interpreter-init-exception", "daemon process 'ap'")]
    assert f"in {tmp_path}/broken/lib/python3.13/site-packages/mod_wsgi/__init__.py line 1" in pkg["message"]
    setup = by[("interpreter-setup-fails", "daemon process 'sb'")]
    assert setup["data"]["interpreters"] == ["main interpreter", "sub-interpreter 'z'"]
    assert "the 'site' module cannot be imported" in setup["message"] and setup["data"]["requests_refused"] == 1
    # WSGI0029 there is the consequence of WSGI0038, not "Python cannot start"
    assert ("python-startup-fails", "daemon process 'sb'") not in by
    assert ("free-threading-scope-ignored", None) in by and ("free-threading-unavailable", None) in by


P = "[Tue Dec 01 23:40:23.711839 2026] [wsgi:{level}] [pid 1823:tid 1823] "
# One line per code in KNOWN_CODES, from mod_wsgi 6.1.1's format strings (synthetic), and the finding it gives.
SYNTHETIC = {
    "0001": ("crit", "WSGI0001: Python initialisation failed in Apache child process; Python based handlers will "
             "not be available.", "embedded-python-fails"),
    "0002": ("crit", "WSGI0002: Python child initialisation failed in Apache child process; Python based handlers "
             "will not be available.", "embedded-python-fails"),
    # WSGI0003-0007 (chroot=, group=, supplementary-groups=, user=): as root, Apache's parent validates these
    # at configuration time, so a failure needs a system fault; from the format strings only.
    "0003": ("alert", "(2)No such file or directory: WSGI0003: Unable to change root directory to '/srv/jail'. "
             "Daemon process will exit.", "daemon-cannot-start"),
    "0004": ("alert", "(1)Operation not permitted: WSGI0004: Unable to set group id to gid=1001. Daemon process will "
             "exit.", "daemon-cannot-start"),
    "0005": ("alert", "(1)Operation not permitted: WSGI0005: Unable to set supplementary groups for uname=app of "
             "'staff,audio'. Daemon process will exit.", "daemon-cannot-start"),
    "0006": ("alert", "(1)Operation not permitted: WSGI0006: Unable to initialise groups for uname=app and gid=1001. "
             "Daemon process will exit.", "daemon-cannot-start"),
    "0007": ("alert", "(11)Resource temporarily unavailable: WSGI0007: Unable to change to uid=1001. Daemon process "
             "will exit.", "daemon-cannot-start"),
    "0009": ("alert", "(13)Permission denied: WSGI0009: Unable to change working directory to '/home/app/site'. "
             "Daemon process will exit.", "daemon-cannot-start"),
    "0010": ("alert", "(2)No such file or directory: WSGI0010: Unable to change working directory to home directory "
             "'/nonexistent' for uid=65534. Daemon process will exit.", "daemon-cannot-start"),
    # user=#uid without a passwd entry is refused at configuration time: from the format string only
    "0011": ("alert", "WSGI0011: Unable to determine home directory for uid=4242. Daemon process will exit.",
             "daemon-cannot-start"),
    "0025": ("alert", "WSGI0025: Daemon process configuration failed; process left in unspecified state. Daemon "
             "process will exit and be restarted after a delay.", "daemon-cannot-start"),
    "0035": ("crit", "WSGI0035: Unable to setup sub-interpreter 'z' in daemon process 'sb'.", "interpreter-setup-fails"),
    "0038": ("error", "WSGI0038: Python based handlers will not be available in daemon process 'sb'.",
             "interpreter-setup-fails"),
    "0087": ("error", "[remote 127.0.0.1:1] [script /srv/app.wsgi] WSGI0087: Unable to acquire sub-interpreter 'z' "
             "for WSGI request handler in daemon process 'sb'.", "interpreter-setup-fails"),
    "0091": ("error", "WSGI0091: Call to 'site.addsitedir()' failed for '/srv/pp' in daemon process 'ex'; remaining "
             "python-path entries will not be added.", "interpreter-init-exception"),
    "0095": ("error", "WSGI0095: Unable to import 'site' module in daemon process 'sb'.", "interpreter-init-exception"),
    "0103": ("error", "WSGI0103: Python based handlers will not be available for sub-interpreter 'z' in daemon "
             "process 'sb'.", "interpreter-setup-fails"),
    "0188": ("error", "WSGI0188: RuntimeError exception raised during Python interpreter initialisation for main "
             "interpreter of daemon process 'ap'.", "interpreter-init-exception"),
    "0189": ("error", "WSGI0189: SystemExit exception raised during Python interpreter initialisation for "
             "sub-interpreter 'x' of daemon process 'ex'; ignored.", "interpreter-init-exception"),
    "0201": ("warn", "WSGI0201: WSGIFreeThreading inside <WSGIInterpreterOptions> with application-group= set is "
             "ignored: free-threading is a process-wide setting and cannot be scoped per application group.",
             "free-threading-scope-ignored"),
    "0028": ("crit", "WSGI0028: Python initialisation failed in daemon process 'app'; Python based handlers will not "
             "be available.", "python-startup-fails"),
    "0029": ("crit", "WSGI0029: Python child initialisation failed in daemon process 'app'; Python based handlers "
             "will not be available.", "python-startup-fails"),
    "0036": ("crit", "WSGI0036: Python interpreter configuration failed in daemon process 'app': Failed to import "
             "encodings module", "python-startup-fails"),
    "0099": ("warn", "WSGI0099: Compiled for Python/3.13.1 but runtime using Python/3.13.0 in daemon process 'app'.",
             "mod-wsgi-python-patch-mismatch"),
    "0100": ("warn", "(13)Permission denied: WSGI0100: Unable to stat Python home '/home/u/venv' for daemon process "
             "'app'; Python interpreter may not initialise correctly. Verify the path and the access permissions "
             "on every component of it.", "python-home-inaccessible"),
    "0101": ("warn", "WSGI0101: Python home '/srv/venv/bin/python' for daemon process 'app' is not a directory; "
             "Python interpreter may not initialise correctly. Verify the supplied path.",
             "python-home-not-venv-root"),
    "0102": ("warn", "WSGI0102: Python home '/srv/venv' for daemon process 'app' is not accessible; Python "
             "interpreter may not initialise correctly. Verify the access permissions on the directory.",
             "python-home-inaccessible"),
    "0135": ("error", "[client 127.0.0.1:1] [script /srv/app.wsgi] WSGI0135: Target WSGI script not found or unable "
             "to stat: /srv/app.wsgi", "wsgi-script-unreadable"),
    "0143": ("error", "[client 127.0.0.1:1] [script /srv/app.wsgi] WSGI0143: Embedded mode of mod_wsgi disabled by "
             "runtime configuration.", "embedded-mode-disabled"),
    "0150": ("error", "[client 127.0.0.1:1] WSGI0150: No WSGI daemon process called 'ghost' has been configured.",
             "daemon-group-undefined"),
    "0151": ("error", "[client 127.0.0.1:1] WSGI0151: No WSGI daemon process called 'ghost' has been configured.",
             "daemon-group-undefined"),
    "0198": ("warn", "WSGI0198: WSGIPerInterpreterGIL requires Python 3.12 or later; directive has no effect on this "
             "build.", "per-interpreter-gil-unsupported"),
    "0200": ("warn", "WSGI0200: WSGIFreeThreading On has no effect: this Python build does not support "
             "free-threading (PEP 703). Rebuild Python with --disable-gil to use it.", "free-threading-unavailable"),
    "0202": ("warn", "WSGI0202: Skipping per-interpreter GIL for sub-interpreter 'app1' in daemon process 'app': "
             "free-threading is active in this process so there is no GIL to allocate per interpreter.",
             "per-interpreter-gil-unsupported"),
    "0210": ("error", "[client 127.0.0.1:1] [script /srv/app.wsgi] WSGI0210: Embedded mode of mod_wsgi cannot be used "
             "as Python was not initialised in this process.", None),
}


def test_every_known_code_is_tested():
    assert sorted(SYNTHETIC) == sorted(KNOWN_CODES)


@pytest.mark.parametrize("code", sorted(SYNTHETIC))
def test_each_known_code(tmp_path, code):
    level, text, expected = SYNTHETIC[code]
    lines = [P.format(level=level) + text]
    if code == "0210":  # evidence of the embedded failure, never a finding on its own
        lines.insert(0, P.format(level="crit") + SYNTHETIC["0001"][1])
        expected = "embedded-python-fails"
    log = tmp_path / "synthetic.log"
    log.write_text("\n".join(lines) + "\n")
    rc, res = run_json("explain-log", str(log), "--no-check-homes")
    assert codes(res) == [expected], res["findings"]
    assert any(f"WSGI{code}" in e for e in res["findings"][0]["evidence"])


def test_daemon_respawn_loop_is_one_finding(tmp_path):
    """The captured daemon 'h' (home= missing) respawned twice more with new pids, as mod_wsgi does after
    its delay: still one finding, with the attempts counted; a group whose cause line was lost (WSGI0025
    alone) is its own finding."""
    lines = expand_log("mod_wsgi6-daemon-start.log", tmp_path).splitlines()
    h = [line for line in lines if "pid 19678]" in line or "pid 19678:" in line]
    assert len(h) == 3 and "WSGI0009" in h[1] and "WSGI0025" in h[2]
    log = list(lines)
    for pid in ("19801", "19902"):
        log += [line.replace("19678", pid) for line in h]
    log.append(h[0].replace("19678", "20001").replace("'h'", "'lost'"))
    log.append(h[2].replace("19678", "20001"))
    path = tmp_path / "respawn.log"
    path.write_text("\n".join(log) + "\n")
    rc, res = run_json("explain-log", str(path), "--no-check-homes")
    mine = [f for f in res["findings"] if f["code"] == "daemon-cannot-start"
            and f["data"]["context"] in ("daemon process 'h'", "daemon process 'lost'")]
    assert rc == 1 and len(mine) == 2, mine
    h_finding = next(f for f in mine if f["data"]["context"] == "daemon process 'h'")
    assert h_finding["data"]["attempts"] == 3
    assert "3 attempts in this log: mod_wsgi restarts it after a delay, forever" in h_finding["evidence"]
    lost = next(f for f in mine if f["data"]["context"] == "daemon process 'lost'")
    assert "the line saying which is not in this log" in lost["message"]


def test_daemon_start_capture_interleaved_with_other_processes(tmp_path):
    """Under load other processes write between a daemon's lines (seen once: WSGI0091 then seven foreign
    lines, then WSGI0189): the related lines are still read together, per thread, one finding per cause."""
    lines = expand_log("mod_wsgi6-daemon-start.log", tmp_path).splitlines()
    noise = "[Wed Dec 02 01:08:26.500000 2026] [wsgi:info] [pid 4242:tid 4243] Python home set to '/srv/other' for " \
            "daemon process 'other'."
    log = []
    for line in lines:
        log.append(line)
        log += [noise] * 7
    path = tmp_path / "interleaved.log"
    path.write_text("\n".join(log) + "\n")
    rc, res = run_json("explain-log", str(path), "--no-check-homes")
    plain = run_json("explain-log", str(_write(tmp_path, lines)), "--no-check-homes")[1]
    assert rc == 1
    assert sorted((f["code"], f["message"]) for f in res["findings"]) == \
        sorted((f["code"], f["message"]) for f in plain["findings"])


def _write(tmp_path, lines):
    path = tmp_path / "plain.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_daemon_start_capture_through_journald(tmp_path):
    """The same capture as journald / syslog forwards it ("Dec 02 ... host apache2[PID]: " before each line,
    CRLF line ends): the same findings.  Without the prefix read, pids were unknown, the two WSGI0009
    daemons became one finding and the .pth's SystemExit was lost."""
    lines = expand_log("mod_wsgi6-daemon-start.log", tmp_path).splitlines()
    path = tmp_path / "journal.log"
    path.write_bytes("".join(f"Dec 02 01:08:26 web apache2[1100]: {line}\r\n" for line in lines).encode())
    rc, res = run_json("explain-log", str(path), "--no-check-homes")
    plain = run_json("explain-log", str(_write(tmp_path, lines)), "--no-check-homes")[1]
    assert rc == 1 and len(res["findings"]) == 8
    assert sorted((f["code"], f["message"]) for f in res["findings"]) == \
        sorted((f["code"], f["message"]) for f in plain["findings"])
