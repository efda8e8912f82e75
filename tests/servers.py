"""Reusable real-server test harness for venvprobe.

venvprobe exists to report what a WSGI application *really* got when it is
hosted by Apache + mod_wsgi, uWSGI or gunicorn.  Faking those servers would
defeat the point, so integration tests start the genuine article: Debian's
``apache2`` with Debian's ``mod_wsgi``, Debian's ``uwsgi`` with its
``python3`` plugin, and gunicorn installed into a real virtual environment.

This is a plain helper module (not a test file).  Tests normally use it
through the fixtures in ``tests/conftest.py``; everything here also works on
its own.  Public API::

    free_port() -> int
    free_ports(count) -> [int]   # distinct, for one server given several ports
    port_is_open(port, host="127.0.0.1", timeout=0.2) -> bool
    shared_base() -> Path
    shared_dir(name) -> Path
    fresh_shared_dir(prefix="t") -> Path
    make_world_readable(path) -> None
    wheelhouse() -> Path
    repo_wheel(house=None) -> Optional[Path]
    make_venv(path, python=DEFAULT_PYTHON, system_site_packages=False,
              packages=(), tool="venv", house=None) -> Venv
    Venv(.root, .python, .site_packages, .pip_install(*pkgs), .run(...))
    ApacheServer(config, *, port=None, root=None, user="www-data",
                 group="www-data", mpm="event", modules=..., extra_modules=(),
                 log_level="info", substitutions=None)   # + .configtest()
    UwsgiServer(options=None, *, ini_text="", port=None, root=None, ...)
    GunicornServer(venv, "module:app", *, workers=1, extra_args=(),
                   chdir=None, port=None, root=None)   # + .wait_for_workers()
      common: .start(timeout=60) .stop(timeout=10) context manager, .url,
      .pid, .port, .get(path) .get_json(path), .error_log(), .console_log(),
      .logs(), .wait_for_log(regex), .session_processes(),
      .startup_seconds, .stop_seconds, .force_killed
    ServerStartError
    http_get(url, headers=None, timeout=30) -> (status, headers, body)
    http_get_json(url, headers=None, timeout=30) -> (status, obj)
    require(*binaries_or_modules) -> None   # skip, or fail when CI=true
    require_apache(), require_uwsgi(), in_ci()
    process_alive(pid) -> bool, descendants(pid) -> [pid]

Every server is started with ``subprocess.Popen(start_new_session=True)`` so
that the test owns the pid *and* a session id; ``stop()`` signals only that
pid, and mops up only processes of that session (e.g. mod_wsgi daemon
processes or uWSGI workers) — never anything found by name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypeVar,
    Union,
)

__all__ = [
    "REPO_ROOT",
    "DEFAULT_PYTHON",
    "THIRD_PARTY_REQUIREMENTS",
    "ServerStartError",
    "free_port",
    "free_ports",
    "port_is_open",
    "shared_base",
    "shared_dir",
    "fresh_shared_dir",
    "make_world_readable",
    "wheelhouse",
    "repo_wheel",
    "Venv",
    "make_venv",
    "BaseServer",
    "ApacheServer",
    "UwsgiServer",
    "GunicornServer",
    "http_get",
    "http_get_json",
    "require",
    "require_apache",
    "require_uwsgi",
    "in_ci",
    "process_alive",
    "descendants",
    "REPO_WHEEL_ERROR",
    "MOD_WSGI6_REQUIREMENT",
    "pyenv_root",
    "pyenv_python",
    "readable_python",
    "ModWsgi6",
    "mod_wsgi6",
    "ExpressServer",
]

#: The repository under test; this file lives in ``<repo>/tests/``.
REPO_ROOT: Path = Path(__file__).resolve().parents[1]

#: Debian's interpreter: the one libpython3.11.so that mod_wsgi and the uWSGI
#: python3 plugin are linked against, so venvs served by them must use it.
DEFAULT_PYTHON = "/usr/bin/python3"

#: Third-party wheels every test venv may ask for (cached across sessions).
THIRD_PARTY_REQUIREMENTS: Tuple[str, ...] = (
    "flask",
    "psutil",
    "tabulate",
    "packaging",
    "gunicorn",
)

APACHE_BIN_CANDIDATES = ("/usr/sbin/apache2", "/usr/sbin/httpd")
APACHE_MODULES_DIR = Path("/usr/lib/apache2/modules")
MOD_WSGI_SO = APACHE_MODULES_DIR / "mod_wsgi.so"
UWSGI_BIN = "/usr/bin/uwsgi"

# Servers get a scrubbed environment: the test runner's PYTHONPATH,
# PYTHONHOME, PYTHONDONTWRITEBYTECODE, VIRTUAL_ENV, pyenv shims... would
# otherwise leak into the embedded interpreter and falsify exactly what
# venvprobe is meant to observe.
_CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _clean_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    env = {"PATH": _CLEAN_PATH, "LANG": "C.UTF-8"}
    if extra:
        env.update(extra)
    return env


def in_ci() -> bool:
    """True when running under CI (``CI=true``), where skips become failures."""
    return os.environ.get("CI", "").lower() == "true"


# --------------------------------------------------------------------------
# ports and HTTP
# --------------------------------------------------------------------------


# Default deadlines: generous, because each ends as soon as its condition holds and is only
# reached when something is broken; on 2 busy cores a mod_wsgi daemon's first request (a new
# interpreter, imports, a report) can take many seconds.
HTTP_TIMEOUT = 30.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    There is an unavoidable race between closing this probe socket and the
    server binding the port; the servers below retry with a new port when
    they fail with "Address already in use" and the port was auto-chosen.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> List[int]:
    """``count`` distinct ports that were free a moment ago (for a server given several ports at once).

    Each probe socket stays bound until all are chosen: calling free_port() in a row may hand out
    the same port twice, since each one is released before the next is picked.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


def port_is_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(
    url: str, headers: Optional[Mapping[str, str]] = None, timeout: float = HTTP_TIMEOUT
) -> Tuple[int, Dict[str, str], bytes]:
    """GET ``url``; return ``(status, headers, body)``.

    Uses http.client rather than urllib so that 4xx/5xx are returned, not
    raised, and so that no ``http_proxy`` environment variable can route a
    127.0.0.1 request elsewhere.  Header names are lower-cased; repeated
    headers are joined with ", ".
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"only http:// URLs are supported, got {url!r}")
    conn = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout
    )
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn.request("GET", target, headers=dict(headers or {}))
        resp = conn.getresponse()
        body = resp.read()
        out: Dict[str, str] = {}
        for key, value in resp.getheaders():
            k = key.lower()
            out[k] = f"{out[k]}, {value}" if k in out else value
        return resp.status, out, body
    finally:
        conn.close()


def http_get_json(
    url: str, headers: Optional[Mapping[str, str]] = None, timeout: float = HTTP_TIMEOUT
) -> Tuple[int, Any]:
    """GET ``url`` and decode a JSON body; raise with the body if it isn't JSON."""
    status, _, body = http_get(url, headers=headers, timeout=timeout)
    try:
        return status, json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise AssertionError(
            f"GET {url} -> {status}, body is not JSON: {body[:2000]!r}"
        ) from exc


# --------------------------------------------------------------------------
# skip-or-fail
# --------------------------------------------------------------------------


