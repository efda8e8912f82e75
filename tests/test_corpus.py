"""The findings corpus (issue 10): real environments built with the real tools
from the package index, each checked against ground truth computed inside
its interpreter (see corpus_helpers), and scored.

Healthy cases must give no warning or error; broken ones exactly the named
finding with its path or version.  Every sys.path entry's origin, every
distribution importlib.metadata sees, every editable's code location and
every shadowed module's winner must match the truth.

Environments are built once per session and shared between cases; pip and
uv caches persist across runs (~/.cache).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

import corpus_helpers as ch
from corpus_helpers import Run, need, pip_of, run, site_of, tool, uv_pip, write
from report_helpers import DEBIAN_PYTHON, clean_env

SIX = "six==1.17.0"


# ---------------------------------------------------------------------------
# environments (built lazily, once per session)


class Corpus:
    def __init__(self, root: Path):
        self.root = root
        self._memo: Dict[str, object] = {}

    def once(self, key: str, build: Callable[[], object]) -> object:
        """Build once per session; with VENVPROBE_CORPUS_DIR, once until that directory is removed."""
        if key not in self._memo:
            marker = self.root / f".built-{key}.json"
            if os.environ.get("VENVPROBE_CORPUS_DIR") and marker.exists():
                value = json.loads(marker.read_text())
                self._memo[key] = tuple(map(Path, value)) if isinstance(value, list) else Path(value)
            else:
                value = build()
                marker.write_text(json.dumps([str(v) for v in value] if isinstance(value, tuple) else str(value)))
                self._memo[key] = value
        return self._memo[key]

    def dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- venvs -------------------------------------------------------------

    def venv(self, minor: str, *flags: str, name: str = "", packages: Tuple[str, ...] = (SIX,)) -> Path:
        key = f"venv-{minor}-{'-'.join(flags)}-{name}"

        def build() -> Path:
            base = need(minor)
            root = self.root / key
            if root.exists():
                shutil.rmtree(root)
            run([base, "-m", "venv", "--without-pip", *flags, root], env=clean_env())
            py = root / "bin" / "python"
            if packages:
                uv_pip(py, *packages)
            return py

        return self.once(key, build)  # type: ignore[return-value]

    def project(self, root: Path, name: str, pkg: str, backend: str, version: str = "1.0",
                src: bool = True, extra: str = "", init: str = "") -> Path:
        """A minimal project with one package, built by *backend*."""
        code_root = root / "src" if src else root
        write(code_root / pkg / "__init__.py", init or f"WHERE = {name!r}\n")
        systems = {
            "setuptools": ('["setuptools>=64"]', "setuptools.build_meta",
                           '[tool.setuptools.packages.find]\nwhere = ["src"]\n' if src else
                           f'[tool.setuptools]\npackages = ["{pkg}"]\n'),
            "hatchling": ('["hatchling"]', "hatchling.build",
                          f'[tool.hatch.build.targets.wheel]\npackages = ["{"src/" if src else ""}{pkg}"]\n'),
            "flit": ('["flit_core>=3.4"]', "flit_core.buildapi", f'[tool.flit.module]\nname = "{pkg}"\n'),
            "pdm": ('["pdm-backend"]', "pdm.backend", ""),
            "poetry": ('["poetry-core>=2"]', "poetry.core.masonry.api",
                       f'[tool.poetry]\npackages = [{{include = "{pkg}"{", from = " + chr(34) + "src" + chr(34) if src else ""}}}]\n'),
        }
        requires, api, tail = systems[backend]
        write(root / "pyproject.toml", f"""
            [build-system]
            requires = {requires}
            build-backend = "{api}"

            [project]
            name = "{name}"
            version = "{version}"
            description = "corpus project"
            {extra}

            {tail}
            """)
        return root

    def editables(self) -> Path:
        """One venv holding an editable install from every build backend and mode."""

        def build() -> Path:
            py = self.venv("3.11", name="editables", packages=())
            d = self.dir("editables")
            specs = [
                ("st-lenient", "stlenient", "setuptools", True, []),
                ("st-strict", "ststrict", "setuptools", True, ["-C", "editable_mode=strict"]),
                ("st-compat", "stcompat", "setuptools", True, ["-C", "editable_mode=compat"]),
                ("hatch-proj", "hatchpkg", "hatchling", True, []),
                ("flit-proj", "flitpkg", "flit", False, []),
                ("pdm-proj", "pdmpkg", "pdm", True, []),
                ("poetry-proj", "poetrypkg", "poetry", True, []),
            ]
            # One pip run for every project built with default options (pip start-up and
            # resolution are most of the cost), one per editable_mode.
            by_opts: Dict[Tuple[str, ...], List[str]] = {}
            for name, pkg, backend, src, opts in specs:
                proj = self.project(d / name, name, pkg, backend, src=src)
                by_opts.setdefault(tuple(opts), []).extend(["-e", str(proj)])
            for opts, projects in by_opts.items():
                pip_of(py, *opts, *projects)
            # uv's own editable install (of a flat-layout setuptools project: a finder).
            proj = self.project(d / "uv-proj", "uv-proj", "uvpkg", "setuptools", src=False)
            run(tool("uv") + ["pip", "install", "--quiet", "--python", py, "-e", proj])
            return py

        return self.once("editables", build)  # type: ignore[return-value]

    def legacy_develop(self) -> Tuple[Path, Path]:
        def build() -> Tuple[Path, Path]:
            py = self.venv("3.11", name="develop", packages=("setuptools==69.5.1",))
            proj = self.dir("legacy")
            write(proj / "legacypkg" / "__init__.py", "WHERE = 'legacy'\n")
            write(proj / "setup.py", "from setuptools import setup\n"
                  "setup(name='legacy-proj', version='2.1', packages=['legacypkg'])\n")
            run([py, "setup.py", "-q", "develop", "--no-deps"], cwd=proj, env=ch.cache_env())
            return py, proj

        return self.once("legacy", build)  # type: ignore[return-value]

    def probe_project(self) -> Path:
        """A project with a console script that runs the corpus driver (CORPUS_DRIVER)."""
        root = self.root / "corpusprobe"
        if not root.exists():
            self.project(root, "corpusprobe", "corpusprobe", "hatchling", src=False,
                         extra='[project.scripts]\ncorpusprobe = "corpusprobe:main"',
                         init="import os\n\ndef main():\n    path = os.environ['CORPUS_DRIVER']\n"
                              "    with open(path) as f:\n        src = f.read()\n"
                              "    exec(compile(src, path, 'exec'), {'__name__': '__corpus__'})\n")
        return root

    def namespaces(self) -> Tuple[Path, Path]:
        """Namespace packages of all three kinds, each split between the venv and a --target dir."""

        def build() -> Tuple[Path, Path]:
            py = self.venv("3.11", name="ns", packages=("setuptools==69.5.1",))
            d = self.dir("ns")
            extra = d / "extra"
            inits = {"nsn": None, "nsp": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
                     "nsr": "__import__('pkg_resources').declare_namespace(__name__)\n"}
            for ns, init in inits.items():
                for part in ("a", "b"):
                    proj = d / f"{ns}-{part}"
                    write(proj / ns / part / "__init__.py", f"PART = {part!r}\n")
                    if init:
                        write(proj / ns / "__init__.py", init)
                    write(proj / "pyproject.toml", f"""
                        [build-system]
                        requires = ["hatchling"]
                        build-backend = "hatchling.build"
                        [project]
                        name = "{ns}-{part}"
                        version = "1.0"
                        [tool.hatch.build.targets.wheel]
                        only-include = ["{ns}"]
                        """)
                    if part == "a":
                        uv_pip(py, proj)
                    else:
                        run(tool("uv") + ["pip", "install", "--quiet", "--python", py, "--target", extra, proj])
            return py, extra

        return self.once("ns", build)  # type: ignore[return-value]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    keep = os.environ.get("VENVPROBE_CORPUS_DIR")
    root = Path(keep) if keep else tmp_path_factory.mktemp("corpus")
    root.mkdir(parents=True, exist_ok=True)
    return Corpus(root)


# ---------------------------------------------------------------------------
# cases: name -> (kind, what a correct tool says, builder)

CASES: Dict[str, Tuple[str, str, Callable[[Corpus, Path], Run]]] = {}


def case(name: str, kind: str, says: str):
    def deco(func: Callable[[Corpus, Path], Run]) -> Callable[[Corpus, Path], Run]:
        CASES[name] = (kind, says, func)
        return func
    return deco


def _app(tmp: Path, name: str = "app") -> Path:
    app = tmp / name
    app.mkdir(parents=True, exist_ok=True)
    return app


for _minor in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13"):
    def _pyenv_case(c: Corpus, tmp: Path, minor: str = _minor) -> Run:
        py = c.venv(minor)
        app = _app(tmp)
        return Run(py, app, mode="script", target="run.py")
    case(f"venv-pyenv-{_minor}", f"python{_minor} -m venv (pyenv) + six, script run", "healthy")(_pyenv_case)


@case("venv-copies", "python3.12 -m venv --copies + six", "healthy: no venv-python-mismatch")
def _copies(c: Corpus, tmp: Path) -> Run:
    return Run(c.venv("3.12", "--copies"), tmp)


@case("venv-system-site", "venv --system-site-packages, pip upgraded in the venv over the base pip",
      "healthy: base site visible and venv pip winning are what was asked for (info)")
def _syssite(c: Corpus, tmp: Path) -> Run:
    return Run(c.venv("3.12", "--system-site-packages", packages=("pip==24.3.1", SIX)), tmp, names=["pip"])


@case("virtualenv-system-site", "virtualenv --system-site-packages (seeded pip/setuptools over base)",
      "healthy (info only)")
def _virtualenv(c: Corpus, tmp: Path) -> Run:
    def build() -> Path:
        root = c.root / "virtualenv-ss"
        run([sys.executable, "-m", "virtualenv", "--quiet", "-p", need("3.12"), "--system-site-packages", root])
        return root / "bin" / "python"
    return Run(c.once("virtualenv", build), tmp, names=["pip"])  # type: ignore[arg-type]


@case("uv-venv", "uv venv -p 3.12 + uv pip install six", "healthy")
def _uv(c: Corpus, tmp: Path) -> Run:
    def build() -> Path:
        root = c.root / "uv-venv"
        shutil.rmtree(root, ignore_errors=True)
        run(tool("uv") + ["venv", "--quiet", "-p", need("3.12"), root])
        uv_pip(root / "bin" / "python", SIX)
        return root / "bin" / "python"
    return Run(c.once("uv", build), tmp)  # type: ignore[arg-type]


def _pipx_install(c: Corpus, minor: str, suffix: str) -> Path:
    """pipx install --backend pip (shared libraries through pipx_shared.pth) of the corpus probe project."""
    def build() -> Path:
        home = c.root / "pipx"
        env = ch.cache_env({"PIPX_HOME": str(home), "PIPX_BIN_DIR": str(home / "bin"),
                            "PIPX_MAN_DIR": str(home / "man")})
        run(tool("pipx") + ["install", "--backend", "pip", "--suffix", suffix, "--python", need(minor),
                            str(c.probe_project())], env=env)
        return home / "venvs" / f"corpusprobe{suffix}" / "bin" / "corpusprobe"
    return c.once(f"pipx{suffix}", build)  # type: ignore[return-value]


@case("pipx-console-script", "pipx install --backend pip (hatchling project), run by its console script",
      "healthy; sys.path[0] = the pipx venv's bin (script_dir); the pipx_shared.pth line attributed")
def _pipx(c: Corpus, tmp: Path) -> Run:
    script = _pipx_install(c, "3.11", "-311")
    return Run(script.parent / "python", tmp, mode="console", target=str(script))


@case("pipx-other-python", "pipx install --python 3.12 while pipx runs on another Python: pipx_shared.pth "
      "names the shared pip's site-packages of pipx's own Python",
      "healthy: pipx shares one pure-Python pip on purpose (not site-packages-other-python)")
def _pipx_other(c: Corpus, tmp: Path) -> Run:
    script = _pipx_install(c, "3.12", "-312")
    return Run(script.parent / "python", tmp, mode="console", target=str(script))


@case("pip-target-pythonpath", "pip install --target dir, on PYTHONPATH", "healthy")
def _target(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="plain", packages=())

    def build() -> Path:
        target = c.root / "target"
        pip_of(py, "--target", target, "idna==3.10")
        return target
    target = c.once("target", build)
    return Run(py, _app(tmp), mode="script", target="run.py", env={"PYTHONPATH": str(target)})


@case("user-site", "pip install --user with pyenv 3.10, no venv, command line",
      "healthy on a command line: no-venv and user-site-active are info")
def _user(c: Corpus, tmp: Path) -> Run:
    base = need("3.10")

    def build() -> Path:
        home = c.root / "userhome"
        run([base, "-m", "pip", "install", "--quiet", "--user", "idna==3.10"], env=ch.cache_env({"HOME": str(home)}))
        return home
    home = c.once("user", build)
    return Run(Path(base), _app(tmp), mode="script", target="run.py", env={"__home__": str(home)})


_EDITABLES = [("st-lenient", "stlenient"), ("st-strict", "ststrict"), ("st-compat", "stcompat"),
              ("hatch-proj", "hatchpkg"), ("flit-proj", "flitpkg"), ("pdm-proj", "pdmpkg"),
              ("poetry-proj", "poetrypkg"), ("uv-proj", "uvpkg")]


@case("editables", "pip install -e: setuptools lenient/strict/compat, hatchling, flit, pdm-backend, "
      "poetry-core; uv pip install -e", "healthy; each editable says where its code lives")
def _editables(c: Corpus, tmp: Path) -> Run:
    return Run(c.editables(), tmp, editables=_EDITABLES, names=[p for _, p in _EDITABLES])


@case("editable-src-on-path", "setuptools src-layout editable with src/ also on python-path (mod_wsgi style)",
      "healthy: src/<name>.egg-info beside the venv's .dist-info is the same project")
def _egg_info_src(c: Corpus, tmp: Path) -> Run:
    py = c.editables()
    src = c.root / "editables" / "st-lenient" / "src"
    return Run(py, tmp, setup=f"import sys; sys.path.insert(0, {str(src)!r})", names=["stlenient"])


@case("setup-py-develop", "legacy `setup.py develop` (.egg-link + easy-install.pth)",
      "healthy; editable legacy-proj 2.1 with its code location")
def _develop(c: Corpus, tmp: Path) -> Run:
    py, _ = c.legacy_develop()
    return Run(py, tmp, editables=[("legacy-proj", "legacypkg")], names=["legacypkg"])


@case("namespaces", "PEP 420, pkgutil and pkg_resources namespace packages split across venv and a --target dir",
      "healthy: every portion importable; namespace-split is info")
def _namespaces(c: Corpus, tmp: Path) -> Run:
    py, extra = c.namespaces()
    return Run(py, tmp, env={"PYTHONPATH": str(extra)}, names=["nsn", "nsp", "nsr"],
               imports=["nsn.a", "nsn.b", "nsp.a", "nsp.b", "nsr.a", "nsr.b"])


@case("debian-python", "Debian /usr/bin/python3 (dist-packages), script run, no venv",
      "healthy on a command line: no-venv is info")
def _debian(c: Corpus, tmp: Path) -> Run:
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        pytest.skip("no Debian python")
    return Run(Path(DEBIAN_PYTHON), _app(tmp), mode="script", target="run.py")


@case("symlinked-release", "app run from current -> releases/v1, code inserts its own (symlinked) dir",
      "healthy: one directory reached twice is not shadowing")
def _release(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="plain", packages=())
    rel = _app(tmp, "releases/v1")
    write(rel / "models.py", "X = 1\n")
    (tmp / "current").symlink_to(rel)
    return Run(py, tmp, mode="script", target="current/app.py",
               setup="import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))",
               names=["models"])


@case("script-inserts-own-dir", "manage.py doing sys.path.insert(0, dirname(abspath(__file__)))",
      "healthy: the script's directory twice is a duplicate (info), not shadowing")
def _own_dir(c: Corpus, tmp: Path) -> Run:
    app = _app(tmp)
    write(app / "models.py", "X = 1\n")
    return Run(c.venv("3.11"), app, mode="script", target="manage.py", names=["models", "manage"],
               setup="import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))")


@case("zip-import", "a zip of modules on PYTHONPATH", "healthy")
def _zip(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="plain", packages=())
    z = tmp / "deps.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("zipped_mod.py", "X = 1\n")
        zf.writestr("zipped_pkg/__init__.py", "")
    return Run(py, _app(tmp), mode="script", target="run.py", env={"PYTHONPATH": str(z)}, names=["zipped_mod"])


@case("unicode-and-spaces", "venv and app in paths with spaces and non-ASCII", "healthy")
def _unicode(c: Corpus, tmp: Path) -> Run:
    def build() -> Path:
        root = c.root / "my venv é"
        run([need("3.11"), "-m", "venv", "--without-pip", root], env=clean_env())
        uv_pip(root / "bin" / "python", SIX)
        return root / "bin" / "python"
    py = c.once("unicode", build)
    return Run(py, _app(tmp, "app dir ü"), mode="script", target="run.py")  # type: ignore[arg-type]


@case("safepath", "PYTHONSAFEPATH=1 with PYTHONPATH=lib (3.13)", "healthy; no script directory on sys.path")
def _safepath(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.13")
    lib = _app(tmp, "lib")
    write(lib / "helper.py", "X = 1\n")
    return Run(py, _app(tmp), mode="script", target="run.py", env={"PYTHONSAFEPATH": "1", "PYTHONPATH": str(lib)})


@case("relative-script", "cd app && python manage.py", "healthy; sys.path[0] is script_dir")
def _relative(c: Corpus, tmp: Path) -> Run:
    app = _app(tmp)
    write(app / "models.py", "X = 1\n")
    return Run(c.venv("3.11"), app, mode="script", target="manage.py", names=["models"])


@case("pythonpath-dot", "PYTHONPATH=. python manage.py", "healthy; script_dir then pythonpath, no self-shadowing")
def _pythonpath_dot(c: Corpus, tmp: Path) -> Run:
    app = _app(tmp)
    write(app / "models.py", "X = 1\n")
    return Run(c.venv("3.11"), app, mode="script", target="manage.py", env={"PYTHONPATH": "."},
               names=["models", "manage"])


@case("python-m", "python -m myapp.serve from the project root", "healthy; sys.path[0] (cwd) is script_dir")
def _module(c: Corpus, tmp: Path) -> Run:
    app = _app(tmp)
    write(app / "myapp" / "__init__.py", "")
    return Run(c.venv("3.11"), app, mode="module", target="myapp.serve")


@case("gunicorn", "gunicorn (console script) loading an app from its working directory",
      "healthy; sys.path[0] = gunicorn's cwd (server_cwd), sys.path[1] = venv bin (script_dir)")
def _gunicorn(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="gunicorn", packages=("gunicorn==23.0.0",))
    app = _app(tmp)
    write(app / "corpus_app.py", """
        import os
        with open(os.environ["CORPUS_DRIVER"]) as f:
            exec(compile(f.read(), "driver", "exec"), {"__name__": "__corpus__"})

        def app(environ, start_response):
            start_response("200 OK", [])
            return [b""]
        """)
    return Run(py, app, mode="gunicorn", target=str(py.parent / "gunicorn"), runtime_kind="server_cwd",
               truth_extra_setup="import os, sys; sys.path.insert(0, os.getcwd())")


@case("zipapp", "python app.pyz (a zip run as the program)", "healthy; sys.path[0] = the zip (script_dir)")
def _zipapp(c: Corpus, tmp: Path) -> Run:
    return Run(c.venv("3.11"), _app(tmp), mode="zipapp", target="app.pyz")


@case("uwsgi", "uWSGI (Debian, python3 plugin) with home = a Debian-Python venv",
      "healthy; uWSGI's '.' and '' first are server_cwd")
def _uwsgi(c: Corpus, tmp: Path) -> Run:
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        pytest.skip("no Debian python")

    def build() -> Path:
        root = c.root / "debian-venv"
        shutil.rmtree(root, ignore_errors=True)
        run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", root], env=clean_env())
        uv_pip(root / "bin" / "python", SIX)
        return root / "bin" / "python"
    py = c.once("debian-venv", build)
    return Run(py, _app(tmp), mode="uwsgi", target=str(Path(py).parent.parent), runtime_kind="server_cwd",  # type: ignore[arg-type]
               truth_path0=1, truth_drop_path0=True, truth_extra_setup="import sys; sys.path[0:0] = ['.', '']")


@case("pth-import-line", "a deploy .pth whose import line inserts a directory", "healthy; entry attributed to the .pth")
def _pth_import(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="pthimport")
    vendor = _app(tmp, "vendor")
    write(vendor / "vendored.py", "X = 1\n")
    write(site_of(py) / "zz_deploy.pth", f"import sys; sys.path.insert(0, {str(vendor)!r})\n")
    return Run(py, tmp)


@case("pth-import-twice", "python-path = the venv's own site-packages (mod_wsgi style): .pth import line runs twice",
      "healthy; the duplicated entry is not shadowing")
def _pth_twice(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.12", name="pthtwice")
    vendor = c.dir("pthtwice-vendor")
    write(vendor / "vendored.py", "X = 1\n")
    site = site_of(py)
    write(site / "zz_vendor.pth", f"import sys; sys.path.append({str(vendor)!r})\n")
    return Run(py, tmp, setup=f"import site; site.addsitedir({str(site)!r})", names=["vendored"])


# -- broken ----------------------------------------------------------------------


@case("scratch-requests", "a scratch requests.py next to app.py hides the installed requests",
      "broken: shadowed-module warning naming app/requests.py")
def _requests(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="requests", packages=("requests==2.32.3",))
    app = _app(tmp)
    write(app / "requests.py", "# scratch\n")
    return Run(py, app, mode="script", target="app.py", names=["requests"],
               problems=[("shadowed-module", [str(app / "requests.py")])])


@case("stdlib-random", "a local random.py in the app directory", "broken: stdlib-shadowed naming app/random.py")
def _random(c: Corpus, tmp: Path) -> Run:
    app = _app(tmp)
    write(app / "random.py", "# oops\n")
    return Run(c.venv("3.11"), app, mode="script", target="app.py", names=["random"],
               problems=[("stdlib-shadowed", [str(app / "random.py")])])


@case("pth-missing-dir", "a deploy .pth path line with a typo (directory does not exist)",
      "broken: pth-path-missing naming the .pth and the missing directory")
def _pth_missing(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11", name="pthmissing")
    pth = site_of(py) / "deploy.pth"
    missing = c.root / "srv" / "app" / "lib-typo"
    write(pth, f"{missing}\n")
    return Run(py, tmp, problems=[("pth-path-missing", [str(pth), str(missing)])])


@case("two-dist-info", "pip install --target T six==1.16.0 over six==1.15.0, T on PYTHONPATH over the venv's six 1.17.0",
      "broken: duplicate-distribution-metadata (1.15.0 and 1.16.0 in T) and shadowed-distribution")
def _two_dist_info(c: Corpus, tmp: Path) -> Run:
    py = c.venv("3.11")

    def build() -> Path:
        target = c.root / "target-six"
        pip_of(py, "--target", target, "six==1.15.0")
        pip_of(py, "--target", target, "six==1.16.0")
        return target
    target = c.once("target-six", build)
    return Run(py, _app(tmp), mode="script", target="run.py", env={"PYTHONPATH": str(target)}, names=["six"],
               problems=[("duplicate-distribution-metadata", ["1.15.0", "1.16.0", str(target)]),
                         ("shadowed-distribution", ["1.17.0", str(target)])])


@case("venv-repointed", "a venv made by Python 3.11 whose bin/python now points at Python 3.12",
      "broken: venv-python-mismatch naming both versions")
def _repointed(c: Corpus, tmp: Path) -> Run:
    def build() -> Path:
        root = c.root / "repointed"
        shutil.rmtree(root, ignore_errors=True)
        run([need("3.11"), "-m", "venv", "--without-pip", root], env=clean_env())
        link = root / "bin" / "python"
        link.unlink()
        link.symlink_to(need("3.12"))
        return link
    py = c.once("repointed", build)
    return Run(py, tmp, problems=[("venv-python-mismatch", ["made by Python 3.11", "3.12"])])  # type: ignore[arg-type]


@case("pythonpath-other-venv", "PYTHONPATH into the site-packages of a venv made by Python 3.9, run by 3.11",
      "broken: site-packages-other-python naming the path, 3.9 and PYTHONPATH")
def _other_venv(c: Corpus, tmp: Path) -> Run:
    other = site_of(c.venv("3.9"))
    return Run(c.venv("3.11"), tmp, env={"PYTHONPATH": str(other)}, names=["six"],
               problems=[("site-packages-other-python", [str(other), "3.9", "PYTHONPATH"])])


# ---------------------------------------------------------------------------
# the test and the score

SCORE: Dict[str, dict] = {}


MOD_WSGI = "mod-wsgi-daemon"


@pytest.mark.parametrize("name", [n for n in CASES if n != MOD_WSGI])
def test_corpus_case(corpus: Corpus, tmp_path: Path, name: str) -> None:
    kind, says, build = CASES[name]
    r = build(corpus, tmp_path)
    report = ch.collect_report(r, tmp_path)
    check_case(name, r, report, tmp_path)


def check_case(name: str, r: Run, report: dict, tmp_path: Path) -> None:
    """Compare *report* with the truth of *r*; record the score; fail with every difference."""
    kind, says, _ = CASES[name]
    shadow_names = [m["name"] for m in (report.get("shadowed") or {}).get("modules") or []]
    truth = ch.ground_truth(r, tmp_path, shadow_names)
    found, missed, extra = ch.match_problems(report, r.problems)
    origin_errors = ch.compare_origins(report, truth)
    fact_errors = ch.compare_dists(report, truth) + ch.compare_editables(report, truth, r.editables) \
        + ch.compare_winners(report, truth) + ch.compare_shadowing(report, truth)
    import_errors = [f"{m}: {v}" for m, v in truth["imports"].items() if str(v).startswith("ERROR")]
    SCORE[name] = {
        "kind": kind, "says": says, "healthy": not r.problems,
        "tp": len(found), "fn": len(missed), "fp": len(extra),
        "entries": len(report["sys_path"]["entries"]), "origin_errors": len(origin_errors),
        "fact_errors": len(fact_errors),
    }
    _write_score()
    problems = []
    if missed:
        problems.append(f"missed: {missed}")
    if extra:
        problems.append("unexpected warnings/errors:\n" + "\n".join(
            f"  {f['severity']} {f['code']}: {f['message']}" for f in extra))
    problems += origin_errors + fact_errors + import_errors
    assert not problems, f"{name} ({kind}):\n" + "\n".join(problems) + "\n\nall findings:\n" + "\n".join(
        f"  {f['severity']} {f['code']}: {f['message']}" for f in report["findings"])


MOD_WSGI_APP = """
import os, sys
def application(environ, start_response):
    g = {{"__name__": "__venvprobe_collect__"}}
    with open({collect!r}) as fh:
        exec(compile(fh.read(), {collect!r}, "exec"), g)
    body = g["dumps"](g["collect"]({{"use_psutil": False}})).encode("utf-8", "surrogatepass")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _mod_wsgi_case(c: Corpus, tmp: Path) -> Run:
    raise AssertionError("built by test_corpus_mod_wsgi (needs the Apache fixtures)")


