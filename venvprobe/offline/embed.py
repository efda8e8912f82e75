"""Which Python installation will embed a venv: from ``--python``, mod_wsgi.so or a uWSGI plugin.

A server module links one libpython (see :mod:`venvprobe.offline.elf`).  To
compare it with a venv's ``pyvenv.cfg`` and to predict start-up, we need the
installation that owns that library: its prefix, full version and an
interpreter binary built the same way (same compiled-in prefix, same
``getpath``).  For Debian's mod_wsgi that is ``/usr/bin/python3.11`` for
``/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0``.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from venvprobe.errors import VenvprobeError
from venvprobe.offline.elf import ElfError, LinkedPython, linked_python

DEFAULT_MOD_WSGI = "/usr/lib/apache2/modules/mod_wsgi.so"
DEFAULT_UWSGI_PLUGIN_DIR = "/usr/lib/uwsgi/plugins"
DEFAULT_UWSGI_BINARY = "/usr/bin/uwsgi"

# Runs in the candidate interpreter with -I: nothing from our environment.
_DESCRIBE = r"""
import json, os, platform, sys, sysconfig
v = sysconfig.get_config_var
print(json.dumps({
    "version": platform.python_version(),
    "executable": sys.executable,
    "base_executable": getattr(sys, "_base_executable", sys.executable),
    "prefix": sys.prefix, "base_prefix": sys.base_prefix, "exec_prefix": sys.base_exec_prefix,
    "libdir": v("LIBDIR"), "instsoname": v("INSTSONAME"), "ldlibrary": v("LDLIBRARY"),
    "enable_shared": bool(v("Py_ENABLE_SHARED")), "compiled_prefix": v("prefix"),
    "multiarch": getattr(sys.implementation, "_multiarch", None),
}))
"""


class EmbedError(VenvprobeError):
    """The embedding interpreter could not be determined."""


@dataclass
class Embedder:
    """The Python installation a server embeds (or a chosen interpreter)."""

    source: str  # how it was found, for humans
    version: Optional[str] = None  # full version, "3.11.2"
    executable: Optional[str] = None  # a binary of that installation, to run predictions with
    prefix: Optional[str] = None  # installation prefix (sys.base_prefix), "/usr"
    libpython: Optional[str] = None  # the shared library file, when embedding
    linked: Optional[LinkedPython] = None
    notes: List[str] = field(default_factory=list)

    @property
    def major_minor(self) -> Optional[str]:
        if self.version:
            return ".".join(self.version.split(".")[:2])
        if self.linked and self.linked.version:
            return self.linked.version
        return None

    def bin_dirs(self) -> List[str]:
        """Directories a pyvenv.cfg ``home`` of this installation may name."""
        dirs = []
        if self.prefix:
            dirs.append(os.path.join(self.prefix, "bin"))
        if self.executable:
            dirs.append(os.path.dirname(self.executable))
            dirs.append(os.path.dirname(os.path.realpath(self.executable)))
        return dirs

    def owns_home(self, home: str) -> bool:
        """Is pyvenv.cfg ``home`` (a bin directory) part of this installation?"""
        home_n = os.path.normpath(home)
        cands = {os.path.normpath(d) for d in self.bin_dirs()}
        if home_n in cands or (self.prefix and home_n == os.path.normpath(self.prefix)):
            return True
        real = os.path.realpath(home_n)
        if real in {os.path.realpath(c) for c in cands}:
            return True
        # Merged /usr: /bin and /usr/bin are one installation.
        strip = lambda p: p[4:] if p.startswith("/usr/") else p  # noqa: E731
        return strip(home_n) in {strip(c) for c in cands}

    def as_dict(self) -> dict:
        return {"source": self.source, "version": self.version, "executable": self.executable,
                "prefix": self.prefix, "libpython": self.libpython,
                "linked": self.linked.as_dict() if self.linked else None, "notes": list(self.notes)}


def describe_interpreter(exe: str, timeout: float = 20.0) -> Dict[str, object]:
    """Run *exe* (isolated) and return its version, prefixes and libpython facts."""
    try:
        proc = subprocess.run([exe, "-I", "-c", _DESCRIBE], capture_output=True, text=True, timeout=timeout,
                              cwd="/", env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbedError(f"cannot run {exe}: {getattr(exc, 'strerror', None) or exc}") from None
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        raise EmbedError(f"{exe} exited with status {proc.returncode}: {tail}")
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise EmbedError(f"{exe} is not a Python 3 interpreter this tool understands") from None


def from_python(python: str) -> Embedder:
    """The installation of interpreter *python* (a venv's python means its base)."""
    exe = os.path.expanduser(python)
    if os.path.isdir(exe):
        for cand in ("bin/python3", "bin/python"):
            if os.path.exists(os.path.join(exe, cand)):
                exe = os.path.join(exe, cand)
                break
        else:
            raise EmbedError(f"{python!r} is a directory without bin/python")
    if not os.path.exists(exe):
        raise EmbedError(f"no interpreter at {python!r}")
    facts = describe_interpreter(exe)
    base_exe = str(facts.get("base_executable") or exe)
    emb = Embedder(source=f"--python {python}", version=str(facts["version"]),
                   executable=base_exe if os.path.exists(base_exe) else exe,
                   prefix=str(facts["base_prefix"]))
    if facts.get("prefix") != facts.get("base_prefix"):
        emb.notes.append(f"{python} is a venv interpreter; its base installation is {facts['base_prefix']}")
    if facts.get("enable_shared") and facts.get("libdir") and facts.get("instsoname"):
        lib = os.path.join(str(facts["libdir"]), str(facts["instsoname"]))
        if os.path.exists(lib):
            emb.libpython = lib
    return emb


def _candidate_interpreters(lib: str, version: str) -> List[str]:
    libdir = os.path.dirname(os.path.realpath(lib))
    names = [f"python{version}", "python3"]
    roots = [os.path.dirname(libdir), os.path.dirname(os.path.dirname(libdir)), "/usr", "/usr/local"]
    out = []
    for root in roots:
        for name in names:
            cand = os.path.join(root, "bin", name)
            if cand not in out and os.path.isfile(cand) and os.access(cand, os.X_OK):
                out.append(cand)
    return out


def from_linked(linked: LinkedPython, what: str) -> Embedder:
    """The installation owning the libpython that *linked* names."""
    emb = Embedder(source=f"{what} links {linked.soname or 'no libpython'}"
                   + (f" ({linked.path})" if linked.path else ""), linked=linked, libpython=linked.path)
    if linked.note:
        emb.notes.append(linked.note)
    if not linked.soname:
        raise EmbedError(f"{what} does not link a libpython: {linked.note}")
    if not linked.path:
        emb.notes.append(f"{linked.soname} was not found on this machine: the module cannot even load")
        return emb
    real_lib = os.path.realpath(linked.path)
    fallback = None
    for cand in _candidate_interpreters(linked.path, linked.version or ""):
        try:
            facts = describe_interpreter(cand)
        except EmbedError:
            continue
        if not str(facts.get("version", "")).startswith((linked.version or "?") + "."):
            continue
        lib = os.path.join(str(facts.get("libdir") or ""), str(facts.get("instsoname") or ""))
        if facts.get("libdir") and os.path.realpath(lib) == real_lib:
            emb.version, emb.executable, emb.prefix = str(facts["version"]), cand, str(facts["base_prefix"])
            return emb
        if fallback is None and os.path.realpath(str(facts.get("libdir") or "")) == os.path.dirname(real_lib):
            fallback = (cand, facts)
    if fallback:
        cand, facts = fallback
        emb.version, emb.executable, emb.prefix = str(facts["version"]), cand, str(facts["base_prefix"])
        emb.notes.append(f"{cand} was matched by its library directory, not by its shared library name")
        return emb
    emb.notes.append(f"no interpreter of the installation owning {linked.path} was found; "
                     "start-up cannot be predicted (give --python)")
    return emb


def from_mod_wsgi(so: str = DEFAULT_MOD_WSGI) -> Embedder:
    """The installation embedded by the mod_wsgi module *so*."""
    if not os.path.exists(so):
        raise EmbedError(f"no mod_wsgi module at {so} (give --mod-wsgi SO or --python X)")
    try:
        linked = linked_python(so)
    except ElfError as exc:
        raise EmbedError(str(exc)) from None
    return from_linked(linked, so)


def uwsgi_plugin_path(name: str, plugins_dir: str = DEFAULT_UWSGI_PLUGIN_DIR) -> str:
    """File of uWSGI plugin *name* ("python3" -> .../python3_plugin.so)."""
    if "/" in name or name.endswith(".so"):
        return name
    return os.path.join(plugins_dir, f"{name}_plugin.so")


def from_uwsgi(plugin: Optional[str] = None, binary: str = DEFAULT_UWSGI_BINARY,
               plugins_dir: str = DEFAULT_UWSGI_PLUGIN_DIR) -> Embedder:
    """The installation embedded by uWSGI: its python plugin, else the binary itself."""
    candidates = []
    if plugin:
        candidates.append(uwsgi_plugin_path(plugin, plugins_dir))
    candidates.append(binary)
    errors = []
    for obj in candidates:
        if not os.path.exists(obj):
            errors.append(f"{obj} does not exist")
            continue
        try:
            linked = linked_python(obj)
        except ElfError as exc:
            errors.append(str(exc))
            continue
        if linked.soname:
            return from_linked(linked, obj)
        errors.append(linked.note)
    raise EmbedError("cannot tell which Python uWSGI embeds: " + "; ".join(errors))


__all__ = ["DEFAULT_MOD_WSGI", "DEFAULT_UWSGI_BINARY", "DEFAULT_UWSGI_PLUGIN_DIR", "EmbedError", "Embedder",
           "describe_interpreter", "from_linked", "from_mod_wsgi", "from_python", "from_uwsgi", "uwsgi_plugin_path"]