def _which(name: str) -> Optional[str]:
    # CI's PATH may lack /usr/sbin (where apache2 lives), so look there too.
    return shutil.which(name) or shutil.which(name, path=_CLEAN_PATH)


def require(*names: str) -> None:
    """Skip the calling test unless every ``name`` is available.

    Each name is an absolute path (must exist), an executable on PATH or in
    the sbin directories, or an importable module of the test interpreter.
    When ``CI=true`` a missing prerequisite is a *failure*: CI is supposed
    to have every server installed, so a silent skip would hide a broken
    setup.
    """
    import pytest  # local: this module is also usable without pytest

    missing = []
    for name in names:
        if os.path.isabs(name):
            ok = os.path.exists(name)
        else:
            ok = _which(name) is not None
            if not ok:
                try:
                    ok = importlib.util.find_spec(name) is not None
                except (ImportError, ValueError):
                    ok = False
        if not ok:
            missing.append(name)
    if missing:
        msg = "missing test prerequisite(s): " + ", ".join(missing)
        if in_ci():
            pytest.fail(msg + " (CI=true: missing servers are failures)", pytrace=False)
        pytest.skip(msg)


def apache_binary() -> Optional[str]:
    """Path of Debian's apache2 binary, or None."""
    for cand in APACHE_BIN_CANDIDATES:
        if os.access(cand, os.X_OK):
            return cand
    return _which("apache2")


def require_apache() -> None:
    """``require`` Apache httpd, mod_wsgi and the modules ApacheServer loads."""
    require(
        apache_binary() or "apache2",
        str(MOD_WSGI_SO),
        str(APACHE_MODULES_DIR / "mod_mpm_event.so"),
        str(APACHE_MODULES_DIR / "mod_authz_core.so"),
    )


def require_uwsgi() -> None:
    """``require`` Debian's uwsgi binary and its python3 plugin."""
    require(UWSGI_BIN, "/usr/lib/uwsgi/plugins/python3_plugin.so")


# --------------------------------------------------------------------------
# world-readable scratch space
# --------------------------------------------------------------------------


def shared_base() -> Path:
    """Root of all world-traversable scratch dirs: /tmp/venvprobe-tests-<uid>.

    Apache's children, mod_wsgi daemon processes and uWSGI workers run as
    www-data, and must read venvs and WSGI scripts.  pytest's tmp_path lives
    in /tmp/pytest-of-root (mode 0700), which www-data cannot traverse, so
    tests that hand files to those servers must use this tree instead.
    ``VENVPROBE_TEST_BASE`` overrides the location.
    """
    base = Path(
        os.environ.get("VENVPROBE_TEST_BASE")
        or os.path.join(tempfile.gettempdir(), f"venvprobe-tests-{os.getuid()}")
    )
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    st = base.stat()
    # /tmp is shared: refuse a base that another user pre-created (they could
    # swap venvs or scripts that we then run as root).
    if st.st_uid != os.getuid():
        raise RuntimeError(f"{base} is owned by uid {st.st_uid}, not us")
    os.chmod(base, 0o755)  # mkdir's mode is filtered by umask; be explicit
    return base


def shared_dir(name: str) -> Path:
    """``shared_base()/name`` (nested names allowed), every component 0755."""
    base = shared_base()
    path = base
    for part in Path(name).parts:
        if part in ("", ".", "..") or os.path.isabs(part):
            raise ValueError(f"bad shared_dir name: {name!r}")
        path = path / part
        path.mkdir(exist_ok=True)
        os.chmod(path, 0o755)
    return path


def fresh_shared_dir(prefix: str = "t") -> Path:
    """A new, unique, world-traversable directory (one per test).

    Names are kept short on purpose: mod_wsgi puts its daemon sockets in
    here and AF_UNIX paths are limited to 107 bytes.
    """
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", prefix)[:16] or "t"
    path = Path(tempfile.mkdtemp(prefix=prefix + "-", dir=str(shared_dir("runs"))))
    os.chmod(path, 0o755)
    return path


def make_world_readable(path: Union[str, Path]) -> None:
    """Give others read access to files and traverse access to dirs below path.

    Cheap insurance against a restrictive umask: pip and venv honour the
    umask, and www-data must read everything in a venv it is handed.
    """
    root = Path(path)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            try:
                st = os.lstat(name)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            want = st.st_mode | stat.S_IRGRP | stat.S_IROTH
            if stat.S_ISDIR(st.st_mode) or st.st_mode & stat.S_IXUSR:
                want |= stat.S_IXGRP | stat.S_IXOTH
            if want != st.st_mode:
                os.chmod(name, stat.S_IMODE(want))


# --------------------------------------------------------------------------
# wheelhouse
# --------------------------------------------------------------------------

# One wheelhouse per process (= per pytest session or xdist worker): other
# engineers edit venvprobe/ while tests run, and re-hashing on every call
# would rebuild the repo wheel mid-session and make tests see different code.
_SESSION_HOUSE: Optional[Path] = None
_COMPLETE = ".complete"
REPO_WHEEL_ERROR = "repo-wheel-error.txt"

# What goes into the repo's wheel; the rest of the repo (tests, docs, .git,
# other engineers' scratch files) neither changes the wheel nor gets copied.
_REPO_BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")
_REPO_BUILD_GLOBS = ("README*", "LICENSE*", "COPYING*")
_REPO_BUILD_DIRS = ("venvprobe", "bin")  # bin/venvprobe: the command (pyproject script-files)
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache"}


def _repo_build_inputs() -> List[Path]:
    files: List[Path] = []
    for name in _REPO_BUILD_FILES:
        if (REPO_ROOT / name).is_file():
            files.append(REPO_ROOT / name)
    for pattern in _REPO_BUILD_GLOBS:
        files.extend(p for p in REPO_ROOT.glob(pattern) if p.is_file())
    for d in _REPO_BUILD_DIRS:
        for p in (REPO_ROOT / d).rglob("*"):
            rel = p.relative_to(REPO_ROOT)
            if p.is_file() and not (set(rel.parts) & _IGNORED_PARTS) and not p.name.endswith(".pyc"):
                files.append(p)
    return sorted(set(files))


def _digest(items: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(len(item).to_bytes(8, "big"))
        h.update(item)
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # flock, not a marker-only scheme: pytest-xdist workers or two pytest
    # runs may ask for the wheelhouse at the same moment.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run_logged(cmd: Sequence[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw
    )


def _build_third_party(dest: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=str(dest.parent)))
    try:
        res = _run_logged(
            [sys.executable, "-m", "pip", "wheel", "--quiet",
             "--wheel-dir", str(tmp), *THIRD_PARTY_REQUIREMENTS]
        )
        if res.returncode != 0:
            raise RuntimeError(f"pip wheel of third-party packages failed:\n{res.stdout}")
        (tmp / _COMPLETE).write_text("ok\n")
        make_world_readable(tmp)
        os.rename(tmp, dest)  # atomic publish: readers never see half a dir
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _repo_snapshot() -> Dict[str, bytes]:
    """Read the wheel's inputs once, so that the hash and the build see the
    same bytes even while someone is editing the tree."""
    snap: Dict[str, bytes] = {}
    for p in _repo_build_inputs():
        with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
            snap[str(p.relative_to(REPO_ROOT))] = p.read_bytes()
    return snap


