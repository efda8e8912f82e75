"""The findings corpus: real environments, ground truth computed inside each
interpreter, and the score of venvprobe's report against it.

Ground truth never uses venvprobe's code.  It is computed in a separate run of
the same interpreter, started with ``-S`` the same way the case is run (same
cwd, environment and invocation), which then replays ``site.main()`` with
``site.addsitedir``/``site.addpackage`` wrapped, so every ``sys.path`` entry
is attributed to what actually added it (the interpreter, PYTHONPATH, a site
directory, one ``.pth`` file's path or import line, the scenario's own code).
Winners come from ``importlib.machinery.PathFinder``/``importlib.util``,
distributions from ``importlib.metadata``.

``VENVPROBE_CORPUS_CODE=<checkout>`` scores another checkout's collector and
analyzer (how the "before" numbers were measured); ``VENVPROBE_CORPUS_DIR``
keeps the built environments between runs; ``VENVPROBE_CORPUS_SCORE=<file>``
writes the scores as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from report_helpers import REPO, clean_env, collector_bundle, pyenv_python

CODE = Path(os.environ.get("VENVPROBE_CORPUS_CODE") or REPO)
COLLECT_SRC = collector_bundle(CODE)

# Runs the scenario's setup, then the collector, in the process under test.
REPORT_DRIVER = """\
import sys, os
__setup__ = {setup!r}
exec(compile(__setup__, '<scenario setup>', 'exec'), {{'__name__': '__scenario__', '__file__': {here!r}}})
__src__ = open({collect!r}, 'rb').read()
__g__ = {{'__name__': '__venvprobe_collect__'}}
exec(compile(__src__, {collect!r}, 'exec'), __g__)
__report__ = __g__['collect']({{'use_psutil': False}})
sys.stdout.flush()
sys.stdout.buffer.write(b'\\n@@REPORT@@' + __g__['dumps'](__report__).encode('utf-8', 'surrogatepass') + b'@@END@@')
sys.stdout.flush()
"""

# Runs under -S: attributes every sys.path entry by replaying site.main().
TRUTH_DRIVER = r'''
import sys, os, json, difflib
__setup__ = {setup!r}
__here__ = {here!r}
out = {{"pre": list(sys.path)}}
if os.environ.get("CORPUS_TRUTH_MODE") != "pre":
    import site
    n0 = int(os.environ["CORPUS_PATH0"])
    path0 = sys.path[:n0]
    del sys.path[:n0]
    # Before the app's directory is back on sys.path (a local random.py breaks tempfile).
    import importlib.metadata as md, importlib.machinery as mach, importlib.util as iu, importlib
    bare = json.loads(os.environ["CORPUS_BARE"])
    def stdlib_label(p):
        if p.endswith(".zip"):
            return {{"kind": "stdlib_zip"}}
        if os.path.basename(p) == "lib-dynload":
            return {{"kind": "lib_dynload"}}
        return {{"kind": "stdlib"}}
    st = {{"paths": list(sys.path),
          "labels": [stdlib_label(p) if p in bare else {{"kind": "pythonpath"}} for p in sys.path]}}
    def sync(label):
        now = list(sys.path)
        sm = difflib.SequenceMatcher(a=st["paths"], b=now, autojunk=False)
        new = []
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                new.extend(st["labels"][i1:i2])
            elif tag in ("insert", "replace"):
                new.extend(dict(label) for _ in range(j2 - j1))
        st["paths"], st["labels"] = now, new
    def site_kind(d):
        # site.venv() sets sys.prefix to the venv during site.main(): read it now.
        prefix_real = os.path.realpath(sys.prefix)
        in_venv = sys.prefix != sys.base_prefix
        if site.USER_SITE and os.path.normpath(d) == os.path.normpath(site.USER_SITE):
            return "user_site"
        r = os.path.realpath(d)
        if in_venv and (r == prefix_real or r.startswith(prefix_real + os.sep)):
            return "venv_site"
        return "base_site"
    _addpackage, _addsitedir = site.addpackage, site.addsitedir
    def addpackage(sitedir, name, known_paths):
        sync({{"kind": site_kind(sitedir), "sitedir": sitedir}})
        r = _addpackage(sitedir, name, known_paths)
        sync({{"kind": "pth", "pth_file": os.path.join(sitedir, name)}})
        return r
    def addsitedir(sitedir, known_paths=None):
        sync({{"kind": "?"}})
        r = _addsitedir(sitedir, known_paths)
        sync({{"kind": site_kind(sitedir), "sitedir": sitedir}})
        return r
    site.addpackage, site.addsitedir = addpackage, addsitedir
    site.main()
    sync({{"kind": "?site"}})
    for p in reversed(path0 if not os.environ.get("CORPUS_DROP_PATH0") else []):
        sys.path.insert(0, p)
    sync({{"kind": "script_dir"}})
    exec(compile(__setup__, "<scenario setup>", "exec"), {{"__name__": "__scenario__", "__file__": __here__}})
    sync({{"kind": os.environ.get("CORPUS_RUNTIME_KIND", "runtime")}})
    # A .pth line that adds a path literally is a path line; anything else an import line.
    for label, p in zip(st["labels"], st["paths"]):
        if label["kind"] == "pth":
            targets = set()
            try:
                with open(label["pth_file"], encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if line.strip() and not line.startswith(("#", "import ", "import\t")):
                            targets.add(os.path.normpath(os.path.join(os.path.dirname(label["pth_file"]), line.rstrip())))
            except OSError:
                pass
            label["via"] = "path" if os.path.normpath(p) in targets else "import"
    out["entries"] = [[p, l] for p, l in zip(st["paths"], st["labels"])]
    dists = []
    for d in md.distributions():
        try:
            loc = os.path.realpath(str(d.locate_file("")))
        except Exception:
            loc = None
        durl = d.read_text("direct_url.json") or ""
        files = [str(f) for f in (d.files or [])]
        dists.append({{"name": d.metadata["Name"], "version": d.version, "location": loc,
                       "editable": '"editable": true' in durl or '"editable":true' in durl,
                       "pth": [f for f in files if f.endswith(".pth") and "/" not in f],
                       "path": str(getattr(d, "_path", ""))}})
    out["dists"] = dists
    winners = {{}}
    for name in json.loads(os.environ.get("CORPUS_NAMES") or "[]"):
        spec = mach.PathFinder.find_spec(name)
        full = iu.find_spec(name)
        def where(s):
            if s is None:
                return None
            if s.origin and s.origin not in ("namespace", "built-in", "frozen"):
                return s.origin
            return list(s.submodule_search_locations or [])
        winners[name] = {{"path_finder": where(spec), "find_spec": where(full)}}
    out["winners"] = winners
    # Every copy of each name on sys.path, by real path, and whether a package merges its portions.
    copies = {{}}
    for name in json.loads(os.environ.get("CORPUS_SHADOW_NAMES") or "[]"):
        found = []
        for entry in list(sys.path):
            if not isinstance(entry, str):
                continue
            try:
                spec = mach.PathFinder.find_spec(name, [entry])
            except Exception:
                spec = None
            if spec is None:
                continue
            if spec.origin and spec.origin not in ("namespace",):
                where = os.path.realpath(spec.origin)
            else:
                where = "ns:" + os.path.realpath(list(spec.submodule_search_locations)[0])
            if where not in found:
                found.append(where)
        merged = None
        spec = mach.PathFinder.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            try:
                merged = len(list(importlib.import_module(name).__path__))
            except Exception:
                merged = None
        copies[name] = {{"copies": found, "merged_portions": merged}}
    out["copies"] = copies
    imports = {{}}
    for name in json.loads(os.environ.get("CORPUS_IMPORTS") or "[]"):
        try:
            m = importlib.import_module(name)
            imports[name] = getattr(m, "__file__", None) or "ok"
        except Exception as exc:
            imports[name] = "ERROR " + type(exc).__name__
    out["imports"] = imports
sys.stdout.write("\n@@TRUTH@@" + json.dumps(out) + "@@END@@")
sys.stdout.flush()
'''


# ---------------------------------------------------------------------------
# tools


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def tool(name: str) -> List[str]:
    """Command prefix for uv/pipx from the test environment (installed by the test extras)."""
    exe = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if exe:
        return [exe]
    msg = f"{name} is not installed (pip install -e '.[test]' installs it)"
    if in_ci():
        pytest.fail(msg)
    pytest.skip(msg)
    raise AssertionError


def need(minor: str) -> str:
    exe = pyenv_python(minor)
    if exe is None:
        if in_ci() and minor == "3.11":
            pytest.fail(f"no Python {minor}")
        pytest.skip(f"no Python {minor} (pyenv)")
    return exe


def cache_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment for build tools: clean, but with persistent pip/uv caches (CI caches ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env = clean_env({
        "PIP_CACHE_DIR": str(cache / "pip"), "UV_CACHE_DIR": str(cache / "uv"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "UV_NO_PROGRESS": "1",
    })
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL", "SSL_CERT_FILE",
                "PIP_CERT", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


def run(cmd: Sequence[Any], cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or cache_env(), capture_output=True,
                         text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def uv_pip(python: Path, *args: Any) -> None:
    run(tool("uv") + ["pip", "install", "--quiet", "--python", python, *args])


def pip_of(python: Path, *args: Any, env: Optional[Dict[str, str]] = None) -> None:
    """The test runner's pip acting on *python*'s environment (pip --python)."""
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", *args], env=env)


def site_of(python: Path) -> Path:
    out = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env=clean_env())
    return Path(out.stdout.strip())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# one case


@dataclass
class Run:
    """How one case is run, and what a correct tool says about it."""

    python: Path
    cwd: Path
    mode: str = "c"               # c | script | module | console | gunicorn
    target: str = ""              # script path / module name / console script path / gunicorn app dir
    env: Dict[str, str] = field(default_factory=dict)
    setup: str = ""               # code run in the process before collecting (app code)
    runtime_kind: str = "runtime"  # what the setup's sys.path additions are
    truth_path0: Optional[int] = None  # forced count of invocation-added leading entries (servers)
    truth_extra_setup: str = ""    # what a server did before the app (truth run only)
    truth_drop_path0: bool = False  # the invocation's sys.path[0] is not there (embedded servers)
    problems: List[Tuple[str, List[str]]] = field(default_factory=list)  # (code, substrings)
    names: List[str] = field(default_factory=list)    # module winners to check against PathFinder
    imports: List[str] = field(default_factory=list)  # must stay importable (namespace portions)
    editables: List[Tuple[str, str]] = field(default_factory=list)  # (dist name, top-level package)
    legacy: Dict[str, str] = field(default_factory=dict)


def _env(r: Run, extra: Dict[str, str]) -> Dict[str, str]:
    env = clean_env(home=r.env.get("__home__"))
    env.update({k: v for k, v in r.env.items() if k != "__home__"})
    env.update(extra)
    return env


def _between(out: str, start: str) -> str:
    if start not in out:
        raise AssertionError(out[-4000:])
    # The last end marker: the -c source in orig_argv contains the marker text too.
    return out.split(start, 1)[1].rsplit("@@END@@", 1)[0]


def _command(r: Run, driver: Path, no_site: bool) -> List[str]:
    flag = ["-S"] if no_site else []
    if r.mode == "c":
        return [str(r.python), *flag, "-c", driver.read_text()]
    if r.mode == "script":
        return [str(r.python), *flag, r.target if driver.name == Path(r.target).name else str(driver)]
    if r.mode == "module":
        return [str(r.python), *flag, "-m", r.target]
    raise ValueError(r.mode)


def collect_report(r: Run, tmp: Path) -> dict:
    """Run the collector (of the checkout under test) the way the case says."""
    code = REPORT_DRIVER.format(setup=textwrap.dedent(r.setup), collect=str(COLLECT_SRC),
                                here=str(r.cwd / (r.target or "x")))
    env = _env(r, {})
    if r.mode == "c":
        cmd = [str(r.python), "-c", code]
    elif r.mode == "script":
        script = r.cwd / r.target
        script.write_text(code)
        cmd = [str(r.python), r.target]
    elif r.mode == "module":
        mod = r.cwd / (r.target.replace(".", "/") + ".py")
        mod.write_text(code)
        cmd = [str(r.python), "-m", r.target]
    elif r.mode == "console":
        drv = tmp / "driver.py"
        drv.write_text(code)
        env["CORPUS_DRIVER"] = str(drv)
        cmd = [r.target]
    elif r.mode == "gunicorn":
        drv = tmp / "driver.py"
        drv.write_text(code)
        env["CORPUS_DRIVER"] = str(drv)
        cmd = [r.target, "--check-config", "corpus_app:app"]
    elif r.mode == "zipapp":
        _write_zipapp(r, code)
        cmd = [str(r.python), r.target]
    elif r.mode == "uwsgi":
        drv = tmp / "driver.py"
        drv.write_text(code)
        env["CORPUS_DRIVER"] = str(drv)
        return _finish(_run_uwsgi(r, env, tmp))
    else:
        raise ValueError(r.mode)
    res = subprocess.run(cmd, cwd=r.cwd, env=env, capture_output=True, timeout=120)
    return _finish(res.stdout.decode("utf-8", "surrogateescape"), cmd, res)


def _finish(out: str, cmd: Sequence[str] = (), res: Any = None) -> dict:
    if "@@REPORT@@" not in out:
        raise AssertionError(f"{list(cmd)[:3]} produced no report ({getattr(res, 'returncode', None)}):\n{out[-2000:]}\n"
                             f"{getattr(res, 'stderr', b'').decode(errors='replace')[-4000:]}")
    report = json.loads(_between(out, "@@REPORT@@"))
    report["findings"] = analyze(report)
    return report


def _write_zipapp(r: Run, report_code: str) -> None:
    """One zip for both runs (the same path is sys.path[0]): truth when CORPUS_BARE is set."""
    import zipfile

    truth = TRUTH_DRIVER.format(setup=textwrap.dedent(r.truth_extra_setup + "\n" + textwrap.dedent(r.setup)),
                                here=str(r.cwd / r.target))
    main = ("import os\nexec(compile(%r if os.environ.get('CORPUS_BARE') else %r, '__main__', 'exec'))\n"
            % (truth, report_code))
    with zipfile.ZipFile(r.cwd / r.target, "w") as zf:
        zf.writestr("__main__.py", main)


UWSGI_APP = """\
import io, os, sys
class _Out:
    buffer = io.BytesIO()
    def write(self, text):
        self.buffer.write(text.encode("utf-8", "surrogateescape"))
    def flush(self):
        pass
