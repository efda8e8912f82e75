"""``venvprobe probe-script``: one self-contained, standard-library-only WSGI file.

Checked statically (every import in the file is the standard library's), against the installed probe (same
JSON in the same interpreter), for what it leaves in ``sys.path``/``sys.modules``, and for real: Apache +
mod_wsgi (daemon mode, ``%{GLOBAL}`` and a per-URL sub-interpreter), uWSGI and gunicorn, from venvs that
contain nothing of venvprobe; the CLI's report --input, compare and diff take what it serves."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

import probe_helpers as ph
import schema_helpers
import servers
import venvprobe
from venvprobe.probe.single_file import NOT_ON_PROBE_PATH, build_script, collect_sources

PKG_ROOT = str(Path(venvprobe.__file__).resolve().parents[1])
CLI = [sys.executable, "-c", "import sys; from venvprobe._cli import main; sys.exit(main())"]
REPORT_KEYS = {"schema", "generated_at", "collector", "interpreter", "identity", "sys_path", "distributions",
               "shadowed", "modules", "process", "environment", "findings", "probe"}
# CPython's own interpreter modules, which sys.stdlib_module_names leaves out (test-support C modules).
CPYTHON_PRIVATE = {"_xxsubinterpreters", "_interpreters"}


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    """The file as the command writes it."""
    out = tmp_path_factory.mktemp("script") / "venvprobe_probe.py"
    res = subprocess.run([*CLI, "probe-script", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "", res
    assert out.stat().st_mode & 0o777 == 0o644
    assert out.read_text() == build_script()
    return out


def _imports(tree: ast.AST) -> List[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.append(node.module or "")
    return names


def _embedded(text: str) -> Dict[str, Tuple[str, bool]]:
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "_SOURCES":
            return ast.literal_eval(node.value)
    raise AssertionError("no _SOURCES in the script")


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sys.stdlib_module_names is 3.10+")
def test_script_imports_only_the_standard_library(script) -> None:
    text = script.read_text()
    sources = _embedded(text)
    assert set(sources) == set(collect_sources())
    assert "venvprobe.probe.flask_app" not in sources and "venvprobe.middleware" not in sources
    names = _imports(ast.parse(text))
    for name, (source, _) in sources.items():
        names += _imports(ast.parse(source, name))
    tops = {n.split(".")[0] for n in names} - {"venvprobe"}
    outside = sorted(tops - set(sys.stdlib_module_names) - CPYTHON_PRIVATE - set(NOT_ON_PROBE_PATH))
    assert outside == [], f"the probe script imports outside the standard library: {outside}"


HARNESS = r'''
import json, sys
pkgroot, installed_script, single_file = sys.argv[1:4]
path_before, modules_before = list(sys.path), set(sys.modules)

def load(name, path):
    mod = type(sys)(name)  # as mod_wsgi: each script a module of its own
    mod.__file__ = path
    sys.modules[name] = mod
    with open(path) as fh:
        exec(compile(fh.read(), path, "exec"), mod.__dict__)
    return mod

def get(app, query):
    captured = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1",
               "wsgi.errors": sys.stderr, "HTTP_AUTHORIZATION": "Bearer " + OWN_TOKEN}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: captured.append(status)))
    assert captured == ["200 OK"], (captured, body[:500])
    return json.loads(body)

out = {}
single = load("_mod_wsgi_single", single_file)
get(single.application, "format=json")
out["alone_path_same"] = sys.path == path_before
out["alone_new"] = sorted(set(sys.modules) - modules_before)
out["alone_files"] = {m: getattr(sys.modules[m], "__file__", None) for m in out["alone_new"]}
sys.path.append(pkgroot)  # the installed probe, after the standard library
installed = load("_mod_wsgi_installed", installed_script)
get(installed.application, "format=json")  # warm both: later imports land in sys.modules first
out["single"] = get(single.application, "format=json&fresh=1")
out["installed"] = get(installed.application, "format=json&fresh=1")
sys.stdout.write(json.dumps(out))
'''


@pytest.fixture(scope="module")
def same_interpreter(script, tmp_path_factory) -> Dict:
    tmp = tmp_path_factory.mktemp("same")
    root = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(str(root))
    installed = tmp / "installed.wsgi"
    installed.write_text("from venvprobe.wsgi import application  # noqa: F401\n")
    # The default way in: the probe's own token, planted where it looks ($HOME/.config/venvprobe).
    token = "own-" + os.urandom(8).hex()
    conf = tmp / "home" / ".config" / "venvprobe"
    conf.mkdir(parents=True)
    for d in (conf.parent, conf):
        d.chmod(0o700)
    (conf / "probe.token").write_text(token + "\n")
    (conf / "probe.token").chmod(0o600)
    proc = subprocess.run([str(root / "bin" / "python"), "-I", "-c", HARNESS.replace("OWN_TOKEN", repr(token)),
                           PKG_ROOT, str(installed), str(script)], capture_output=True, text=True, timeout=120,
                          cwd=str(tmp), env=dict(os.environ, HOME=str(tmp / "home")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_script_leaves_sys_path_and_sys_modules_alone(same_interpreter) -> None:
    assert same_interpreter["alone_path_same"] is True
    stdlib = os.path.dirname(os.__file__) + os.sep
    foreign = [m for m, f in same_interpreter["alone_files"].items()
               if m != "_mod_wsgi_single" and (m.startswith("venvprobe") or (f and not f.startswith(stdlib)))]
    assert foreign == [], "the probe script put non-stdlib modules into sys.modules"
    assert "_mod_wsgi_single" in same_interpreter["alone_new"]
    assert not [m for m in same_interpreter["alone_new"] if m.startswith("venvprobe")]


def _comparable(report: Dict) -> Dict:
    """The report without what differs between two requests: times, this process's counters, which script is 'own'."""
    r = json.loads(json.dumps(report))
    r.pop("generated_at")
    r["probe"].pop("own_scripts")
    for key in ("threads", "rss", "cpu_times", "create_time"):
        r["process"].pop(key, None)
    r["modules"].pop("count", None)
    r["modules"].pop("process_start", None)  # a timestamp, computed anew each time
    return r