def _build_repo_wheel(out: Path, snapshot: Mapping[str, bytes]) -> Optional[str]:
    """Build the repo's wheel into ``out``; return an error text or None.

    Builds from a copy (the snapshot) so that setuptools' in-tree
    ``build/`` and ``*.egg-info`` never land in the shared work tree.
    """
    with tempfile.TemporaryDirectory(prefix="venvprobe-src-") as src:
        for rel, data in snapshot.items():
            target = Path(src) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        res = _run_logged(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--wheel-dir", str(out), src]
        )
    if res.returncode != 0:
        return f"pip wheel of {REPO_ROOT} failed (exit {res.returncode}):\n{res.stdout}"
    return None


def wheelhouse() -> Path:
    """Directory of wheels for test venvs: third-party packages + this repo.

    * Third-party wheels (``THIRD_PARTY_REQUIREMENTS`` and their deps) are
      built with the test interpreter's pip once and cached across sessions,
      keyed by the requirement list and the interpreter's version (wheels
      are tagged; Debian's python3 is 3.11 like pyenv's here — a venv of
      another minor version may not find binary wheels such as markupsafe).
    * The repo's own wheel is keyed by a hash of its build inputs, so any
      source change gets a fresh wheel, and an unchanged tree reuses it.
      If building it fails (the package may be half-written while others
      work on it), the wheelhouse is still returned, without that wheel and
      with the pip output in ``REPO_WHEEL_ERROR``; a failed build is retried
      once per process.
    * The returned directory is immutable once published (atomic rename),
      guarded by a file lock, and memoised per process (= per session): the
      first call snapshots the repo, later calls are free.
    """
    global _SESSION_HOUSE
    if _SESSION_HOUSE is not None:
        return _SESSION_HOUSE
    snapshot = _repo_snapshot()
    repo_key = _digest([rel.encode() + b"\0" + data for rel, data in sorted(snapshot.items())])
    tp_key = _digest(
        [f"{sys.version_info[0]}.{sys.version_info[1]}".encode()]
        + [r.encode() for r in THIRD_PARTY_REQUIREMENTS]
    )
    wheels = shared_dir("wheels")
    third_party = wheels / f"third-party-{tp_key}"
    house = wheels / f"house-{tp_key}-{repo_key}"
    with _file_lock(wheels / ".lock"):
        if not (third_party / _COMPLETE).exists():
            shutil.rmtree(third_party, ignore_errors=True)
            _build_third_party(third_party)
        if (house / _COMPLETE).exists() and (house / REPO_WHEEL_ERROR).exists():
            # A failure may have been transient (index hiccup): retry once
            # per process rather than caching it forever.
            shutil.rmtree(house, ignore_errors=True)
        if not (house / _COMPLETE).exists():
            shutil.rmtree(house, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=house.name + ".tmp-", dir=str(wheels)))
            try:
                for whl in third_party.glob("*.whl"):
                    os.link(whl, tmp / whl.name)  # hard links: no copying
                error = _build_repo_wheel(tmp, snapshot)
                if error:
                    (tmp / REPO_WHEEL_ERROR).write_text(error)
                (tmp / _COMPLETE).write_text("ok\n")
                make_world_readable(tmp)
                os.chmod(tmp, 0o755)
                os.rename(tmp, house)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        # The age that pruning goes by is the last use, not the build: a house
        # reused from an unchanged tree may be hours old while this session
        # installs from it, and another session must not remove it meanwhile.
        os.utime(house)
        _prune_old_houses(wheels, keep=house)
    _SESSION_HOUSE = house
    return house


def _prune_old_houses(wheels: Path, keep: Path, max_age: float = 3600.0) -> None:
    # Each source change makes a new house; drop stale ones, but only old
    # ones, since a concurrent session may still be installing from theirs.
    now = time.time()
    for p in wheels.glob("house-*"):
        if p != keep and p.is_dir():
            try:
                if now - p.stat().st_mtime > max_age:
                    shutil.rmtree(p, ignore_errors=True)
            except FileNotFoundError:
                pass


def repo_wheel(house: Optional[Path] = None) -> Optional[Path]:
    """The venvprobe wheel inside the wheelhouse, or None if it didn't build.

    When None, ``(house / REPO_WHEEL_ERROR).read_text()`` says why.
    """
    house = house or wheelhouse()
    found = sorted(house.glob("venvprobe-*.whl"))
    return found[-1] if found else None


# --------------------------------------------------------------------------
# virtual environments
# --------------------------------------------------------------------------

_PIP_HAS_PYTHON_OPTION: Optional[bool] = None


def _outer_pip_has_python_option() -> bool:
    """pip >= 22.3 can install into another interpreter's env (``--python``)."""
    global _PIP_HAS_PYTHON_OPTION
    if _PIP_HAS_PYTHON_OPTION is None:
        try:
            from pip import __version__ as pip_version  # type: ignore

            major, minor = (int(x) for x in pip_version.split(".")[:2])
            _PIP_HAS_PYTHON_OPTION = (major, minor) >= (22, 3)
        except Exception:  # pip missing or odd version string
            _PIP_HAS_PYTHON_OPTION = False
    return _PIP_HAS_PYTHON_OPTION


