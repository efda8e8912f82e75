"""``check-uwsgi``: read a uWSGI ini file and check its Python setup offline.

uWSGI 2.0's python plugin (``plugins/python/python_plugin.c``) handles
``home`` (aliases ``virtualenv``, ``venv``, ``pyhome``) like this: when
``<home>/pyvenv.cfg`` exists it only sets the program name to
``<home>/bin/python``; otherwise it also calls ``Py_SetPythonHome(home)``.
Apps are loaded in order (``module``/``wsgi-file`` first, then each
``mount``); app 0 runs in the main interpreter and every further app in its
own sub-interpreter (``pyloader.c``), unless ``single-interpreter`` is set.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from venvprobe.errors import VenvprobeError
from venvprobe.rules.registry import Findings

MAX_INI_BYTES = 16 << 20
MAX_INI_LINES = 200_000

HOME_KEYS = ("home", "virtualenv", "venv", "pyhome", "h")
PATH_KEYS = ("pythonpath", "python-path", "pp")
APP_KEYS = ("module", "wsgi", "w", "wsgi-file", "file")
_TRUE = ("true", "1", "yes", "on", "")


class IniError(VenvprobeError):
    """The ini file cannot be read or has no such section."""


@dataclass
class UwsgiApp:
    """One app uWSGI will load, in load order."""

    index: int
    mountpoint: str
    target: str  # module name or file
    is_file: bool

    @property
    def interpreter(self) -> str:
        return "main interpreter" if self.index == 0 else f"sub-interpreter #{self.index}"


@dataclass
class UwsgiConfig:
    """The options of one [section] of a uWSGI ini file (repeated keys keep every value)."""

    path: str
    section: str
    options: List[Tuple[str, str, int]] = field(default_factory=list)  # key, value, line

    def all(self, *keys: str) -> List[str]:
        index = self._index()
        if len(keys) == 1:
            return [v for _, v in index.get(keys[0], ())]
        hits = sorted(h for k in set(keys) for h in index.get(k, ()))
        return [v for _, v in hits]

    def _index(self) -> Dict[str, List[Tuple[int, str]]]:
        # key -> [(position, value)]: every property asks for its keys once per
        # app, so a linear scan each time made 50,000 mounts quadratic.
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] != len(self.options):
            index: Dict[str, List[Tuple[int, str]]] = {}
            for pos, (k, v, _) in enumerate(self.options):
                index.setdefault(k, []).append((pos, v))
            cached = (len(self.options), index)
            self.__dict__["_index_cache"] = cached
        return cached[1]

    def last(self, *keys: str) -> Optional[str]:
        values = self.all(*keys)
        return values[-1] if values else None

    def line_of(self, *keys: str) -> Optional[int]:
        index = self._index()
        last = max((index[k][-1][0] for k in keys if k in index), default=None)
        return None if last is None else self.options[last][2]

    def flag(self, *keys: str) -> bool:
        value = self.last(*keys)
        return value is not None and value.strip().lower() in _TRUE

    @property
    def home(self) -> Optional[str]:
        return self.last(*HOME_KEYS)

    @property
    def pythonpath(self) -> List[str]:
        return self.all(*PATH_KEYS)

    @property
    def plugins(self) -> List[str]:
        out: List[str] = []
        for value in self.all("plugin", "plugins"):
            out += [p.strip() for p in value.split(",") if p.strip()]
        return out

    @property
    def python_plugin(self) -> Optional[str]:
        return next((p for p in self.plugins if re.match(r"^(python|python\d+|python3\d+|pypy)", os.path.basename(p))),
                    None)

    @property
    def single_interpreter(self) -> bool:
        return self.flag("single-interpreter", "i")

    @property
    def env(self) -> Dict[str, str]:
        out = {}
        for value in self.all("env"):
            k, sep, v = value.partition("=")
            if sep:
                out[k.strip()] = v
        return out

    def apps(self) -> List[UwsgiApp]:
        """Apps in uWSGI's load order: module/wsgi, wsgi-file, then mounts."""
        out: List[UwsgiApp] = []
        for key in ("module", "wsgi", "w"):
            for v in self.all(key):
                out.append(UwsgiApp(len(out), "", v, False))
        for key in ("wsgi-file", "file"):
            for v in self.all(key):
                out.append(UwsgiApp(len(out), "", v, True))
        for v in self.all("mount"):
            mp, sep, target = v.partition("=")
            if sep:
                out.append(UwsgiApp(len(out), mp.strip(), target.strip(),
                                    target.strip().endswith((".py", ".wsgi")) or "/" in target))
        return out


def _magic(value: str, path: str) -> str:
    # The magic variables of uWSGI that matter for paths (%d dir with slash, %p, %n, %s, %c).
    d = os.path.dirname(os.path.abspath(path))
    subs = {"d": d + "/", "p": os.path.abspath(path), "s": os.path.basename(path),
            "n": os.path.splitext(os.path.basename(path))[0], "c": os.path.basename(d), "%": "%"}
    return re.sub(r"%([dpsnc%])", lambda m: subs[m.group(1)], value)


