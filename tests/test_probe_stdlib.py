"""The probe answers inside the broken interpreter it is there to diagnose.

Each test runs a fresh interpreter of a venv that holds nothing (the probe's
package is appended to ``sys.path`` *after* the standard library), loads a
WSGI script the way mod_wsgi does (compiled and executed as a module of its
own) and calls the application with real WSGI environs.  The script puts the
app's directory first on ``sys.path`` before importing the probe -- the
classic setting for a stray ``random.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List

import pytest

import venvprobe
from venvprobe.probe.guard import PROBE_STDLIB

PKG_ROOT = str(Path(venvprobe.__file__).resolve().parents[1])

HARNESS = r'''
import sys
pkgroot, script, requests = sys.argv[1], sys.argv[2], eval(sys.argv[3])
sys.path.append(pkgroot)  # after the standard library: venvprobe shadows nothing
before = set(sys.modules)
mod = type(sys)("_mod_wsgi_probe_test")  # as mod_wsgi: the script is a module of its own
mod.__file__ = script
sys.modules[mod.__name__] = mod
with open(script) as fh:
    exec(compile(fh.read(), script, "exec"), mod.__dict__)
results = []
for path, query in requests:
    captured = []
    def start_response(status, headers, exc_info=None):
        captured.append((status, headers))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
               "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
               "HTTP_AUTHORIZATION": "Bearer " + OWN_TOKEN}
    body = b"".join(mod.application(environ, start_response))
    results.append((path, query, captured[0][0], dict(captured[0][1]), body))
new = sorted(set(sys.modules) - before)
files = {m: getattr(sys.modules[m], "__file__", None) for m in new if sys.modules.get(m) is not None}
sys.stdout.write(repr({"results": results, "new": new, "files": files}))
'''

ALL_REQUESTS = [("/", "format=json"), ("/", "format=text"), ("/", "format=html"), ("/", "format=markdown"),
                ("/identity", "format=json"), ("/identity", ""), ("/findings", ""), ("/path", "format=json"),
                ("/metrics", ""), ("/health", ""), ("/health", "format=json")]

WSGI_SCRIPT = "import sys\nsys.path.insert(0, {appdir!r})\nfrom venvprobe.wsgi import application\n"
MIDDLEWARE_SCRIPT = """import sys
sys.path.insert(0, {appdir!r})
from venvprobe.middleware import ProbeMiddleware

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the app"]