case(MOD_WSGI, "Apache + Debian mod_wsgi daemon: python-home = a Debian-Python venv with a setuptools "
     "src-layout editable, python-path = its src/", "healthy in a server process; src/<name>.egg-info is the "
     "editable's own metadata")(_mod_wsgi_case)


@pytest.mark.servers
def test_corpus_mod_wsgi(apache_factory, shared_tmp: Path, tmp_path: Path) -> None:
    """The issue's mod_wsgi observation, under a real Apache: the collector runs in the daemon process."""
    import servers

    if (os.stat(ch.COLLECT_SRC).st_mode & 0o004) == 0:
        pytest.fail("the checkout must be readable by www-data")
    venv = shared_tmp / "venv"
    run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", venv], env=clean_env())
    py = venv / "bin" / "python"
    proj = Corpus(shared_tmp).project(shared_tmp / "mw-proj", "mw-proj", "mwpkg", "setuptools", src=True)
    pip_of(py, "-e", proj)
    app = shared_tmp / "app"
    write(app / "app.wsgi", MOD_WSGI_APP.format(collect=str(ch.COLLECT_SRC)))
    servers.make_world_readable(shared_tmp)
    apache = apache_factory(f"""
WSGIDaemonProcess corpus python-home={venv} python-path={proj / 'src'} processes=1 threads=1
WSGIScriptAlias /app {app}/app.wsgi process-group=corpus application-group=%{{GLOBAL}}
<Directory {app}>
    Require all granted
</Directory>
""")
    status, report = apache.get_json("/app", timeout=30)
    assert status == 200, (status, report, apache.logs())
    assert report["identity"]["server"]["kind"] == "mod_wsgi"
    report["findings"] = ch.analyze(report)
    # mod_wsgi adds python-path with site.addsitedir(); sys.path has no program directory.
    r = Run(py, shared_tmp, mode="c", truth_path0=1, truth_drop_path0=True,
            setup=f"import site; site.addsitedir({str(proj / 'src')!r})",
            editables=[("mw-proj", "mwpkg")], names=["mwpkg"])
    check_case(MOD_WSGI, r, report, tmp_path)


