"""venvprobe.collect is a standard-library-only island, and ships to another interpreter whole (issue 13).

The package runs inside interpreters venvprobe is not installed in (``report
--python X``, the single-file probe) and inside the app's own process (the
probe): an import outside the standard library would either fail there or,
worse, import one of the packages it inspects.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from report_helpers import COLLECT_SRC, clean_env, need_python
from venvprobe import ship

PACKAGE = Path(ship.__file__).resolve().parent
COLLECT = PACKAGE / "collect"

#: Imports outside the standard library the package may contain, and why each is allowed.
ALLOWED = {"psutil": "process.py, in-process only when use_psutil (venvprobe's own dependency); never in a foreign run"}


# CPython's private interpreter modules, shipped with every build but not listed
# in sys.stdlib_module_names (the identity section asks them for the interpreter id).
CPYTHON_PRIVATE = {"_xxsubinterpreters", "_interpreters"}


def _stdlib_names():
    names = getattr(sys, "stdlib_module_names", None)
    if names is None:  # pragma: no cover - the test venv is 3.10+
        pytest.skip("sys.stdlib_module_names is 3.10+")
    return set(names) | CPYTHON_PRIVATE


def _imports(path: Path):
    """(line, imported module name) for every import statement in *path*, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: relative import (the private loader cannot serve it)"
            yield node.lineno, node.module or ""
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            arg = node.args[0] if node.args else None
            # The interpreters module lookup passes its names through a variable: they are checked below.
            if isinstance(arg, ast.Constant):
                yield node.lineno, arg.value


def test_every_import_of_the_package_is_standard_library_or_the_package() -> None:
    stdlib = _stdlib_names()
    files = sorted(COLLECT.glob("*.py"))
    assert len(files) > 10
    outside = []
    for path in files:
        for line, name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("venvprobe.collect.") or name == "venvprobe.collect":
                continue
            if top in stdlib or top in ALLOWED:
                continue
            outside.append(f"{path.name}:{line}: {name}")
    assert outside == [], outside
    # The names the interpreter-id lookup passes to __import__ are standard-library modules too.
    from venvprobe.collect import identity

    text = Path(identity.__file__).read_text(encoding="utf-8")
    for name in ("_xxsubinterpreters", "_interpreters", "concurrent.interpreters"):
        assert name in text and name.split(".")[0] in stdlib


# Runs in a fresh -I interpreter: refuses every import that is neither the
# standard library nor venvprobe, then collects a whole report.
_GUARDED = r'''
import json, sys
root, allowed = sys.argv[1], set(json.loads(sys.argv[2]))
allowed |= set(getattr(sys, "stdlib_module_names", ()))
refused = []

class Refuse:
    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.split(".")[0]
        # _sysconfigdata_<abi>_<platform>: the build's generated standard-library module.
        if top != "venvprobe" and top not in allowed and not top.startswith("_sysconfigdata_"):
            refused.append(name)
            raise ImportError("refused: %s is not in the standard library" % name)
        return None

sys.meta_path.insert(0, Refuse)
sys.path.insert(0, root)
before = set(sys.modules)
from venvprobe.collect.collector import collect
report = collect({"use_psutil": True})  # asked for, and refused: the report goes on from /proc
errors = {k: v for k, v in report.items() if isinstance(v, dict) and set(v) == {"error"}}
ours = sorted(m for m in set(sys.modules) - before if m.split(".")[0] == "venvprobe")
sys.stdout.write(json.dumps({"refused": refused, "errors": errors, "ours": ours,
                             "psutil_error": report["process"].get("psutil_error")}))
'''