application = ProbeMiddleware(app, prefix="/")
"""


@pytest.fixture(scope="module")
def empty_venv(tmp_path_factory) -> Path:
    """A venv of the interpreter under test with nothing installed (not even pip)."""
    root = tmp_path_factory.mktemp("empty") / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(str(root))
    return root / "bin" / "python"


#: The probe's own token (the default way in), planted where the probe looks: $HOME/.config/venvprobe.
OWN_TOKEN = "own-token-" + os.urandom(8).hex()


def _own_home(tmp: Path) -> Path:
    home = tmp / "home"
    conf = home / ".config" / "venvprobe"
    conf.mkdir(parents=True, exist_ok=True)
    for d in (home / ".config", conf):
        d.chmod(0o700)
    token = conf / "probe.token"
    token.write_text(OWN_TOKEN + "\n")
    token.chmod(0o600)
    return home


def run_probe(python: Path, tmp: Path, script_text: str, requests=ALL_REQUESTS) -> Dict:
    script = tmp / "probe.wsgi"
    script.write_text(script_text)
    env = dict(os.environ, HOME=str(_own_home(tmp)))
    # -I: no PYTHONPATH, no user site, no script directory: only the app's own sys.path change counts.
    proc = subprocess.run([str(python), "-I", "-c", HARNESS.replace("OWN_TOKEN", repr(OWN_TOKEN)), PKG_ROOT,
                           str(script), repr(requests)], capture_output=True, timeout=120, cwd=str(tmp), env=env)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    return ast.literal_eval(proc.stdout.decode())


@pytest.fixture(scope="module")
def baseline(empty_venv, tmp_path_factory) -> Dict:
    tmp = tmp_path_factory.mktemp("baseline")
    (tmp / "app").mkdir()
    return run_probe(empty_venv, tmp, WSGI_SCRIPT.format(appdir=str(tmp / "app")))


def test_request_path_imports_only_listed_stdlib_modules(baseline) -> None:
    for path, query, status, headers, body in baseline["results"]:
        assert status == "200 OK", (path, query, body[:500])
    new = [m for m in baseline["new"] if not m.startswith(("venvprobe", "_mod_wsgi_"))]
    stdlib = os.path.dirname(os.__file__) + os.sep
    third_party = [m for m in new if isinstance(baseline["files"].get(m), str)
                   and (not baseline["files"][m].startswith(stdlib) or "-packages" in baseline["files"][m])]
    assert third_party == [], "the probe imported outside the standard library"
    unlisted = [m for m in new if m not in PROBE_STDLIB and not m.startswith("_sysconfigdata")]
    assert unlisted == [], f"add these to venvprobe.probe.guard.PROBE_STDLIB (or stop importing them): {unlisted}"
    for name in ("flask", "werkzeug", "jinja2", "tabulate", "psutil", "json", "re", "typing", "dataclasses",
                 "inspect", "random", "secrets", "traceback", "urllib", "html", "email", "textwrap"):
        assert name not in new, name


def _shadowable() -> List[str]:
    names = []
    for name in PROBE_STDLIB:
        if "." in name or name == "_sysconfigdata":
            continue
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is not None:  # a module of this Python (_sha2 is 3.12+, _bootlocale before 3.10...)
            names.append(name)
    return names + ["_sysconfigdata", "os", "stat", "codecs"]


def _named_in(doc: dict, path: str) -> bool:
    if doc.get("schema", {}).get("name") == "venvprobe.error":
        return doc["shadowed_by"] == path
    return any(f["code"] == "stdlib-shadowed" and path in f["message"] for f in doc.get("findings", []))


@pytest.mark.parametrize("name", _shadowable())
def test_probe_answers_and_names_each_shadowing_file(name, empty_venv, baseline, tmp_path) -> None:
    if name == "_sysconfigdata":
        name = next(m for m in baseline["new"] if m.startswith("_sysconfigdata"))
    appdir = tmp_path / "app"
    appdir.mkdir()
    # An app's own module that happens to carry a standard-library name.
    shadow = appdir / f"{name}.py"
    shadow.write_text("APP_OWN_MODULE = True\n")
    got = run_probe(empty_venv, tmp_path, WSGI_SCRIPT.format(appdir=str(appdir)),
                    [("/", "format=json"), ("/", "format=text")])
    (_, _, status, headers, body), (_, _, tstatus, _, tbody) = got["results"]
    assert status in ("200 OK", "500 Internal Server Error"), body[:300]
    doc = json.loads(body)
    if name in sys.builtin_module_names:
        # Built in: no file can shadow it, and the probe gives its full report.
        assert status == "200 OK" and doc["schema"]["name"] == "venvprobe.report"
        return
    assert _named_in(doc, str(shadow)), doc if status != "200 OK" else [f for f in doc["findings"]]
    if status != "200 OK":
        # The probe's own short answer, not a server's bare 500.
        assert headers["X-Venvprobe-Error"] == "stdlib-shadowed"
        assert doc["module"] == name and doc["exception"]
        assert tstatus == status
        assert f"the standard library's {name} is shadowed by {shadow}" in tbody.decode()
    else:
        assert doc["schema"]["name"] == "venvprobe.report" and tstatus == "200 OK"


def test_a_shadowing_package_is_named_once(empty_venv, tmp_path) -> None:
    """hashlib/__init__.py in the app's directory: one stdlib-shadowed error (the shadowed table names the
    directory, the probe's own check the __init__.py; both once made a finding of their own)."""
    appdir = tmp_path / "app"
    (appdir / "hashlib").mkdir(parents=True)
    (appdir / "hashlib" / "__init__.py").write_text("APP_OWN_MODULE = True\n")
    got = run_probe(empty_venv, tmp_path, WSGI_SCRIPT.format(appdir=str(appdir)), [("/", "format=json")])
    _, _, status, _, body = got["results"][0]
    assert status == "200 OK", body[:500]
    found = [f["message"] for f in json.loads(body)["findings"] if f["code"] == "stdlib-shadowed"]
    assert len(found) == 1 and found[0].startswith(f"standard-library module hashlib is shadowed by {appdir / 'hashlib'}"), \
        found


def test_random_py_first_on_sys_path_gives_a_full_report_that_names_it(empty_venv, tmp_path) -> None:
    """The issue's case: the probe no longer imports random at all, so the report is whole."""
    appdir = tmp_path / "app"
    appdir.mkdir()
    shadow = appdir / "random.py"
    shadow.write_text("def pick():\n    return 4\n")
    for script in (WSGI_SCRIPT, MIDDLEWARE_SCRIPT):
        got = run_probe(empty_venv, tmp_path, script.format(appdir=str(appdir)), [("/", "format=json")])
        _, _, status, _, body = got["results"][0]
        assert status == "200 OK", body[:500]
        report = json.loads(body)
        assert set(report) >= {"interpreter", "identity", "sys_path", "distributions", "shadowed", "modules",
                               "process", "environment", "findings", "probe"}
        found = [f for f in report["findings"] if f["code"] == "stdlib-shadowed"]
        assert found and found[0]["severity"] == "error"
        assert found[0]["message"].startswith(f"standard-library module random is shadowed by {shadow}")