def test_script_json_equals_the_installed_probe(same_interpreter) -> None:
    schema_helpers.assert_valid(same_interpreter["single"], "report")
    single, installed = same_interpreter["single"], same_interpreter["installed"]
    assert set(single) == REPORT_KEYS
    assert single["probe"]["version"] == venvprobe.__version__ and single["probe"]["mount"] == "wsgi-script"
    assert single["identity"]["pid"] == installed["identity"]["pid"]
    assert _comparable(single) == _comparable(installed)
    # Each knows its own script; the other script is not counted as an app.
    assert single["probe"]["own_scripts"][0].endswith("venvprobe_probe.py")
    assert installed["probe"]["own_scripts"][0].endswith("installed.wsgi")


# --------------------------------------------------------------------------
# real servers, from venvs holding nothing of venvprobe

JSON = {"Accept": "application/json"}


def _full_report(server: servers.BaseServer, path: str) -> Dict:
    status, headers, body = server.get(path, headers=dict(JSON, **ph.bearer_for(server, path)), timeout=30)
    assert status == 200, f"GET {path} -> {status}: {body[:2000]!r}\n{server.logs()}"
    assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
    report = json.loads(body)
    schema_helpers.assert_valid(report, "report")  # the schema the package ships
    assert set(report) == REPORT_KEYS, sorted(report)
    for key in REPORT_KEYS - {"findings", "schema", "generated_at", "distributions"}:
        assert "error" not in report[key], (key, report[key])
    assert not any(d["name"] == "venvprobe" for d in report["distributions"])
    loaded = {m["name"] for m in report["modules"]["top_level"]}
    assert not loaded & {"venvprobe", "flask", "werkzeug", "tabulate", "psutil"}, sorted(loaded)
    return report