@dataclass
class Venv:
    """A virtual environment made by :func:`make_venv`.

    ``pip_install`` uses the *test runner's* pip pointed at this venv
    (``pip --python``): the venvs are created ``--without-pip`` because
    seeding pip costs ~2-3 s per venv, while ``pip --python`` installs with
    the venv's own tags, scheme and console-script shebangs.
    """

    root: Path
    python: Path
    site_packages: Path
    house: Optional[Path] = None
    installed: List[str] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def pip_install(self, *pkgs: str, no_deps: bool = False, upgrade: bool = False) -> None:
        """Install ``pkgs`` (names, requirement strings or wheel paths) from
        the wheelhouse only — no index, so tests are hermetic and fast."""
        if not pkgs:
            return
        house = self.house or wheelhouse()
        self.house = house
        opts = ["install", "--isolated", "--quiet", "--no-index",
                "--find-links", str(house), "--disable-pip-version-check"]
        if no_deps:
            opts.append("--no-deps")
        if upgrade:
            opts.append("--upgrade")
        if _outer_pip_has_python_option():
            cmd = [sys.executable, "-m", "pip", "--python", str(self.python), *opts, *pkgs]
        else:
            # Fallback for old pip: correct for pure/abi3 wheels of the same
            # Python version, but console scripts land in site-packages/bin.
            cmd = [sys.executable, "-m", "pip", *opts, "--target", str(self.site_packages), *pkgs]
        res = _run_logged(cmd)
        if res.returncode != 0:
            hint = ""
            if (house / REPO_WHEEL_ERROR).exists():
                hint = "\n(note: the repo wheel failed to build:\n" + (house / REPO_WHEEL_ERROR).read_text() + ")"
            raise RuntimeError(
                f"installing {pkgs} into {self.root} failed:\n{res.stdout}{hint}"
            )
        self.installed.extend(pkgs)
        make_world_readable(self.root)

    def run(self, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
        """Run the venv's python with ``args``; return the CompletedProcess."""
        kw.setdefault("env", _clean_env())
        res = subprocess.run([str(self.python), *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)
        if check and res.returncode != 0:
            raise RuntimeError(f"{self.python} {args} failed:\n{res.stdout}\n{res.stderr}")
        return res


def _virtualenv_cmd() -> Tuple[List[str], Dict[str, str]]:
    """Command + env to run virtualenv; installed into a shared tools dir
    (not into the developer's interpreter) when it isn't importable."""
    env = dict(os.environ)
    # virtualenv caches interpreter info in ~/.local/share/virtualenv; keep
    # that out of the real home (and shared by parallel tests).
    env["VIRTUALENV_OVERRIDE_APP_DATA"] = str(shared_dir("tools/virtualenv-app-data"))
    if importlib.util.find_spec("virtualenv") is not None:
        return [sys.executable, "-m", "virtualenv"], env
    tools = shared_dir("tools/virtualenv")
    with _file_lock(tools.parent / ".virtualenv.lock"):
        if not (tools / "virtualenv").is_dir():
            res = _run_logged([sys.executable, "-m", "pip", "install", "--quiet",
                               "--target", str(tools), "virtualenv"])
            if res.returncode != 0:
                raise RuntimeError(f"pip install virtualenv failed:\n{res.stdout}")
    env["PYTHONPATH"] = str(tools) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return [sys.executable, "-m", "virtualenv"], env


def make_venv(
    path: Union[str, Path],
    python: str = DEFAULT_PYTHON,
    system_site_packages: bool = False,
    packages: Sequence[str] = (),
    tool: str = "venv",
    house: Optional[Path] = None,
) -> Venv:
    """Create a virtual environment at ``path`` and install ``packages``.

    ``tool="venv"`` runs ``<python> -m venv --without-pip`` (~0.1 s);
    ``tool="virtualenv"`` runs the virtualenv package with ``-p <python>
    --no-pip --no-setuptools --no-wheel`` (~0.4 s), which writes a
    different pyvenv.cfg (``virtualenv = ...`` key) — venvprobe must cope
    with both.  Packages come from :func:`wheelhouse` (``house`` overrides).
    The result is made world-readable for www-data.
    """
    root = Path(path).absolute()
    if tool == "venv":
        cmd = [python, "-m", "venv", "--without-pip"]
        if system_site_packages:
            cmd.append("--system-site-packages")
        res = _run_logged(cmd + [str(root)], env=_clean_env())
    elif tool == "virtualenv":
        base, env = _virtualenv_cmd()
        cmd = base + ["--quiet", "-p", python, "--no-pip", "--no-setuptools", "--no-wheel"]
        if system_site_packages:
            cmd.append("--system-site-packages")
        res = _run_logged(cmd + [str(root)], env=env)
    else:
        raise ValueError(f"tool must be 'venv' or 'virtualenv', not {tool!r}")
    if res.returncode != 0:
        raise RuntimeError(f"creating venv {root} with {tool} failed:\n{res.stdout}")
    vpython = root / "bin" / "python"
    # Ask the venv itself: Debian patches sysconfig schemes, so don't guess.
    out = subprocess.run(
        [str(vpython), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_clean_env(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"{vpython} does not run:\n{out.stdout}")
    venv = Venv(root=root, python=vpython, site_packages=Path(out.stdout.strip()), house=house)
    if packages:
        venv.pip_install(*packages)
    make_world_readable(root)
    return venv


# --------------------------------------------------------------------------
# process bookkeeping via /proc (no psutil needed in the runner)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Proc:
    # Identity is (pid, start): start time (clock ticks since boot) tells a
    # reused pid apart from the process we saw earlier.
    pid: int
    start: int
    ppid: int = field(compare=False)
    session: int = field(compare=False)
    state: str = field(compare=False)


def _read_proc(pid: int) -> Optional[_Proc]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may contain spaces/parens: split after the *last* ')'.
    rest = data[data.rindex(")") + 2:].split()
    return _Proc(pid=pid, state=rest[0], ppid=int(rest[1]), session=int(rest[3]), start=int(rest[19]))


def _all_procs() -> List[_Proc]:
    procs = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = _read_proc(int(name))
            if p is not None:
                procs.append(p)
    return procs


def _alive(p: _Proc) -> bool:
    # Zombies count as dead: PID 1 in containers does not always reap.
    now = _read_proc(p.pid)
    return now is not None and now.start == p.start and now.state not in ("Z", "X")


def _listen_inodes(port: int) -> Set[str]:
    """Socket inodes of TCP sockets LISTENing on ``port`` (any address)."""
    found: Set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)  # header
                for line in fh:
                    cols = line.split()
                    # cols: sl local rem st ... uid timeout inode
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        found.add(cols[9])
        except (FileNotFoundError, StopIteration):
            continue
    return found


def _pid_has_socket(pid: int, inodes: Set[str]) -> bool:
    targets = {f"socket:[{i}]" for i in inodes}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, PermissionError):
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                return True
        except OSError:
            continue
    return False


def _signal_ignored(pid: int, signum: int) -> bool:
    """True if ``pid`` currently ignores ``signum`` (SigIgn in /proc status)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return False


def process_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    p = _read_proc(pid)
    return p is not None and p.state not in ("Z", "X")


def descendants(pid: int) -> List[int]:
    """Pids of all live descendants of ``pid`` (from /proc)."""
    procs = _all_procs()
    children: Dict[int, List[int]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p.pid)
    out: List[int] = []
    todo = list(children.get(pid, []))
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(children.get(c, []))
    return [c for c in out if process_alive(c)]


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------


_S = TypeVar("_S", bound="BaseServer")


class ServerStartError(RuntimeError):
    """A server exited or never opened its port; the message has its logs."""


def _tail(text: str, limit: int = 8000) -> str:
    return text if len(text) <= limit else "...[snip]...\n" + text[-limit:]


def _render(template: str, subs: Mapping[str, Any]) -> str:
    # Plain replacement of known ``{key}`` tokens only: Apache configs
    # contain literal braces such as ``application-group=%{GLOBAL}`` and
    # ``%{ENV:...}``, which str.format() would choke on.
    out = template
    for key, value in subs.items():
        out = out.replace("{" + key + "}", str(value))
    return out


class BaseServer:
    """Common lifecycle: Popen with our own session, wait for the port,
    stop by pid, and reap every process of that session.

    Subclasses implement ``_prepare()`` (write config, return argv) and may
    set ``stop_signal``/``children_grace`` and override ``_settle()``.  Attributes useful to tests: ``port``, ``url``,
    ``pid``, ``root`` (private dir), ``startup_seconds``, ``stop_seconds``,
    ``force_killed``, ``children_seen``.
    """

    name = "server"
    stop_signal: int = signal.SIGTERM
    #: Seconds stop() lets the parent wind its children down before it
    #: SIGKILLs them itself.
    children_grace: float = 4.0

    def __init__(
        self,
        *,
        port: Optional[int] = None,
        root: Optional[Path] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._auto_port = port is None
        self.port: int = port if port is not None else free_port()
        self.root: Path = Path(root) if root is not None else fresh_shared_dir(self.name)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.extra_env: Dict[str, str] = dict(env or {})
        self.proc: Optional[subprocess.Popen] = None
        self.startup_seconds: Optional[float] = None
        self.console_log_path: Path = self.root / "console.log"
        self.children_seen: Set[int] = set()
        self._tracked: Set[_Proc] = set()
        self._log_fh: Optional[Any] = None
        self.cmd: List[str] = []
        self.stop_seconds: Optional[float] = None
        self.force_killed: List[int] = []

    # -- to override ------------------------------------------------------
    def _prepare(self) -> List[str]:
        raise NotImplementedError

    def cwd(self) -> Optional[str]:
        # Not the test runner's cwd: servers would inherit it (uWSGI even
        # chdir()s back to it on reload), and www-data may not be able to
        # read it.
        return str(self.root)

    def error_log(self) -> str:
        """The server's own error log (defaults to captured stdout/stderr)."""
        return self.console_log()

    def describe(self) -> str:
        """Extra context for error messages (e.g. the generated config)."""
        return ""

    def _settle(self, deadline: float) -> None:
        """Hook: extra readiness wait after the port opened (no-op)."""

    # -- public -----------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def console_log(self) -> str:
        """Everything the server wrote to stdout/stderr."""
        try:
            return self.console_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def logs(self) -> str:
        """All logs, labelled, for failure messages."""
        parts = [f"--- {self.name} console ({self.console_log_path}) ---\n" + _tail(self.console_log())]
        if type(self).error_log is not BaseServer.error_log:
            parts.append(f"--- {self.name} error log ---\n" + _tail(self.error_log()))
        return "\n".join(parts)

    def get(self, path: str = "/", headers: Optional[Mapping[str, str]] = None,
            timeout: float = HTTP_TIMEOUT) -> Tuple[int, Dict[str, str], bytes]:
        """``http_get`` against this server."""
        return http_get(self.url + path, headers=headers, timeout=timeout)

    def get_json(self, path: str = "/", headers: Optional[Mapping[str, str]] = None,
                 timeout: float = HTTP_TIMEOUT) -> Tuple[int, Any]:
        return http_get_json(self.url + path, headers=headers, timeout=timeout)

    def wait_for_log(self, pattern: str, timeout: float = 60.0, flags: int = 0) -> "re.Match[str]":
        """Poll ``error_log()`` until regex ``pattern`` matches; raise with
        the log on timeout.  For configs expected to fail at Python level."""
        rx = re.compile(pattern, flags)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.error_log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not in {self.name} log after {timeout}s:\n{self.logs()}")
            time.sleep(0.1)

    def start(self: _S, timeout: float = 60.0) -> _S:
        """Start and wait until *our* process listens on the port (checked
        against /proc, so a port squatter is not mistaken for readiness),
        plus a bounded ``_settle`` (uWSGI/gunicorn: workers forked).

        Readiness is "port open", not "app answers", on purpose: a config
        whose Python side is broken (mod_wsgi daemon respawning, uWSGI with
        no app) still starts, and the test then inspects the responses and
        the error log.  Raises ServerStartError (with logs) if the process
        exits first or the port stays closed for ``timeout`` seconds.
        """
        if self.proc is not None:
            raise RuntimeError(f"{self.name} already started")
        attempts = 3 if self._auto_port else 1
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                return self
            except ServerStartError as exc:
                text = str(exc)
                retry = attempt + 1 < attempts and (
                    "Address already in use" in text  # apache2, uWSGI
                    or "Connection in use" in text  # gunicorn
                )
                if not retry:
                    raise
                # Someone grabbed the port between free_port() and bind().
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> None:
        self.cmd = self._prepare()
        self._log_fh = open(self.console_log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            # New session: the pid is ours and so is the session id, which
            # lets stop() find daemon/worker processes even after the
            # parent died and they were re-parented.
            start_new_session=True,
            env=_clean_env(self.extra_env),
            cwd=self.cwd(),
        )
        me = _read_proc(self.proc.pid)
        if me is not None:
            self._tracked.add(me)
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self._after_exit()
                self._close_log()
                raise ServerStartError(
                    f"{self.name} exited with {code} before opening port {self.port}\n"
                    f"cmd: {' '.join(self.cmd)}\n{self.describe()}\n{self.logs()}"
                )
            # "Open" must mean *our* listener: if another process grabbed the
            # port after free_port(), keep waiting; our server then fails
            # with "address in use" and start() retries on a new port.
            if port_is_open(self.port) and self._owns_listener():
                self._settle(deadline)
                self.startup_seconds = time.monotonic() - t0
                self._track_session()
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"{self.name} did not open port {self.port} within {timeout}s\n"
                    f"cmd: {' '.join(self.cmd)}\n{self.describe()}\n{self.logs()}"
                )
            time.sleep(0.05)

    def _owns_listener(self) -> bool:
        """True if a process of our session holds the LISTEN socket on our
        port (checked via /proc/net/tcp inodes and /proc/<pid>/fd)."""
        inodes = _listen_inodes(self.port)
        if not inodes:
            return False
        self._track_session()
        for p in self._tracked:
            if _alive(p) and _pid_has_socket(p.pid, inodes):
                return True
        return False

    def _track_session(self) -> None:
        """Remember every process of our session seen so far."""
        if self.proc is None:
            return
        for p in _all_procs():
            if p.session == self.proc.pid and p.state not in ("Z", "X"):
                self._tracked.add(p)
                if p.pid != self.proc.pid:
                    self.children_seen.add(p.pid)

    def session_processes(self) -> List[int]:
        """Live processes started by this server (its session, plus any
        process tracked earlier that is still the same process)."""
        if self.proc is None:
            return []
        self._track_session()
        return sorted(p.pid for p in self._tracked if _alive(p))

    def stop(self, timeout: float = 10.0, children_grace: Optional[float] = None) -> None:
        """Stop the server and everything it started.  Idempotent.

        1. ``stop_signal`` to our pid (never to anything found by name);
        2. if the parent is still waiting for children after
           ``children_grace`` seconds (default ``self.children_grace``),
           SIGKILL those children — e.g. Apache embedded-mode children
           that deadlock in Py_EndInterpreter, which Apache itself only
           SIGKILLs after ~10 s; their pids go to ``force_killed``;
        3. if the parent still lives at ``timeout``, SIGKILL our process
           group/session;
        4. wait for (then SIGKILL) any straggler of our session, so no
           mod_wsgi daemon or worker survives.
        ``stop_seconds`` records how long it took.
        """
        proc = self.proc
        if proc is None:
            self._close_log()
            return
        grace = self.children_grace if children_grace is None else children_grace
        t0 = time.monotonic()
        self._track_session()
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, self.stop_signal)
                try:
                    proc.wait(min(grace, timeout))
                except subprocess.TimeoutExpired:
                    self._kill_children()
                    try:
                        proc.wait(max(0.0, timeout - grace))
                    except subprocess.TimeoutExpired:
                        self._kill_all()
                        proc.wait(5)
            self._after_exit()
            self._reap_survivors(timeout=max(2.0, timeout / 2))
        finally:
            self._close_log()
            if self.stop_seconds is None:
                self.stop_seconds = time.monotonic() - t0

    def _kill_children(self) -> None:
        self._track_session()
        for p in list(self._tracked):
            if self.proc is not None and p.pid != self.proc.pid and _alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
                    self.force_killed.append(p.pid)

    def _kill_all(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        for p in list(self._tracked):
            if _alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)

    def _after_exit(self) -> None:
        # Hook: the parent is gone; subclasses may clean files.
        pass

    def _reap_survivors(self, timeout: float) -> None:
        # Children normally exit with the parent; give them a moment, then
        # SIGKILL what is still ours (same pid *and* start time).
        self._track_session()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(_alive(p) for p in self._tracked):
                return
            time.sleep(0.05)
        for p in self._tracked:
            if _alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
        time.sleep(0.1)

    def _close_log(self) -> None:
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def __enter__(self: _S) -> _S:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pid={self.pid} port={self.port} root={self.root}>"