def load(path: str, section: str = "uwsgi") -> UwsgiConfig:
    """Parse the [section] of the ini file at *path* (keys may repeat; later wins for single values)."""
    from venvprobe.safeio import read_config

    data = read_config(path, MAX_INI_BYTES, IniError)
    lines = data.decode("utf-8", "replace").split("\n")  # LF only, as uWSGI: not U+2028, \x85...
    if len(lines) > MAX_INI_LINES:
        raise IniError(f"{path} has more than {MAX_INI_LINES:,} lines")
    cfg = UwsgiConfig(os.path.abspath(path), section)
    current = None
    found = False
    placeholders: Dict[str, str] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            current = m.group(1).strip()
            found = found or current == section
            continue
        if current != section:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, value = line, "true"
        key, value = key.strip().lower(), value.strip()
        value = re.sub(r"%\(([\w-]+)\)", lambda mm: placeholders.get(mm.group(1), mm.group(0)), value)
        value = _magic(value, path)
        placeholders[key] = value
        cfg.options.append((key, value, number))
    if not found:
        raise IniError(f"{path} has no [{section}] section")
    return cfg


def analyse(cfg: UwsgiConfig, *, embedder: Any = None, user_name: Optional[str] = None, check_homes: bool = True,
            do_predict: bool = True, confirm: bool = True) -> Tuple[List[dict], Optional[Any], List[UwsgiApp]]:
    """Findings for a uWSGI config, the home check (if any) and the apps in load order."""
    from venvprobe.offline.access import UnknownUser, check_access, current_user, lookup_user
    from venvprobe.offline.home import check_home, find_venv_root, site_packages_dirs, subinterpreter_unsafe

    sink = Findings("uwsgi", "check-uwsgi")

    where = lambda *keys: f"{cfg.path}:{cfg.line_of(*keys)}"  # noqa: E731
    uid = cfg.last("uid")
    wanted = user_name or uid
    try:
        user = lookup_user(wanted) if wanted else current_user()
    except UnknownUser:
        sink.add("python-home-inaccessible", f"uid = {uid} names no user on this machine", [f"{where('uid')}: uid = {uid}"])
        user = current_user()
    home = cfg.home
    env = cfg.env
    if "PYTHONHOME" in env:
        sink.add("pythonhome-from-env", f"env = PYTHONHOME={env['PYTHONHOME']} overrides the interpreter's home"
                 + (f" (home = {home})" if home else ""), [f"{where('env')}: env = PYTHONHOME={env['PYTHONHOME']}"])
    check = None
    if home and check_homes:
        check = check_home(home, embedder=embedder, user=user, server="uwsgi", do_predict=do_predict, confirm=confirm,
                           context=f"{where(*HOME_KEYS)}: ")
        sink.extend(check.findings)
    elif not home:
        sink.add("prefix-from-path-search", f"{cfg.path} sets no home/virtualenv: uWSGI runs the Python its plugin links "
                 "with that installation's packages", [f"{cfg.path}: no home, virtualenv, venv or pyhome"], severity="info")
    xy = embedder.major_minor if embedder is not None else None
    for entry in cfg.pythonpath:
        root = find_venv_root(entry)
        if re.search(r"/(site|dist)-packages/?$", entry) and root and (not home or os.path.normpath(root) !=
                                                                        os.path.normpath(home)):
            sink.add("base-site-visible", f"pythonpath = {entry} adds the site-packages of venv {root} instead of making it "
                     f"the home: the base installation's packages stay importable; use home = {root}",
                     [f"{where(*PATH_KEYS)}: pythonpath = {entry}"])
        m = re.search(r"python(\d+\.\d+)/", entry + "/")
        if m and xy and m.group(1) != xy:
            sink.add("venv-python-mismatch", f"pythonpath = {entry} is for Python {m.group(1)} but the plugin embeds "
                     f"Python {xy}", [f"{where(*PATH_KEYS)}: pythonpath = {entry}"])
        res = check_access(entry, user, "rx")
        if not res.exists:
            sink.add("sys-path-missing", f"pythonpath entry {entry} does not exist", [res.reason])
        elif not res.ok:
            sink.add("sys-path-unreadable", f"pythonpath entry {entry} is not readable by {user.name}: {res.reason}", [res.reason])
    apps = cfg.apps()
    chdir = cfg.last("chdir")
    for app in apps:
        if app.is_file:
            target = app.target if os.path.isabs(app.target) or not chdir else os.path.join(chdir, app.target)
            res = check_access(target, user, "r")
            if not res.ok:
                sink.add("wsgi-script-unreadable", f"app {app.mountpoint or '/'}: {target} "
                         + ("does not exist" if not res.exists else f"is not readable by {user.name}: {res.reason}"),
                         [res.reason])
    if len(apps) > 1 and not cfg.single_interpreter:
        sites: List[str] = []
        if home:
            sites += site_packages_dirs(home, xy) or site_packages_dirs(home)
        sites += [p for p in cfg.pythonpath if os.path.isdir(p)]
        unsafe = subinterpreter_unsafe(sites) if sites else []
        if unsafe:
            subs = [a for a in apps if a.index > 0]
            sink.add("c-extension-in-subinterpreter",
                     f"{len(subs)} app(s) run in sub-interpreters ({', '.join(a.mountpoint or a.target for a in subs)}) and the "
                     f"environment has {', '.join(n for n, _ in unsafe)}: set single-interpreter = true (one app per instance)",
                     [why for _, why in unsafe] + [f"{cfg.path}: {len(apps)} apps, no single-interpreter"])
    return sink.items, check, apps


__all__ = ["IniError", "UwsgiApp", "UwsgiConfig", "analyse", "load"]
