"""GIL mode and interpreter configuration without a server, on every pyenv Python 3.8-3.13: the
collector in the main interpreter, and (3.12, 3.13) inside an isolated own-GIL sub-interpreter that a
script creates itself, each against the ground truth of tests/test_mod_wsgi6.py's TRUTH_WSGI run in
the same interpreter; plus the opt-in ``check-extensions``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import servers
from offline_helpers import codes, finding, run_cli, run_json
from report_helpers import COLLECT_SRC
from test_mod_wsgi6 import TRUTH_WSGI, _assert_agrees

# Runs TRUTH_WSGI's application and the collector in the interpreter it is executed in.
BOTH = '''
import json
t = {{}}
exec({truth!r}, t)
truth = json.loads(t["application"]({{}}, lambda *a: None)[0])
g = {{"__name__": "__venvprobe_collect__"}}
exec(compile(open({src!r}).read(), {src!r}, "exec"), g)
report = g["collect"]({{"use_psutil": False}})
with open({out!r}, "w") as fh:
    fh.write(g["dumps"]({{"truth": truth, "report": report}}))
'''

ISOLATED = '''
import sys
try:
    import _interpreters as api
    interp = api.create("isolated")
except ImportError:
    import _xxsubinterpreters as api
    interp = api.create(isolated=True)
error = api.run_string(interp, {code!r})
if error is not None:
    sys.exit(str(error))
'''


def _run(python: str, tmp_path: Path, isolated: bool) -> tuple:
    out = tmp_path / "out.json"
    code = BOTH.format(truth=TRUTH_WSGI, src=str(COLLECT_SRC), out=str(out))
    if isolated:
        code = ISOLATED.format(code=code)
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    return data["truth"], data["report"]


@pytest.mark.parametrize("minor", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_main_interpreter_every_version(minor, tmp_path):
    python = servers.pyenv_python(minor)
    if python is None:
        servers.require(str(servers.pyenv_root() / "versions" / (minor + ".*")))
    truth, report = _run(str(python), tmp_path, isolated=False)
    config = _assert_agrees(truth, report, main=True, own=False)
    assert config["gil"] == "shared" and config["free_threaded_build"] is False
    if minor == "3.13":
        assert config["config_source"] == "_interpreters.get_config()"
    elif minor == "3.12":
        assert config["config"] == {"allow_daemon_threads": True}
    assert report["identity"]["extension_support"] == {
        "checked": False, "reason": "this interpreter loads any extension (shared GIL, no multi-interpreter check)",
        "modules": [], "truncated": False}


@pytest.fixture(scope="module", params=["3.12", "3.13"])
def psutil_venv(request):
    python = servers.readable_python(request.param)
    root = servers.fresh_shared_dir("ci" + request.param)
    yield request.param, servers.make_venv(root / "venv", python=str(python), packages=["psutil"])


def test_isolated_subinterpreter(psutil_venv, tmp_path):
    minor, venv = psutil_venv
    truth, report = _run(str(venv.python), tmp_path, isolated=True)
    config = _assert_agrees(truth, report, main=False, own=True)
    assert "does not support loading in subinterpreters" in truth["psutil"]
    support = report["identity"]["extension_support"]
    [psutil] = [m for m in support["modules"] if m.get("refused")]
    assert psutil["package"] == "psutil" and psutil["site_dir"] == str(venv.site_packages)
    assert psutil["init"] == "single-phase" and psutil["loaded"] is None
    if minor == "3.12":
        assert config["gil_source"].startswith("inferred from _thread.daemon_threads_allowed()")


def test_check_extensions(psutil_venv):
    minor, venv = psutil_venv
    rc, res = run_json("check-extensions", "--python", str(venv.python))
    assert rc == 1 and codes(res) == ["extension-refuses-interpreter"]
    f = finding(res, "extension-refuses-interpreter")
    assert f["message"].startswith(f"psutil (installed in {venv.site_packages}) does not load in an own-GIL")
    assert any("does not support loading in subinterpreters" in e for e in f["evidence"])
    [m] = res["facts"]["modules"]
    assert (m["module"], m["loads"], m["init"]) == ("psutil._psutil_linux", False, "single-phase")


def test_check_extensions_needs_312(tmp_path):
    python = servers.pyenv_python("3.11")
    if python is None:
        servers.require(str(servers.pyenv_root() / "versions" / "3.11.*"))
    rc, out, err = run_cli("check-extensions", "--python", str(python))
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "3.12+ needed" in err