# -- Apache -----------------------------------------------------------------

#: Modules loaded besides the MPM and mod_wsgi.  authz_core: ``Require
#: all granted`` in <Directory>.  mod_unixd (User/Group), mod_log_config
#: and mod_so are compiled into Debian's apache2; mod_alias is not needed
#: (WSGIScriptAlias is mod_wsgi's own).
APACHE_DEFAULT_MODULES: Tuple[str, ...] = ("authz_core",)


class ApacheServer(BaseServer):
    """A private Apache httpd running Debian's mod_wsgi.

    ``config`` is the WSGI part (WSGIDaemonProcess, WSGIScriptAlias,
    WSGIPythonHome, <Directory> blocks, ...) appended to a minimal
    generated httpd.conf.  Tokens ``{port}``, ``{root}``, ``{run}``,
    ``{logs}`` plus any ``substitutions`` keys are replaced literally;
    other braces (``%{GLOBAL}``) are left alone.

    The parent runs as root (to bind and to set up mod_wsgi daemon
    sockets) and its children/daemons switch to ``user``/``group``
    (www-data) — as on a real Debian server.  Files it serves must be
    world-readable (use ``fresh_shared_dir``).
    """

    name = "apache"
    # SIGTERM = immediate stop of httpd (children and mod_wsgi daemons are
    # killed by the parent).  Graceful (SIGWINCH) would wait for requests.
    stop_signal = signal.SIGTERM
    # A healthy httpd is down in ~50 ms; a child stuck in Python
    # finalisation is only SIGKILLed by httpd after ~10 s (AH00045/AH00046).
    children_grace = 2.0

    def __init__(
        self,
        config: str = "",
        *,
        port: Optional[int] = None,
        root: Optional[Path] = None,
        user: Optional[str] = "www-data",
        group: Optional[str] = "www-data",
        mpm: str = "event",
        modules: Sequence[str] = APACHE_DEFAULT_MODULES,
        extra_modules: Sequence[str] = (),
        log_level: str = "info",
        substitutions: Optional[Mapping[str, Any]] = None,
        apache_bin: Optional[str] = None,
        mod_wsgi: Union[str, Path] = MOD_WSGI_SO,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(port=port, root=root, env=env)
        self.snippet = config
        if os.geteuid() != 0:
            user = group = None  # only root can switch users
        self.user, self.group = user, group
        if mpm not in ("event", "worker", "prefork"):
            raise ValueError(f"unknown mpm {mpm!r}")
        self.mpm = mpm
        self.modules = [f"mpm_{mpm}"] + [m for m in list(modules) + list(extra_modules)
                                         if not m.startswith("mpm_")]
        self.modules = list(dict.fromkeys(self.modules))  # de-duplicate, keep order
        self.log_level = log_level
        self.substitutions = dict(substitutions or {})
        self.apache_bin = apache_bin or apache_binary() or "apache2"
        self.mod_wsgi = Path(mod_wsgi)
        self.run_dir = self.root / "run"
        self.logs_dir = self.root / "logs"
        self.conf_path = self.root / "httpd.conf"
        self.error_log_path = self.logs_dir / "error.log"
        self.access_log_path = self.logs_dir / "access.log"
        self.config_text = ""

    def render(self) -> str:
        """Generate httpd.conf text for the current port (also written)."""
        subs = {"port": self.port, "root": self.root, "run": self.run_dir, "logs": self.logs_dir}
        subs.update(self.substitutions)
        loads = []
        for mod in self.modules:
            loads.append(f"LoadModule {mod}_module {APACHE_MODULES_DIR}/mod_{mod}.so")
        loads.append(f"LoadModule wsgi_module {self.mod_wsgi}")
        userlines = ""
        if self.user:
            userlines += f"User {self.user}\n"
        if self.group:
            userlines += f"Group {self.group}\n"
        head = f"""\
# generated by tests/servers.py for a private test httpd
ServerRoot "{self.root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile "{self.run_dir}/httpd.pid"
# mutexes, scoreboard-ish runtime files: keep out of /var/run/apache2
DefaultRuntimeDir "{self.run_dir}"
ErrorLog "{self.error_log_path}"
LogLevel {self.log_level}
LogFormat "%h %t \\"%r\\" %>s %b pid=%P" vp
CustomLog "{self.access_log_path}" vp
{userlines}{chr(10).join(loads)}
# Few processes: plenty for tests, and fast to start/stop on 2 cores.
<IfModule mpm_prefork_module>
    StartServers 1
    MinSpareServers 1
    MaxSpareServers 2
    ServerLimit 4
    MaxRequestWorkers 4
</IfModule>
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild 16
    MaxRequestWorkers 16
    MinSpareThreads 1
    MaxSpareThreads 16
</IfModule>
KeepAlive Off
Timeout 30
# mod_wsgi daemon sockets must live somewhere writable and reachable.
WSGISocketPrefix "{self.run_dir}/wsgi"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# An empty document root of our own (not /var/www/html): unknown URLs 404.
DocumentRoot "{self.root}/htdocs"
<Directory "{self.root}/htdocs">
    Require all granted
</Directory>
"""
        return head + "\n# --- test snippet ---\n" + _render(self.snippet, subs) + "\n"

    def _prepare(self) -> List[str]:
        for d in (self.run_dir, self.logs_dir, self.root / "htdocs"):
            d.mkdir(exist_ok=True)
            os.chmod(d, 0o755)
        self.config_text = self.render()
        self.conf_path.write_text(self.config_text)
        # -DFOREGROUND: no daemonizing, so the Popen pid *is* the parent
        # httpd.  Debian's /etc/apache2/envvars is not needed because our
        # config uses no ${APACHE_*} variables.
        return [self.apache_bin, "-d", str(self.root), "-f", str(self.conf_path), "-DFOREGROUND"]

    def configtest(self) -> Tuple[bool, str]:
        """Run ``apache2 -t`` on the rendered config: (ok, output)."""
        for d in (self.run_dir, self.logs_dir, self.root / "htdocs"):
            d.mkdir(exist_ok=True)
        self.config_text = self.render()
        self.conf_path.write_text(self.config_text)
        res = _run_logged([self.apache_bin, "-d", str(self.root), "-f", str(self.conf_path), "-t"],
                          env=_clean_env(self.extra_env))
        return res.returncode == 0, res.stdout

    def error_log(self) -> str:
        try:
            return self.error_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def access_log(self) -> str:
        try:
            return self.access_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self) -> str:
        return f"--- {self.conf_path} ---\n{self.config_text}"