@pytest.fixture(scope="module")
def deployed(script, tmp_path_factory) -> Iterator[Dict[str, object]]:
    """The file copied into a world-readable app directory, plus an empty venv from Debian's python3."""
    base = servers.fresh_shared_dir("probe-script")
    app = base / "app"
    app.mkdir()
    (app / "venvprobe_probe.wsgi").write_text(script.read_text())
    (app / "venvprobe_probe.py").write_text(script.read_text())  # gunicorn imports modules
    venv_ = servers.make_venv(base / "venv")
    servers.make_world_readable(base)
    yield {"app": app, "venv": venv_, "reports": {}}


@pytest.mark.servers
def test_apache_daemon_global_and_per_url_subinterpreter(apache_factory, deployed) -> None:
    app, venv_ = deployed["app"], deployed["venv"]
    apache = apache_factory(f"""
WSGIDaemonProcess p python-home={venv_.root} processes=1 threads=4
WSGIScriptAlias /global {app}/venvprobe_probe.wsgi process-group=p application-group=%{{GLOBAL}}
WSGIScriptAlias /sub {app}/venvprobe_probe.wsgi process-group=p
<Directory {app}>
    Require all granted
    WSGIPassAuthorization On
</Directory>
""")
    glob = _full_report(apache, "/global/")
    sub = _full_report(apache, "/sub/")
    for r in (glob, sub):
        assert r["interpreter"]["prefix"] == str(venv_.root) and r["interpreter"]["in_venv"] is True
        assert r["identity"]["server"]["kind"] == "mod_wsgi" and r["identity"]["server"]["mode"] == "daemon"
        assert r["probe"]["own_scripts"] == [f"{app}/venvprobe_probe.wsgi"]
    assert glob["identity"]["main_interpreter"] is True and glob["identity"]["server"]["application_group"] == ""
    assert sub["identity"]["main_interpreter"] is False and sub["identity"]["interpreter_id"] != 0
    assert sub["identity"]["server"]["application_group"].endswith("|/sub")  # mod_wsgi's per-URL default
    assert sub["identity"]["pid"] == glob["identity"]["pid"]
    # The same access rules as the installed probe: its own token, no proxy, only GET/HEAD, text for curl.
    auth = ph.bearer_for(apache, "/global/")
    assert apache.get("/global/identity")[0] == 404
    status, _, body = apache.get("/global/", headers=dict(auth, **{"X-Forwarded-For": "203.0.113.7"}))
    assert status == 404 and body == b"Not Found\n"
    status, headers, body = apache.get("/global/identity", headers=auth)
    assert status == 200 and headers["content-type"].startswith("text/plain")
    deployed["reports"]["apache-global"] = glob
    deployed["reports"]["apache-sub"] = sub


def _uwsgi_report(uwsgi_factory, deployed) -> None:
    app, venv_ = deployed["app"], deployed["venv"]
    uw = uwsgi_factory({"wsgi-file": f"{app}/venvprobe_probe.wsgi", "home": str(venv_.root)})
    report = _full_report(uw, "/")
    assert report["identity"]["server"]["kind"] == "uwsgi"
    assert report["interpreter"]["prefix"] == str(venv_.root)
    deployed["reports"]["uwsgi"] = report


def _gunicorn_report(gunicorn_factory, deployed, shared_tmp) -> None:
    app = deployed["app"]
    # gunicorn itself must be in the venv that serves; venvprobe is not.
    gvenv = servers.make_venv(shared_tmp / "gvenv", packages=["gunicorn"])
    gu = gunicorn_factory(gvenv, "venvprobe_probe:application", chdir=app)
    report = _full_report(gu, "/")
    assert report["identity"]["server"]["kind"] == "gunicorn"
    assert report["interpreter"]["prefix"] == str(gvenv.root)
    deployed["reports"]["gunicorn"] = report


@pytest.mark.servers
def test_uwsgi(uwsgi_factory, deployed) -> None:
    _uwsgi_report(uwsgi_factory, deployed)


@pytest.mark.servers
def test_gunicorn(gunicorn_factory, deployed, shared_tmp) -> None:
    _gunicorn_report(gunicorn_factory, deployed, shared_tmp)