@pytest.mark.parametrize("minor", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_the_package_imports_and_collects_with_only_the_standard_library(minor: str) -> None:
    python = need_python(minor)
    res = subprocess.run([python, "-I", "-c", _GUARDED, str(PACKAGE.parent), json.dumps(sorted(_stdlib_names()))],
                         capture_output=True, text=True, env=clean_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["errors"] == {}
    assert out["refused"] == ["psutil"] and "refused" in out["psutil_error"]
    assert out["ours"] and all(m == "venvprobe" or m.startswith("venvprobe.collect") for m in out["ours"]), out["ours"]


def test_the_shipped_modules_are_exactly_what_the_roots_import() -> None:
    closure = ship.module_closure(("venvprobe.collect.collector",), walk_parents=False)
    assert set(ship.COLLECTOR_MODULES) == set(closure)
    shipped = ship.modules()
    everything = ship.module_closure(ship.ROOTS, walk_parents=False)
    assert set(shipped) == {"venvprobe._memimport"} | set(everything)
    assert shipped[0] == "venvprobe._memimport"  # X runs it first
    assert len(set(shipped)) == len(shipped)


def test_every_module_of_the_package_is_shipped() -> None:
    names = {"venvprobe.collect" + ("" if p.stem == "__init__" else "." + p.stem) for p in COLLECT.glob("*.py")}
    assert names <= set(ship.COLLECTOR_MODULES)


def test_a_shipped_run_leaves_the_target_without_venvprobe(tmp_path: Path, monkeypatch) -> None:
    """X runs the modules from memory: its sys.modules never sees venvprobe, compiled or cached."""
    from venvprobe._quick import run_shipped

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for _ in range(2):  # compiled, then from the bytecode cache
        _, body = run_shipped(sys.executable, ship.payload(analyse=True), 120)
        report = json.loads(body)
        names = {m["name"] for m in report["modules"]["top_level"]}
        assert "venvprobe" not in names and not any(n.startswith("__venvprobe") for n in names)
        assert not any(isinstance(report[s], dict) and set(report[s]) == {"error"} for s in report), report
        assert isinstance(report["findings"], list)
    assert len(list((tmp_path / "cache" / "venvprobe").glob("report-*.bin"))) == 1


def test_the_standalone_collector_file_runs_on_its_own(tmp_path: Path) -> None:
    """The one-file collector the tests (and check-extensions) ship: exec it, collect, nothing else loaded."""
    code = (
        "import sys\n"
        f"g = {{'__name__': '__x__'}}\nexec(compile(open({str(COLLECT_SRC)!r}).read(), 'c', 'exec'), g)\n"
        "r = g['collect']({'use_psutil': False})\n"
        "assert not any(m.startswith('venvprobe') for m in sys.modules), sorted(sys.modules)\n"
        "sys.stdout.write(g['dumps'](r))\n")
    res = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, env=clean_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["schema"]["name"] == "venvprobe.report" and report["collector"]["in_process"] is True


def test_shared_facts_are_computed_once_and_a_failing_one_sinks_only_its_sections(monkeypatch) -> None:
    """The Context replaces the order sys_path() used to impose: each fact once, whoever asks first."""
    from venvprobe.collect import collector, distributions, pth, shadowing

    calls = {"pth": 0, "distributions": 0, "providers": 0}

    def counted(name, func):
        def wrapper(ctx):
            calls[name] += 1
            return func(ctx)
        return wrapper

    monkeypatch.setattr(pth, "scan", counted("pth", pth.scan))
    monkeypatch.setattr(distributions, "collect", counted("distributions", distributions.collect))
    monkeypatch.setattr(shadowing, "providers", counted("providers", shadowing.providers))
    report = collector.collect({"use_psutil": False})
    assert calls == {"pth": 1, "distributions": 1, "providers": 1}
    assert all("error" not in report[s] or len(report[s]) > 1 for s in ("sys_path", "distributions", "shadowed"))

    # Without sys_path, the sections that need its facts still get them.
    report = collector.collect({"use_psutil": False, "skip": ["sys_path"]})
    assert "sys_path" not in report and isinstance(report["distributions"], list)

    def broken(ctx):
        raise OSError("pth scan broke")

    monkeypatch.setattr(pth, "scan", broken)
    report = collector.collect({"use_psutil": False})
    assert report["sys_path"] == {"error": "OSError: pth scan broke"}
    # distributions and providers go on without the .pth facts.
    assert isinstance(report["distributions"], list) and report["distributions"]
    assert set(report["shadowed"]) == {"modules", "distributions"}

    def no_dists(ctx):
        raise ValueError("metadata broke")

    monkeypatch.undo()
    monkeypatch.setattr(distributions, "collect", no_dists)
    report = collector.collect({"use_psutil": False})
    assert report["distributions"] == {"error": "ValueError: metadata broke"}
    assert report["shadowed"] == {"error": "ValueError: metadata broke"}  # it compares distributions
    assert isinstance(report["sys_path"]["entries"], list)  # its editable .pth lookup tolerates it
    assert isinstance(report["modules"]["top_level"], list)