_real, sys.stdout = sys.stdout, _Out()
try:
    with open(os.environ["CORPUS_DRIVER"]) as f:
        exec(compile(f.read(), "driver", "exec"), {"__name__": "__corpus__"})
finally:
    out, sys.stdout = sys.stdout, _real
    with open(os.environ["CORPUS_OUT"] + ".tmp", "wb") as f:
        f.write(out.buffer.getvalue())
    os.rename(os.environ["CORPUS_OUT"] + ".tmp", os.environ["CORPUS_OUT"])

def application(environ, start_response):
    start_response("200 OK", [])
    return [b""]
"""


def _run_uwsgi(r: Run, env: Dict[str, str], tmp: Path) -> str:
    """Start a real uWSGI (Debian's, python3 plugin) on 127.0.0.1, read the report the app wrote at load, stop it."""
    import signal
    import time

    uwsgi = shutil.which("uwsgi")
    if uwsgi is None:
        if in_ci():
            pytest.fail("uwsgi is not installed (tests/run_all.sh installs it)")
        pytest.skip("no uwsgi")
    (r.cwd / "corpus_uwsgi_app.py").write_text(UWSGI_APP)
    out = tmp / "uwsgi-report.txt"
    env = dict(env, CORPUS_OUT=str(out))
    cmd = [uwsgi, "--plugin", "python3", "--master", "--processes", "1", "--http-socket", "127.0.0.1:0",
           "--wsgi-file", "corpus_uwsgi_app.py", "--need-app", "--disable-logging"] + (
        ["--home", r.target] if r.target else [])
    log = open(tmp / "uwsgi.log", "wb")
    proc = subprocess.Popen(cmd, cwd=r.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        # SIGINT stops uWSGI (SIGTERM reloads it); then the whole group we started.
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()
    if not out.exists():
        raise AssertionError("uWSGI wrote no report:\n" + (tmp / "uwsgi.log").read_text(errors="replace")[-4000:])
    return out.read_bytes().decode("utf-8", "surrogateescape")


def analyze(report: dict) -> List[dict]:
    if CODE == REPO:
        from venvprobe.analyze import analyze as current

        return current(report)
    prog = (f"import sys, json; sys.path.insert(0, {str(CODE)!r}); from venvprobe.analyze import analyze; "
            "print(json.dumps(analyze(json.load(sys.stdin))))")
    res = subprocess.run([sys.executable, "-c", prog], input=json.dumps(report), capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout)


def ground_truth(r: Run, tmp: Path, shadow_names: Sequence[str] = ()) -> dict:
    """The interpreter's own account of the case (see the module docstring)."""
    base = [str(r.python), "-S", "-I", "-c", "import sys, json; print(json.dumps(sys.path))"]
    bare = json.loads(subprocess.run(base, capture_output=True, text=True, check=True, env=clean_env()).stdout)
    code = TRUTH_DRIVER.format(setup=textwrap.dedent(r.truth_extra_setup + "\n" + textwrap.dedent(r.setup)),
                               here=str(r.cwd / (r.target or "x")))
    if r.mode in ("c", "uwsgi"):
        cmd = [str(r.python), "-S", "-c", code]
    elif r.mode == "script":
        # Beside the real script (same directory, reached by the same relative path).
        rel = Path(r.target)
        name = rel.parent / ("_truth_" + rel.name)
        (r.cwd / name).write_text(code)
        cmd = [str(r.python), "-S", str(name)]
    elif r.mode == "module":
        pkg, _, mod = r.target.rpartition(".")
        (r.cwd / pkg.replace(".", "/") / ("_truth_" + mod + ".py")).write_text(code)
        cmd = [str(r.python), "-S", "-m", f"{pkg}._truth_{mod}"]
    elif r.mode == "zipapp":
        cmd = [str(r.python), "-S", r.target]
    elif r.mode in ("console", "gunicorn"):
        # The console script's own directory, as its shebang run would have it.
        script = Path(r.target)
        truth = script.parent / "_corpus_truth.py"
        truth.write_text(code)
        cmd = [str(r.python), "-S", str(truth)]
    else:
        raise ValueError(r.mode)
    extra = {"CORPUS_BARE": json.dumps(bare), "CORPUS_NAMES": json.dumps(r.names),
             "CORPUS_SHADOW_NAMES": json.dumps(shadow_names),
             "CORPUS_IMPORTS": json.dumps(r.imports), "CORPUS_RUNTIME_KIND": r.runtime_kind}
    if r.truth_path0 is not None:
        path0 = r.truth_path0
    else:
        env = _env(r, dict(extra, CORPUS_TRUTH_MODE="pre"))
        env.pop("PYTHONPATH", None)
        res = subprocess.run(cmd, cwd=r.cwd, env=env, capture_output=True, text=True, timeout=60)
        pre = json.loads(_between(res.stdout, "@@TRUTH@@"))["pre"]
        path0 = 1 if pre and pre[0] not in bare else 0
    if r.truth_drop_path0:
        extra["CORPUS_DROP_PATH0"] = "1"
    res = subprocess.run(cmd, cwd=r.cwd, env=_env(r, dict(extra, CORPUS_PATH0=str(path0))),
                         capture_output=True, text=True, timeout=60)
    if "@@TRUTH@@" not in res.stdout:
        raise AssertionError(f"truth run failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    return json.loads(_between(res.stdout, "@@TRUTH@@"))


# ---------------------------------------------------------------------------
# comparing


def truth_kind(label: dict, truth: dict) -> str:
    """The origin a correct tool gives an entry the truth attributed with *label*."""
    kind = label["kind"]
    if kind == "pth":
        pth = os.path.realpath(label["pth_file"])
        if label.get("via") == "path":
            for d in truth["dists"]:
                if d["editable"] and d["location"] and any(
                        os.path.realpath(os.path.join(d["location"], p)) == pth for p in d["pth"]):
                    return "editable"
        return "pth"
    return kind


def compare_origins(report: dict, truth: dict) -> List[str]:
    """Differences between venvprobe's sys.path origins and the truth ([] when all right)."""
    errors = []
    got = report["sys_path"]["entries"]
    want = truth["entries"]
    if [e["path"] for e in got] != [p for p, _ in want]:
        return [f"sys.path differs: report {[e['path'] for e in got]} truth {[p for p, _ in want]}"]
    for e, (path, label) in zip(got, want):
        origin = e.get("origin") or {}
        kind = truth_kind(label, truth)
        if origin.get("kind") != kind:
            errors.append(f"sys.path[{e['index']}] {path}: venvprobe says {origin.get('kind')!r} "
                          f"({origin.get('detail')}), truth {kind!r} {label}")
        elif kind in ("pth", "editable") and os.path.realpath(origin.get("pth_file") or "") != \
                os.path.realpath(label["pth_file"]):
            errors.append(f"sys.path[{e['index']}] {path}: attributed to {origin.get('pth_file')}, "
                          f"truth {label['pth_file']}")
    return errors


def _canon(name: str) -> str:
    return "".join("-" if c in "_." else c for c in (name or "").lower())


def compare_dists(report: dict, truth: dict) -> List[str]:
    """Every distribution importlib.metadata sees is reported with its version and editable flag."""
    errors = []
    got = report.get("distributions") or []
    for d in truth["dists"]:
        same = [g for g in got if _canon(g.get("name")) == _canon(d["name"]) and g.get("version") == d["version"]]
        if not same:
            errors.append(f"{d['name']} {d['version']} ({d['location']}) not reported: "
                          f"{[(g.get('name'), g.get('version')) for g in got if _canon(g.get('name')) == _canon(d['name'])]}")
        elif d["editable"] and not any(g.get("editable") for g in same):
            errors.append(f"{d['name']} {d['version']} is editable; venvprobe says not")
    return errors


def code_locations(dist: dict) -> List[str]:
    out = list(dist.get("editable_paths") or [])
    out += list((dist.get("editable_mapping") or {}).values())
    out += list((dist.get("editable_code") or {}).values())
    if dist.get("editable_target"):
        out.append(dist["editable_target"])
    return [os.path.realpath(p) for p in out]


def compare_editables(report: dict, truth: dict, editables: Sequence[Tuple[str, str]]) -> List[str]:
    """For each editable, the report says where the code lives, as import would find it."""
    errors = []
    for name, pkg in editables:
        dists = [d for d in report.get("distributions") or [] if _canon(d.get("name")) == _canon(name)
                 and d.get("editable")]
        origin = (truth["winners"].get(pkg) or {}).get("find_spec")
        if isinstance(origin, list):
            origin = origin[0] if origin else None
        if not origin:
            errors.append(f"truth: {pkg} is not importable")
            continue
        real = os.path.realpath(origin)
        locs = [loc for d in dists for loc in code_locations(d)]
        if not dists:
            errors.append(f"{name}: no editable distribution reported")
        elif not any(real == loc or real.startswith(loc.rstrip("/") + "/") for loc in locs):
            errors.append(f"{name}: code of {pkg} is at {real}; venvprobe says {locs or 'nothing'}")
        for d in dists:
            if not d.get("version"):
                errors.append(f"{name}: no version reported")
    return errors


def compare_winners(report: dict, truth: dict) -> List[str]:
    """Each shadowed module's winner is the file PathFinder finds."""
    errors = []
    for m in (report.get("shadowed") or {}).get("modules") or []:
        w = truth["winners"].get(m["name"])
        if w is None or not m.get("winner"):
            continue
        pf = w["path_finder"]
        if isinstance(pf, list) or pf is None:
            continue
        real = os.path.realpath(pf)
        win = os.path.realpath(m["winner"]["path"])
        if not (real == win or real.startswith(win + "/")):
            errors.append(f"{m['name']}: venvprobe's winner {m['winner']['path']}, PathFinder {pf}")
    return errors


def compare_shadowing(report: dict, truth: dict) -> List[str]:
    """Every shadowing venvprobe reports is real: two different files, not one package's merged portions."""
    errors = []
    for m in (report.get("shadowed") or {}).get("modules") or []:
        t = truth["copies"].get(m["name"])
        if t is None:
            continue
        merged = (t["merged_portions"] or 0) > 1
        if m.get("kind") == "namespace_split":
            if not merged and len(t["copies"]) > 1 and not all(c.startswith("ns:") for c in t["copies"]):
                errors.append(f"{m['name']}: venvprobe says a namespace split, but its portions do not merge: {t}")
        elif len(t["copies"]) < 2:
            errors.append(f"{m['name']}: venvprobe says {m['winner']['path']} hides "
                          f"{[l['path'] for l in m.get('losers') or []]}, but there is one file: {t['copies']}")
        elif merged:
            errors.append(f"{m['name']}: venvprobe says one copy hides another, but the package merges "
                          f"{t['merged_portions']} portions (a namespace)")
    names = {_canon(d.get("name")) for d in truth["dists"]}
    metadata = {}
    for d in truth["dists"]:
        metadata.setdefault(_canon(d["name"]), set()).add(os.path.realpath(d["path"]))
    for d in (report.get("shadowed") or {}).get("distributions") or []:
        key = _canon(d.get("name"))
        if key in names and len(metadata.get(key, ())) < 2:
            errors.append(f"{d.get('name')}: venvprobe reports it installed twice; importlib.metadata sees one: "
                          f"{sorted(metadata.get(key, ()))}")
    return errors


def serious(report: dict) -> List[dict]:
    return [f for f in report["findings"] if f["severity"] in ("warning", "error")]


def match_problems(report: dict, problems: Sequence[Tuple[str, Sequence[str]]]) -> Tuple[List, List, List]:
    """(found problems, missed problems, warnings/errors no problem explains)."""
    found, missed = [], []
    used = set()
    for code, needles in problems:
        hit = None
        for i, f in enumerate(serious(report)):
            text = f["message"] + "\n" + "\n".join(f.get("evidence") or [])
            if f["code"] == code and all(n in text for n in needles):
                hit = i
                break
        if hit is None:
            missed.append((code, needles))
        else:
            used.add(hit)
            found.append((code, needles))
    extra = [f for i, f in enumerate(serious(report)) if i not in used]
    return found, missed, extra