def corpus_scores(score: Dict[str, dict]) -> dict:
    tp = sum(s["tp"] for s in score.values())
    fp = sum(s["fp"] for s in score.values())
    fn = sum(s["fn"] for s in score.values())
    entries = sum(s["entries"] for s in score.values())
    wrong = sum(s["origin_errors"] for s in score.values())
    return {
        "cases": len(score), "tp": tp, "fp": fp, "fn": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "healthy_with_warnings": sorted(n for n, s in score.items() if s["healthy"] and s["fp"]),
        "origins_right": f"{entries - wrong}/{entries}",
        "fact_errors": sum(s["fact_errors"] for s in score.values()),
    }


def _write_score() -> None:
    out = os.environ.get("VENVPROBE_CORPUS_SCORE")
    if out:
        Path(out).write_text(json.dumps({"summary": corpus_scores(SCORE), "cases": SCORE}, indent=1))


def test_corpus_table_is_documented() -> None:
    """Every corpus case appears in the table of docs/findings.md's corpus section."""
    doc = (ch.REPO / "docs" / "findings.md").read_text()
    for name in CASES:
        assert f"| `{name}` |" in doc, name


def test_venvprobe_console_script_explains_its_own_sys_path0(corpus: Corpus, tmp_path: Path) -> None:
    """`venvprobe report` run by its console script: sys.path[0] is the venv's bin, put there by
    the interpreter (script_dir), and a healthy venv gives no warning or error."""
    if ch.CODE != ch.REPO:
        pytest.skip("runs the installed checkout, not VENVPROBE_CORPUS_CODE")

    def build() -> Path:
        py = corpus.venv("3.11", name="venvprobe", packages=())
        uv_pip(py, "--reinstall-package", "venvprobe", ch.REPO)
        return py
    py = corpus.once("venvprobe-installed", build)
    if os.environ.get("VENVPROBE_CORPUS_DIR"):  # a kept corpus: install this checkout's current code
        uv_pip(py, "--reinstall-package", "venvprobe", ch.REPO)
    script = Path(py).parent / "venvprobe"  # type: ignore[arg-type]
    res = run([script, "report", "--format", "json"], cwd=tmp_path, env=clean_env())
    report = json.loads(res.stdout)
    first = report["sys_path"]["entries"][0]
    assert first["path"] == os.path.realpath(script.parent)
    assert first["origin"]["kind"] == "script_dir", first["origin"]
    assert "venvprobe" in first["origin"]["detail"]
    assert [f for f in report["findings"] if f["severity"] in ("warning", "error")] == []