def test_middleware_passes_the_apps_requests_when_the_probe_cannot_import(empty_venv, tmp_path) -> None:
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / "ipaddress.py").write_text("raise RuntimeError('the app broke ipaddress')\n")
    script = MIDDLEWARE_SCRIPT.replace('prefix="/"', 'prefix="/_venvprobe"').format(appdir=str(appdir))
    got = run_probe(empty_venv, tmp_path, script, [("/other", ""), ("/_venvprobe", "format=json")])
    (_, _, app_status, _, app_body), (_, _, status, _, body) = got["results"]
    assert (app_status, app_body) == ("200 OK", b"the app")
    doc = json.loads(body)
    assert status == "500 Internal Server Error"
    assert doc["module"] == "ipaddress" and doc["shadowed_by"] == str(appdir / "ipaddress.py")
    assert doc["exception"] == "RuntimeError: the app broke ipaddress"


def test_diagnosis_goes_only_to_clients_the_probe_would_serve(empty_venv, tmp_path) -> None:
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / "ipaddress.py").write_text("")  # breaks the access rules themselves
    harness_script = WSGI_SCRIPT.format(appdir=str(appdir)) + (
        "_app = application\n"
        "def application(environ, start_response):\n"
        "    environ['REMOTE_ADDR'] = '10.0.0.5' if environ['QUERY_STRING'] == 'remote' else environ['REMOTE_ADDR']\n"
        "    if environ['QUERY_STRING'] == 'proxied':\n"
        "        environ['HTTP_X_FORWARDED_FOR'] = '203.0.113.9'\n"
        "    return _app(environ, start_response)\n")
    got = run_probe(empty_venv, tmp_path, harness_script, [("/", "remote"), ("/", "proxied"), ("/", "")])
    remote, proxied, local = got["results"]
    assert remote[2:] == ("404 Not Found", remote[3], b"Not Found\n")
    assert proxied[2] == "404 Not Found" and proxied[4] == b"Not Found\n"
    assert local[2] == "500 Internal Server Error" and str(appdir / "ipaddress.py").encode() in local[4]


def _console_script() -> str:
    script = Path(sys.executable).parent / "venvprobe"
    return str(script) if script.exists() else (shutil.which("venvprobe") or "venvprobe")


def test_cli_names_the_shadowing_file_in_one_line(tmp_path) -> None:
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / "random.py").write_text("def pick():\n    return 4\n")
    env = dict(os.environ, PYTHONPATH=str(appdir))
    for args in (["report", "-f", "json"], ["report"], ["--version"]):
        # --version through the console script pip wrote; the rest as `python -m venvprobe`.
        cmd = [_console_script(), *args] if args[0] == "--version" else [sys.executable, "-m", "venvprobe", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env=env, timeout=120, cwd=str(tmp_path))
        if proc.returncode in (0, 1):
            assert "Traceback" not in proc.stderr
            continue  # it just works (nothing on this command's path imports random)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert str(appdir / "random.py") in lines[0] and "random" in lines[0]


def test_cli_report_notes_a_psutil_that_fails_and_goes_on(tmp_path) -> None:
    """psutil built for another Python (here: one that raises on import) is noted; the report is whole."""
    broken = tmp_path / "broken" / "psutil"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('_psutil_linux: undefined symbol: PyCMethod_New')\n")
    env = dict(os.environ, PYTHONPATH=str(broken.parent))
    proc = subprocess.run([sys.executable, "-m", "venvprobe", "report", "-f", "json", "--fail-on", "never"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["process"]["source"] == "/proc" and report["process"]["pid"] > 0
    assert report["process"]["psutil_error"] == "ImportError: _psutil_linux: undefined symbol: PyCMethod_New"
    text = subprocess.run([sys.executable, "-m", "venvprobe", "report", "--section", "process"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path)).stdout
    assert "psutil failed" in text and "undefined symbol" in text


def test_cli_works_around_a_shadowed_json(tmp_path) -> None:
    """`report -f json` no longer imports json (the fast path's own writer): it just works, naming the file."""
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / "json.py").write_text("raise ImportError('app json')\n")
    proc = subprocess.run([sys.executable, "-m", "venvprobe", "report", "-f", "json", "--fail-on", "never"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(appdir)), timeout=120,
                          cwd=str(tmp_path))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    report = json.loads(proc.stdout)
    named = [f["message"] for f in report["findings"] if f["code"] == "stdlib-shadowed"]
    assert any(f"standard-library module json is shadowed by {appdir / 'json.py'}" in m for m in named), named


@pytest.mark.parametrize("name, content", [("argparse", "APP_OWN = 1\n")])
def test_cli_exits_2_naming_a_shadowing_file_it_cannot_work_around(tmp_path, name, content) -> None:
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / f"{name}.py").write_text(content)
    proc = subprocess.run([sys.executable, "-m", "venvprobe", "report", "-f", "json"], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(appdir)), timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"venvprobe: the standard library's {name} is shadowed by {appdir / (name + '.py')}")
