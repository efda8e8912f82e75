"""Helpers for the probe's real-server tests (deploy examples, security) and
for ``benchmarks/load_probe.py``.

Small wrappers around ``tests/servers.py`` (which is the harness; nothing
here replaces it):

* :func:`probe_house` — a wheelhouse = the harness's wheelhouse + Django
  (for the django-middleware example); :func:`repo_wheel_problem` says
  whether the repo's wheel really contains the probe.
* :func:`copy_example` — copy a ``deploy_examples/<name>`` folder into a
  private root and replace ``/srv/example`` with that root.
* :func:`uwsgi_ini_options` — turn an example ``uwsgi.ini`` into
  ``UwsgiServer`` options (every line kept, repeated keys kept).
* :func:`write_dist` / :func:`write_metadata_only_dists` — tiny real
  distributions (module + ``.dist-info`` with METADATA/RECORD/INSTALLER).
* :class:`NetnsPair` / :func:`in_netns` — two network namespaces joined by a
  veth pair, for real non-loopback clients (no address is added to the
  host's own namespace).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import servers

REPO = servers.REPO_ROOT
EXAMPLES = REPO / "deploy_examples"
EXAMPLE_ROOT = "/srv/example"

#: Extra wheels some tests need on top of the harness's wheelhouse.
EXTRA_REQUIREMENTS: Tuple[str, ...] = ("django",)

#: What a probe wheel must contain to serve anything at all.
PROBE_FILES = ("venvprobe/probe/core.py", "venvprobe/probe/flask_app.py", "venvprobe/middleware.py",
               "venvprobe/wsgi.py", "venvprobe/commands/serve.py")

_HOUSE: Optional[Path] = None
_WHEEL_PROBLEM: Optional[str] = None


# --------------------------------------------------------------------------
# wheels


def _missing_from_wheel(wheel: Path) -> List[str]:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    return [f for f in PROBE_FILES if f not in names]


def repo_wheel_problem() -> Optional[str]:
    """Why the harness's venvprobe wheel cannot serve the probe, or None.

    (pyproject.toml once said ``packages = ["venvprobe"]``, which left out
    the sub-packages ``venvprobe.probe`` and ``venvprobe.commands``: ``pip
    install venvprobe`` gave no probe.  The servers then fail to import it;
    this names the cause.)
    """
    probe_house()
    return _WHEEL_PROBLEM


def _extra_wheels() -> Path:
    """Django & co, built once and cached across sessions (pip's configured index)."""
    key = hashlib.sha256(("%d.%d|" % sys.version_info[:2] + "|".join(EXTRA_REQUIREMENTS)).encode()).hexdigest()[:12]
    base = servers.shared_dir("wheels")
    dest = base / f"probe-extra-{key}"
    with servers._file_lock(base / ".probe-extra.lock"):
        if not (dest / ".complete").exists():
            shutil.rmtree(dest, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=str(base)))
            try:
                res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(tmp),
                                      *EXTRA_REQUIREMENTS], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
                if res.returncode != 0:
                    raise RuntimeError(f"pip wheel {EXTRA_REQUIREMENTS} failed:\n{res.stdout}")
                (tmp / ".complete").write_text("ok\n")
                servers.make_world_readable(tmp)
                os.rename(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return dest


def probe_house() -> Path:
    """The harness's wheelhouse + Django (hard links; one directory per process).

    Memoised per process, like the harness's own wheelhouse.
    """
    global _HOUSE, _WHEEL_PROBLEM
    if _HOUSE is not None:
        return _HOUSE
    house = servers.wheelhouse()
    wheel = servers.repo_wheel(house)
    if wheel is None:
        raise RuntimeError("the venvprobe wheel did not build:\n"
                           + (house / servers.REPO_WHEEL_ERROR).read_text(errors="replace"))
    missing = _missing_from_wheel(wheel)
    extra = _extra_wheels()
    out = Path(tempfile.mkdtemp(prefix="probe-house-", dir=str(servers.shared_dir("wheels"))))
    for whl in list(house.glob("*.whl")) + list(extra.glob("*.whl")):
        if not (out / whl.name).exists():
            os.link(whl, out / whl.name)
    if missing:
        _WHEEL_PROBLEM = (f"{wheel.name} built from the repo lacks {', '.join(missing)} "
                          "(check the package list in pyproject.toml)")
    servers.make_world_readable(out)
    _prune_probe_houses(keep=out)
    _HOUSE = out
    return out


def _prune_probe_houses(keep: Path, max_age: float = 3600.0) -> None:
    # One house per process; drop only old ones (another session may be installing from its own).
    now = time.time()
    for p in servers.shared_dir("wheels").glob("probe-house-*"):
        with contextlib.suppress(OSError):
            if p != keep and p.is_dir() and now - p.stat().st_mtime > max_age:
                shutil.rmtree(p, ignore_errors=True)


def make_probe_venv(path: Union[str, Path], packages: Sequence[str] = ("venvprobe",),
                    **kwargs) -> servers.Venv:
    """A venv from Debian's /usr/bin/python3 with ``packages`` from :func:`probe_house`."""
    return servers.make_venv(path, packages=list(packages), house=probe_house(), **kwargs)


# --------------------------------------------------------------------------
# deploy examples


def example_names() -> List[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def copy_example(name: str, root: Path, venv: Optional[Path] = None) -> Path:
    """Copy ``deploy_examples/<name>`` to ``<root>/app``; replace /srv/example.

    ``/srv/example/venv`` becomes ``venv`` when given (else ``<root>/venv``),
    every other ``/srv/example`` becomes ``root``.  Returns ``<root>/app``.
    """
    src = EXAMPLES / name
    app = root / "app"
    shutil.copytree(src, app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in app.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if EXAMPLE_ROOT not in text:
            continue
        if venv is not None:
            text = text.replace(EXAMPLE_ROOT + "/venv", str(venv))
        path.write_text(text.replace(EXAMPLE_ROOT, str(root)))
    servers.make_world_readable(root)
    return app


def uwsgi_ini_options(path: Path) -> Dict[str, Union[str, List[str]]]:
    """The ``[uwsgi]`` section of an ini file as UwsgiServer options.

    Repeated keys (``mount``) become lists, so every line of the example is
    applied exactly once; the harness's defaults (http-socket, pidfile,
    uid/gid...) fill in what the example leaves to the command line.
    """
    opts: Dict[str, Union[str, List[str]]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section != "uwsgi":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: cannot parse {raw!r}")
        key, value = key.strip(), value.strip()
        if key in opts:
            prev = opts[key]
            opts[key] = (prev if isinstance(prev, list) else [prev]) + [value]
        else:
            opts[key] = value
    return opts


# --------------------------------------------------------------------------
# tiny distributions


def _record_line(site: Path, rel: str) -> str:
    data = (site / rel).read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{rel},sha256={digest},{len(data)}"


def write_dist(site: Union[str, Path], name: str, version: str, module: Optional[str] = None,
               source: Optional[str] = None) -> Path:
    """Write a tiny installed distribution into ``site``: ``<module>.py`` plus
    ``<name>-<version>.dist-info`` (METADATA, INSTALLER, RECORD).  Returns
    the dist-info directory.  ``module=None`` defaults to the dist name;
    ``module=""`` writes metadata only (RECORD lists just the dist-info)."""
    site = Path(site)
    site.mkdir(parents=True, exist_ok=True)
    norm = re.sub(r"[-_.]+", "_", name)
    mod = norm if module is None else module
    files: List[str] = []
    if mod:
        (site / f"{mod}.py").write_text(source if source is not None else f'__version__ = "{version}"\n')
        files.append(f"{mod}.py")
    info = site / f"{norm}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                   f"Summary: venvprobe test distribution\n")
    (info / "INSTALLER").write_text("venvprobe-tests\n")
    files += [f"{info.name}/METADATA", f"{info.name}/INSTALLER"]
    lines = [_record_line(site, f) for f in files] + [f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    servers.make_world_readable(site)
    return info


def write_metadata_only_dists(site: Union[str, Path], count: int, prefix: str = "vpfiller") -> List[Path]:
    """``count`` metadata-only distributions (to reach ~100 distributions)."""
    return [write_dist(site, f"{prefix}-{i:03d}", "1.0", module="") for i in range(count)]


# --------------------------------------------------------------------------
# network namespaces (real non-loopback clients)

CLONE_NEWNET = 0x40000000
_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns(CLONE_NEWNET): " + os.strerror(err))


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the body (this thread only) in network namespace ``name``.

    Processes started inside (``subprocess.Popen``) inherit the namespace,
    so a server started here listens in it; sockets opened here stay in it.
    """
    with open("/proc/self/ns/net", "rb") as home:
        with open(f"/run/netns/{name}", "rb") as target:
            _setns(target.fileno())
        try:
            yield
        finally:
            _setns(home.fileno())


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin") or "ip"
    res = subprocess.run([ip, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {res.stdout.strip()}")
    return res


class NetnsPair:
    """Two namespaces we create (server side, client side) joined by a veth pair.

    ``server_addr``/``client_addr`` live only inside those namespaces, and
    each namespace also has its own loopback.  ``close()`` deletes both
    namespaces (which also removes the veth pair).
    """

    def __init__(self, tag: Optional[str] = None, server_addr: str = "10.200.0.1",
                 client_addr: str = "10.200.0.2", prefixlen: int = 24):
        # pid + random: unique among concurrent runs, and never the name of a
        # namespace left behind by a crashed earlier run.
        tag = tag or f"{os.getpid() % 100000}{os.urandom(2).hex()}"
        self.server_ns = f"vp-s{tag}"
        self.client_ns = f"vp-c{tag}"
        self.server_addr, self.client_addr, self.prefixlen = server_addr, client_addr, prefixlen
        self._veth = (f"vps{tag}"[:15], f"vpc{tag}"[:15])
        self.created: List[str] = []

    @staticmethod
    def available() -> Tuple[bool, str]:
        """(ok, reason): can we create namespaces here?"""
        if os.geteuid() != 0:
            return False, "network namespaces need root"
        if not (shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")):
            return False, "iproute2 (ip) is not installed"
        name = f"vp-t{os.getpid() % 100000}"
        res = _ip("netns", "add", name, check=False)
        if res.returncode != 0:
            return False, f"ip netns add is not permitted here: {res.stdout.strip()}"
        _ip("netns", "del", name, check=False)
        return True, ""

    def open(self) -> "NetnsPair":
        try:
            for ns in (self.server_ns, self.client_ns):
                _ip("netns", "add", ns)
                self.created.append(ns)
                _ip("-n", ns, "link", "set", "lo", "up")
            a, b = self._veth
            _ip("-n", self.server_ns, "link", "add", a, "type", "veth", "peer", "name", b, "netns", self.client_ns)
            _ip("-n", self.server_ns, "addr", "add", f"{self.server_addr}/{self.prefixlen}", "dev", a)
            _ip("-n", self.client_ns, "addr", "add", f"{self.client_addr}/{self.prefixlen}", "dev", b)
            _ip("-n", self.server_ns, "link", "set", a, "up")
            _ip("-n", self.client_ns, "link", "set", b, "up")
        except Exception:
            self.close()
            raise
        return self

    def close(self) -> None:
        for ns in reversed(self.created):
            _ip("netns", "del", ns, check=False)
        self.created = []

    def __enter__(self) -> "NetnsPair":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------
# the probe's own token (the default way in)


def server_identity(server: "servers.BaseServer") -> Tuple[int, str, str]:
    """(uid, HOME, TMPDIR) the server's app processes run with."""
    import pwd

    user = getattr(server, "user", None)
    uid = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    home = server.extra_env.get("HOME") or pwd.getpwuid(uid).pw_dir
    return uid, home, server.extra_env.get("TMPDIR") or "/tmp"


def own_token_paths(server: "servers.BaseServer") -> List[Path]:
    """Where a probe in *server* keeps its own token (venvprobe.probe.config.default_token_paths, for its user)."""
    uid, home, tmp = server_identity(server)
    return [Path(home) / ".config" / "venvprobe" / "probe.token", Path(tmp) / f"venvprobe-{uid}" / "probe.token"]


def own_token(server: "servers.BaseServer", wake_path: str = "/_venvprobe/identity") -> str:
    """The token the probe in *server* made for itself; one request first if it has none yet.

    Read from the file as the person on the host would (``sudo cat``); the
    tests of `venvprobe fetch` finding it on its own are in test_probe_security.
    """
    for attempt in range(2):
        for path in own_token_paths(server):
            if path.exists():
                token = path.read_text().strip()
                assert token, f"{path} is empty"
                return token
        server.get(wake_path, timeout=30)
    raise AssertionError(f"no probe token in {own_token_paths(server)}\n{server.logs()}")


def bearer_for(server: "servers.BaseServer", wake_path: str = "/_venvprobe/identity") -> Dict[str, str]:
    return {"Authorization": "Bearer " + own_token(server, wake_path)}
