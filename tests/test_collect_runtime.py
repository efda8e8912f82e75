"""Facts only a running process has: stale imports, code changed on disk after
start, sub-interpreters, and sections that fail on their own."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from report_helpers import COLLECT_SRC, clean_env, codes, collect_in, need_python, one_finding
from venvprobe.analyze import analyze
from venvprobe.render import render


@pytest.fixture(scope="module")
def py311() -> str:
    return need_python("3.11")


def test_stale_module_after_sys_path_change(tmp_path: Path, py311: str) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for d in (old, new):
        d.mkdir()
        (d / "appmod.py").write_text(f"WHERE = {d.name!r}\n")
    setup = (f"import sys; sys.path.insert(0, {str(old)!r}); import appmod\n"
             f"sys.path.insert(0, {str(new)!r})  # e.g. a second WSGI script prepends its own dir\n")
    report = collect_in(py311, setup, cwd=tmp_path)
    [m] = [m for m in report["modules"]["top_level"] if m["name"] == "appmod"]
    assert m["file"] == str(old / "appmod.py")
    assert m["resolves_to"] == str(new / "appmod.py")
    assert m["matches_sys_path"] is False
    f = one_finding(report, "stale-module")
    assert f["message"] == f"appmod was loaded from {old / 'appmod.py'} but sys.path now resolves it to {new / 'appmod.py'}"
    # The shadowing itself is reported too, with the loaded file.
    sh = [x for x in report["shadowed"]["modules"] if x["name"] == "appmod"][0]
    assert sh["loaded_file"] == str(old / "appmod.py") and sh["winner"]["path"] == str(new / "appmod.py")


def test_source_modified_after_process_start(tmp_path: Path, py311: str) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "deployed.py").write_text("VERSION = 1\n")
    (lib / "untouched.py").write_text("VERSION = 1\n")
    setup = (f"import sys, time; sys.path.insert(0, {str(lib)!r}); import deployed, untouched\n"
             "time.sleep(1.2)  # a deploy a little later (the collector allows 1 s of clock slack)\n"
             f"open({str(lib / 'deployed.py')!r}, 'w').write('VERSION = 2\\n')\n")
    report = collect_in(py311, setup, cwd=tmp_path)
    mods = {m["name"]: m for m in report["modules"]["top_level"]}
    assert mods["deployed"].get("modified_after_start") is True
    assert "modified_after_start" not in mods["untouched"]
    assert report["modules"]["process_start"] is not None
    f = one_finding(report, "source-modified-after-start")
    assert f["message"] == "1 loaded modules changed on disk after the process started: deployed"
    assert f["evidence"] == [str(lib / "deployed.py")]
    # A report collected by `--python` in a fresh process never claims this.
    report["collector"]["in_process"] = False
    assert "source-modified-after-start" not in [x["code"] for x in analyze(report)]


_SUB_DRIVER = """
import sys, json
try:
    import _xxsubinterpreters as interpreters
except ImportError:
    import _interpreters as interpreters
out, ext, collect_src = sys.argv[1], sys.argv[2], sys.argv[3]
interp = interpreters.create()
code = '''
import sys
if {ext!r}:
    __import__({ext!r})
g = {{"__name__": "__venvprobe_collect__"}}
exec(compile(open({src!r}).read(), {src!r}, "exec"), g)
open({out!r}, "w").write(g["dumps"](g["collect"]({{"use_psutil": False}})))
'''.format(ext=ext, src=collect_src, out=out)
interpreters.run_string(interp, code)
"""


def _collect_in_subinterpreter(python: str, tmp_path: Path, ext: str = "") -> dict:
    out = tmp_path / "sub.json"
    subprocess.run([python, "-c", _SUB_DRIVER, str(out), ext, str(COLLECT_SRC)], check=True,
                   capture_output=True, env=clean_env(), cwd=tmp_path)
    report = json.loads(out.read_text())
    report["findings"] = analyze(report)
    return report


@pytest.mark.parametrize("minor,module", [("3.11", "_xxsubinterpreters"), ("3.12", "_xxsubinterpreters"),
                                          ("3.13", "_interpreters")])
def test_collector_inside_a_subinterpreter(tmp_path: Path, minor: str, module: str) -> None:
    report = _collect_in_subinterpreter(need_python(minor), tmp_path)
    ident = report["identity"]
    assert ident["interpreter_id"] == 1 and ident["main_interpreter"] is False
    assert ident["interpreter_id_source"] == module
    # Only stdlib extensions are loaded: no finding about C extensions.
    assert "c-extension-in-subinterpreter" not in codes(report)
    main = collect_in(need_python(minor), "", cwd=tmp_path)
    assert main["identity"]["interpreter_id"] == 0 and main["identity"]["main_interpreter"] is True


def test_third_party_c_extension_in_subinterpreter(tmp_path: Path) -> None:
    # The test runner's Python has psutil (a venvprobe dependency): a real
    # third-party C extension.  3.12+ refuses single-phase extensions in
    # isolated sub-interpreters, so this is the 3.11 (mod_wsgi-style) case.
    if sys.version_info >= (3, 12):
        pytest.skip("legacy sub-interpreters (3.11 and older) only")
    spec = importlib.util.find_spec("psutil._psutil_linux")
    if spec is None:
        pytest.skip("psutil is not installed")
    report = _collect_in_subinterpreter(sys.executable, tmp_path, ext="psutil")
    exts = {x["module"]: x["file"] for x in report["modules"]["extensions"]}
    assert exts["psutil._psutil_linux"] == spec.origin
    f = one_finding(report, "c-extension-in-subinterpreter")
    assert f["message"] == "1 third-party C extensions are loaded in sub-interpreter 1: psutil._psutil_linux"
    assert f["evidence"] == [spec.origin]
    assert "WSGIApplicationGroup %{GLOBAL}" in [x for x in analyze(dict(report, identity=dict(
        report["identity"], server={"kind": "mod_wsgi"}))) if x["code"] == "c-extension-in-subinterpreter"][0]["fix"]


def test_a_failing_section_reports_its_own_error(tmp_path: Path, py311: str) -> None:
    # A hostile object in sys.modules under the name the server detection reads.
    setup = """
        import sys, types
        class Hostile(types.ModuleType):
            @property
            def process_group(self):
                raise RuntimeError("boom from a hostile module")
            def __getattr__(self, name):
                raise RuntimeError("boom from a hostile module")
        sys.modules["mod_wsgi"] = Hostile("mod_wsgi")
    """
    report = collect_in(py311, setup, cwd=tmp_path)
    assert report["identity"] == {"error": "RuntimeError: boom from a hostile module"}
    # Everything else stands.
    for key in ("interpreter", "sys_path", "distributions", "shadowed", "modules", "process", "environment"):
        assert "error" not in report[key] if isinstance(report[key], dict) else True, key
    assert report["sys_path"]["entries"]
    for fmt in ("text", "markdown", "html", "json"):
        out = render(report, fmt)
        assert "boom from a hostile module" in out
    text = render(report, "text", ["identity"])
    assert "this section could not be collected" in text