# -- uWSGI ------------------------------------------------------------------

OptionValue = Union[str, int, bool, Path, Sequence[Union[str, int, Path]]]


class UwsgiServer(BaseServer):
    """Debian's uWSGI with the python3 plugin, as an HTTP server.

    ``options`` become ini lines (a list value repeats the key, e.g.
    ``{"mount": ["/a=/x/a.wsgi", "/b=/x/b.wsgi"], "manage-script-name":
    True}``; ``True`` -> ``true``; ``None`` drops a default).  ``ini_text``
    is appended verbatim after rendering ``{port}``/``{root}`` tokens.

    Defaults: ``plugin = python3``, ``http-socket = 127.0.0.1:<port>``,
    ``master``, one worker, pidfile in ``run/``, ``uid``/``gid`` www-data
    when root, ``die-on-term``.  stdout/stderr are the log.
    """

    name = "uwsgi"
    # uWSGI 2.0 master semantics: SIGTERM = *reload* (unless die-on-term),
    # SIGHUP = graceful reload, SIGINT/SIGQUIT = shut down. SIGINT stops it
    # whatever die-on-term says.
    stop_signal = signal.SIGINT
    children_grace = 3.0

    def __init__(
        self,
        options: Optional[Mapping[str, Optional[OptionValue]]] = None,
        *,
        ini_text: str = "",
        port: Optional[int] = None,
        root: Optional[Path] = None,
        user: Optional[str] = "www-data",
        group: Optional[str] = "www-data",
        uwsgi_bin: str = UWSGI_BIN,
        plugin: str = "python3",
        substitutions: Optional[Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(port=port, root=root, env=env)
        self.options = dict(options or {})
        self.ini_text = ini_text
        if os.geteuid() != 0:
            user = group = None
        self.user, self.group = user, group
        self.uwsgi_bin = uwsgi_bin
        self.plugin = plugin
        self.substitutions = dict(substitutions or {})
        self.run_dir = self.root / "run"
        self.ini_path = self.root / "uwsgi.ini"
        self.config_text = ""

    def render(self) -> str:
        subs = {"port": self.port, "root": self.root, "run": self.run_dir}
        subs.update(self.substitutions)
        opts: Dict[str, Optional[OptionValue]] = {
            # plugin first: later python options need it loaded
            "plugin": self.plugin,
            "http-socket": f"127.0.0.1:{self.port}",
            "master": True,
            "processes": 1,
            "pidfile": str(self.run_dir / "uwsgi.pid"),
            "die-on-term": True,
            # no "vacuum": it unlinks the pidfile *after* dropping to
            # www-data and only logs "unlink(): Permission denied".
        }
        if self.user:
            opts["uid"] = self.user
        if self.group:
            opts["gid"] = self.group
        opts.update(self.options)
        lines = ["[uwsgi]"]
        for key, value in opts.items():
            if value is None or value is False:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                v = "true" if v is True else v
                lines.append(f"{key} = {_render(str(v), subs)}")
        if self.ini_text:
            lines.append(_render(self.ini_text, subs))
        return "\n".join(lines) + "\n"

    def _prepare(self) -> List[str]:
        self.run_dir.mkdir(exist_ok=True)
        os.chmod(self.run_dir, 0o755)
        self.config_text = self.render()
        self.ini_path.write_text(self.config_text)
        return [self.uwsgi_bin, "--ini", str(self.ini_path)]

    def _expected_workers(self) -> int:
        for key in ("processes", "workers", "p"):
            if key in self.options:
                try:
                    return int(str(self.options[key]))
                except ValueError:
                    return 1
        return 1

    def _settle(self, deadline: float) -> None:
        # The master opens the socket before forking workers, and a worker
        # that receives the master's shutdown SIGINT before it installed
        # its own handlers ignores it: the master then waits for it ("worker
        # 2 buried after 4 seconds").  A fresh worker starts with SIGHUP
        # ignored and catches it once initialised, so wait (bounded) for
        # that in every expected worker.  Also makes "started" mean "all
        # workers can serve".
        want = self._expected_workers()
        limit = min(deadline, time.monotonic() + 5.0)
        while time.monotonic() < limit and self.proc is not None and self.proc.poll() is None:
            workers = [p for p in self.session_processes() if p != self.pid]
            if len(workers) >= want and not any(_signal_ignored(p, signal.SIGHUP) for p in workers):
                return
            time.sleep(0.02)

    def describe(self) -> str:
        return f"--- {self.ini_path} ---\n{self.config_text}"


# -- gunicorn ---------------------------------------------------------------


class GunicornServer(BaseServer):
    """gunicorn from ``venv`` serving ``app`` ("module:callable").

    gunicorn is installed into the venv from the wheelhouse if missing
    (``install=False`` to forbid).  Runs ``<venv>/bin/gunicorn`` so that
    ``sys.executable`` is the venv's python exactly as in production.
    SIGTERM is gunicorn's graceful stop: the arbiter waits (up to
    ``--graceful-timeout``, set to 5 s here) for workers to exit.
    """

    name = "gunicorn"
    stop_signal = signal.SIGTERM
    children_grace = 7.0  # > --graceful-timeout 5: let requests finish

    def __init__(
        self,
        venv: Venv,
        app: str,
        *,
        workers: int = 1,
        extra_args: Sequence[str] = (),
        chdir: Optional[Union[str, Path]] = None,
        port: Optional[int] = None,
        root: Optional[Path] = None,
        install: bool = True,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        # gunicorn runs as the test user (root): give it a private HOME so
        # nothing it or the app writes to "~" lands in the real home.
        env = dict(env or {})
        super().__init__(port=port, root=root, env=env)
        self.extra_env.setdefault("HOME", str(self.root))
        self.venv = venv
        self.app = app
        self.workers = workers
        self.extra_args = list(extra_args)
        self.chdir = Path(chdir) if chdir is not None else None
        self.install = install
        self.pidfile = self.root / "gunicorn.pid"

    def _prepare(self) -> List[str]:
        script = self.venv.bin / "gunicorn"
        if not script.exists():
            if not self.install:
                raise ServerStartError(f"gunicorn is not installed in {self.venv.root}")
            self.venv.pip_install("gunicorn")
        cmd = [
            str(script),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--pid", str(self.pidfile),
            "--graceful-timeout", "5",
            "--error-logfile", "-",
        ]
        if self._has_control_socket():
            # Newer gunicorn opens ~/.gunicorn/gunicorn.ctl by default: a
            # side effect in root's home and a clash between parallel tests.
            cmd.append("--no-control-socket")
        if self.chdir is not None:
            cmd += ["--chdir", str(self.chdir)]
        return cmd + self.extra_args + [self.app]

    def _has_control_socket(self) -> bool:
        res = self.venv.run("-c", "import gunicorn.config as c; print(c.__file__)", check=False)
        if res.returncode != 0:
            return False
        try:
            return "no-control-socket" in Path(res.stdout.strip()).read_text()
        except OSError:
            return False

    def cwd(self) -> Optional[str]:
        return str(self.chdir) if self.chdir is not None else str(self.root)

    def _settle(self, deadline: float) -> None:
        # The arbiter binds before forking workers: wait (bounded) until
        # they exist, so "started" means every worker can be asked.
        self.wait_for_workers(timeout=max(0.0, min(5.0, deadline - time.monotonic())))

    def wait_for_workers(self, count: Optional[int] = None, timeout: float = 30.0) -> List[int]:
        """Wait until ``count`` (default: ``workers``) worker processes run;
        return their pids.  The port opens before the arbiter forks them."""
        want = self.workers if count is None else count
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self.session_processes() if p != self.pid]
            if len(found) >= want or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


# --------------------------------------------------------------------------
# today's stack: pyenv Pythons, mod_wsgi 6.x built by pip, mod_wsgi-express
# --------------------------------------------------------------------------

#: What ``pip install`` builds for the mod_wsgi 6 tests (the current line).
MOD_WSGI6_REQUIREMENT = "mod_wsgi>=6,<7"


def pyenv_root() -> Path:
    """``$PYENV_ROOT`` or ``~/.pyenv`` (where pyenv keeps its Pythons)."""
    return Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"))


def pyenv_python(minor: str) -> Optional[Path]:
    """The newest pyenv installation of Python ``minor`` ("3.13"), as the
    path of its ``bin/pythonX.Y``; None when pyenv has none."""
    found = []
    versions = pyenv_root() / "versions"
    for d in versions.glob(minor + ".*") if versions.is_dir() else ():
        rest = d.name[len(minor) + 1:]
        exe = d / "bin" / f"python{minor}"
        if rest.isdigit() and exe.is_file():
            found.append((int(rest), exe))
    return max(found)[1] if found else None


def _link_or_copy(src: str, dst: str) -> None:
    # Hard links are instant; a file others cannot read is copied (and made
    # readable) rather than chmod-ed through the link, which would change
    # the original installation's modes.
    st = os.stat(src)
    if st.st_mode & stat.S_IROTH:
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system, or links not allowed
            pass
    shutil.copy2(src, dst)
    os.chmod(dst, stat.S_IMODE(st.st_mode) | stat.S_IRGRP | stat.S_IROTH)


def _skip_in_copy(directory: str, names: List[str]) -> List[str]:
    # Its own test suite is a third of an installation, and base
    # site-packages holds whatever was pip-installed there by hand: neither
    # belongs to the interpreter the tests need.
    if os.path.basename(directory).startswith("python3.") and os.path.basename(os.path.dirname(directory)) == "lib":
        return [n for n in names if n in ("test", "idlelib", "tkinter", "turtledemo")]
    if os.path.basename(directory) == "site-packages":
        return list(names)
    return []


def readable_python(minor: str) -> Path:
    """A copy of pyenv's Python ``minor`` that www-data can read.

    pyenv installs under the invoking user's home; /root is 0700, so an
    Apache child or mod_wsgi daemon (www-data) given that installation
    cannot import even ``encodings``.  The copy (hard links where the file
    is world-readable) lives in ``shared_dir("pythons")``, is made once per
    machine and reused.  Its ``bin/python`` still maps libpython from the
    original (RUNPATH), which only root loads: the Apache parent, before it
    forks the children.  Returns the copy's ``bin/pythonX.Y``; skips (or
    fails under CI=true) when pyenv has no such Python.
    """
    src = pyenv_python(minor)
    if src is None:
        require(str(pyenv_root() / "versions" / (minor + ".*")))
        raise AssertionError("unreachable")
    install = src.parents[1]
    dest = shared_dir("pythons") / install.name
    with _file_lock(shared_dir("pythons") / ".lock"):
        if not (dest / _COMPLETE).exists():
            shutil.rmtree(dest, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=install.name + ".tmp-", dir=str(dest.parent)))
            os.rmdir(tmp)
            try:
                shutil.copytree(install, tmp, symlinks=True, ignore=_skip_in_copy,
                                copy_function=_link_or_copy)
                for dirpath, dirnames, _ in os.walk(tmp):
                    for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames]:
                        os.chmod(name, 0o755)
                (tmp / _COMPLETE).write_text("ok\n")
                os.rename(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return dest / "bin" / f"python{minor}"


@dataclass
class ModWsgi6:
    """mod_wsgi 6.x built by pip against one Python (see :func:`mod_wsgi6`)."""

    python: Path  # the readable base interpreter it was built against
    venv: Venv  # where pip installed it (holds mod_wsgi-express)
    so: Path  # the Apache module to LoadModule
    version: str
    build_seconds: float

    @property
    def express(self) -> Path:
        return self.venv.bin / "mod_wsgi-express"

    @property
    def minor(self) -> str:
        return self.python.name[len("python"):]


_MOD_WSGI6: Dict[str, ModWsgi6] = {}


def mod_wsgi6(minor: str) -> ModWsgi6:
    """Build (once per machine, cached in ``shared_dir("mod_wsgi6")``) the
    current mod_wsgi 6.x with ``pip install`` against the readable copy of
    pyenv's Python ``minor``; the result is reused by every later session.

    Needs apxs (``apache2-dev``) and the index.  A failed build skips the
    test, or fails it under CI=true.
    """
    if minor in _MOD_WSGI6:
        return _MOD_WSGI6[minor]
    import pytest

    require(apache_binary() or "apache2", "apxs")
    python = readable_python(minor)
    key = _digest([python.parents[1].name.encode(), MOD_WSGI6_REQUIREMENT.encode()])
    base = shared_dir("mod_wsgi6")
    root = base / f"{python.parents[1].name}-{key}"
    with _file_lock(base / ".lock"):
        if not (root / _COMPLETE).exists():
            shutil.rmtree(root, ignore_errors=True)
            t0 = time.monotonic()
            res = _run_logged([str(python), "-m", "venv", "--without-pip", str(root)], env=_clean_env())
            if res.returncode == 0:
                # The outer pip drives the build with the target's own
                # interpreter (``--python``), so setup.py sees its sysconfig.
                res = _run_logged([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"),
                                   "install", "--quiet", "--disable-pip-version-check",
                                   MOD_WSGI6_REQUIREMENT], env={**os.environ, "APXS": _which("apxs") or "apxs"})
            if res.returncode != 0:
                shutil.rmtree(root, ignore_errors=True)
                msg = f"pip install {MOD_WSGI6_REQUIREMENT} against {python} failed:\n{_tail(res.stdout)}"
                if in_ci():
                    pytest.fail(msg, pytrace=False)
                pytest.skip(msg)
            make_world_readable(root)
            (root / "build-seconds").write_text(f"{time.monotonic() - t0:.2f}\n")
            (root / _COMPLETE).write_text("ok\n")
    site = next((root / "lib").glob("python3.*/site-packages"))
    so = next((site / "mod_wsgi" / "server").glob("mod_wsgi-py*.so"))
    version = next(site.glob("mod_wsgi-*.dist-info")).name[len("mod_wsgi-"):-len(".dist-info")]
    built = ModWsgi6(python=python, venv=Venv(root=root, python=root / "bin" / "python", site_packages=site),
                     so=so, version=version,
                     build_seconds=float((root / "build-seconds").read_text()))
    _MOD_WSGI6[minor] = built
    return built


class ExpressServer(BaseServer):
    """``mod_wsgi-express start-server`` of a :class:`ModWsgi6` build.

    ``script`` is the WSGI file; ``args`` extra command-line options (e.g.
    ``["--application-type", "module"]``).  Runs as root with ``--user`` /
    ``--group`` www-data, like a packaged service would; the server root is
    our private dir, so nothing lands in /tmp/mod_wsgi-*.
    """

    name = "express"
    children_grace = 2.0

    def __init__(self, build: ModWsgi6, script: Union[str, Path], *, args: Sequence[str] = (),
                 port: Optional[int] = None, root: Optional[Path] = None,
                 env: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(port=port, root=root, env=env)
        self.build = build
        self.script = Path(script)
        self.args = list(args)
        self.server_root = self.root / "express"

    def _prepare(self) -> List[str]:
        cmd = [str(self.build.express), "start-server", str(self.script),
               "--host", "127.0.0.1", "--port", str(self.port),
               "--server-root", str(self.server_root), "--log-level", "info"]
        if os.geteuid() == 0:
            cmd += ["--user", "www-data", "--group", "www-data"]
        return cmd + self.args

    def error_log(self) -> str:
        try:
            return (self.server_root / "error_log").read_text(errors="replace")
        except FileNotFoundError:
            return ""