@pytest.mark.servers
def test_cli_takes_what_the_script_serves(deployed, tmp_path, uwsgi_factory, gunicorn_factory, shared_tmp) -> None:
    reports = deployed["reports"]
    # Run alone, deselected or in another order, the server tests above did not leave their reports:
    # fetch two from real servers here rather than depend on which tests ran before.
    if len(reports) < 2 and "uwsgi" not in reports:
        _uwsgi_report(uwsgi_factory, deployed)
    if len(reports) < 2 and "gunicorn" not in reports:
        _gunicorn_report(gunicorn_factory, deployed, shared_tmp)
    assert len(reports) >= 2, sorted(reports)
    files = {}
    for name, report in reports.items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(report))
    first, second = list(files.values())[:2]
    res = subprocess.run([*CLI, "report", "--input", str(first), "--fail-on", "never"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and "venvprobe report" in res.stdout, res.stderr
    exp = tmp_path / "exp.toml"
    res = subprocess.run([*CLI, "snapshot", str(first), "-o", str(exp)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([*CLI, "compare", str(exp), str(first)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, (res.stdout, res.stderr)
    res = subprocess.run([*CLI, "diff", str(first), str(second)], capture_output=True, text=True, timeout=60)
    assert res.returncode in (0, 1) and "Traceback" not in res.stderr, res.stderr
    assert res.stderr == ""


def test_probe_script_bad_output_is_one_line_exit_2(tmp_path) -> None:
    res = subprocess.run([*CLI, "probe-script", "-o", str(tmp_path / "missing-dir" / "probe.wsgi")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1 and "cannot write" in res.stderr


def test_script_names_a_shadowed_stdlib_module(script, tmp_path) -> None:
    """The single file carries the guard too: the app's ipaddress.py is named, not a bare 500."""
    from test_probe_stdlib import run_probe

    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(str(root))
    appdir = tmp_path / "app"
    appdir.mkdir()
    (appdir / "ipaddress.py").write_text("APP_OWN_MODULE = True\n")
    text = f"import sys\nsys.path.insert(0, {str(appdir)!r})\n" + script.read_text()
    got = run_probe(root / "bin" / "python", tmp_path, text, [("/", "format=json")])
    _, _, status, headers, body = got["results"][0]
    doc = json.loads(body)
    assert status == "500 Internal Server Error" and headers["X-Venvprobe-Error"] == "stdlib-shadowed"
    assert doc["module"] == "ipaddress" and doc["shadowed_by"] == str(appdir / "ipaddress.py")
    assert not [m for m in got["new"] if m.startswith("venvprobe")]


THREADS = r'''
import sys, threading
sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows: the race shows every time
mod = type(sys)("_mod_wsgi_threads")
mod.__file__ = sys.argv[1]
with open(sys.argv[1]) as fh:
    exec(compile(fh.read(), sys.argv[1], "exec"), mod.__dict__)
paths = ["/", "/identity", "/metrics", "/health", "/findings", "/path", "/modules", "/process", "/environment",
         "/shadowed", "/distributions", "/interpreter"]
queries = ["format=json", "format=html", "format=markdown", ""]
barrier = threading.Barrier(len(paths) * len(queries))
statuses = []
def hit(path, query):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1",
               "wsgi.errors": sys.stderr, "VENVPROBE_TOKEN": "t" * 40, "HTTP_AUTHORIZATION": "Bearer " + "t" * 40}
    barrier.wait()
    got = []
    b"".join(mod.application(environ, lambda status, headers, exc_info=None: got.append(status)))
    statuses.append((path, query, got[0]))
threads = [threading.Thread(target=hit, args=(p, q)) for p in paths for q in queries]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = [s for s in statuses if not s[2].startswith(("200", "503"))]
print(len(statuses), bad)
'''


def test_concurrent_first_requests_in_threads(script, tmp_path) -> None:
    """A threaded server (mod_wsgi daemon threads, gunicorn gthread) sends several first requests at
    once: the file's private modules are loaded by one thread at a time (once another thread could
    see a half-run module: ImportError ... cannot import name 'SCHEMA_VERSION', a 500)."""
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(str(root))
    proc = subprocess.run([str(root / "bin" / "python"), "-I", "-c", THREADS, str(script)], capture_output=True,
                          text=True, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "48 []", (proc.stdout, proc.stderr[-3000:])
