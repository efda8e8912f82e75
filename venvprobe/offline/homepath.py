"""What a configured python-home path is: a venv root, something inside one, an installation, or nothing usable.

:func:`classify` names the kind of path and the value that should be used
instead; :func:`kind_finding` says what that kind means as a home (a finding,
or None for a venv root).  File-system reads only, as this process sees them:
whether the server's user may read the path is :mod:`venvprobe.offline.access`.
"""

from __future__ import annotations

import glob
import os
import re
from typing import List, Optional, Tuple


_LIBDIR = re.compile(r"^(?P<root>.*?)/(?:lib|lib64)/python(?P<xy>\d+\.\d+)(?:/(?:site|dist)-packages)?/?$")


_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")


def find_venv_root(path: str, levels: int = 4) -> Optional[str]:
    """The nearest directory at or above *path* holding pyvenv.cfg (at most *levels* up)."""
    current = os.path.abspath(path)
    for _ in range(levels + 1):
        if os.path.isfile(os.path.join(current, "pyvenv.cfg")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return None


def site_packages_dirs(root: str, xy: Optional[str] = None) -> List[str]:
    """The venv's site-packages directories (for X.Y, or every lib/python*/ one)."""
    pattern = f"python{xy}" if xy else "python*"
    found: List[str] = []
    for lib in ("lib", "lib64"):
        for d in sorted(glob.glob(os.path.join(root, lib, pattern, "site-packages"))):
            if os.path.realpath(d) not in {os.path.realpath(x) for x in found}:
                found.append(d)
    return found


def major_minor(version: Optional[str]) -> Optional[str]:
    """"3.11" from "3.11.2"; None for no or a malformed version."""
    if not version:
        return None
    parts = str(version).split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0].isdigit() else None


def classify(path: str) -> Tuple[str, Optional[str], Optional[str]]:
    """(kind, venv root, suggested value) for a configured home *path*.

    kinds: venv, installation, interpreter-in-venv, interpreter, inside-venv,
    not-a-directory, missing, not-a-venv.
    """
    path = os.path.abspath(path)
    if not os.path.lexists(path):
        return "missing", None, None
    if os.path.isfile(path):
        name = os.path.basename(path)
        bin_dir = os.path.dirname(path)
        if _PYTHON_NAME.match(name) and os.path.basename(bin_dir) in ("bin", "Scripts"):
            root = find_venv_root(os.path.dirname(bin_dir), levels=0)
            if root:
                return "interpreter-in-venv", root, root
            return "interpreter", None, os.path.dirname(bin_dir)
        return "not-a-directory", find_venv_root(os.path.dirname(path)), find_venv_root(os.path.dirname(path))
    if not os.path.isdir(path):
        return "missing", None, None
    if os.path.isfile(os.path.join(path, "pyvenv.cfg")):
        return "venv", path, None
    root = find_venv_root(path)
    if root:
        return "inside-venv", root, root
    m = _LIBDIR.match(path)
    if m and os.path.isfile(os.path.join(path, "os.py")):
        return "inside-installation", None, m.group("root") or "/"
    if glob.glob(os.path.join(path, "lib", "python*", "os.py")):
        return "installation", None, None
    return "not-a-venv", None, None


def venv_version(root: str) -> Optional[str]:
    """X.Y of the venv's lib/pythonX.Y/site-packages (when pyvenv.cfg does not say)."""
    for d in site_packages_dirs(root):
        m = re.search(r"python(\d+\.\d+)", d)
        if m:
            return m.group(1)
    return None


def kind_finding(kind: str, setting: str, given: str, root: Optional[str],
                  suggested: Optional[str]) -> Optional[Tuple[str, str, List[str]]]:
    """(code, message, evidence) of what a path of *kind* (see :func:`classify`) means as a home; None for a venv root."""
    use_root = f"use {setting}={root}"
    is_root = [f"{root}/pyvenv.cfg exists: {root} is the venv root"]
    return {
        "missing": ("python-home-missing", f"{setting}={given} does not exist", [f"{given}: no such file or directory"]),
        "interpreter-in-venv": ("python-home-not-venv-root", f"{setting}={given} is the venv's interpreter; {use_root}",
                                is_root),
        "interpreter": ("python-home-not-venv-root", f"{setting}={given} is an interpreter, not a directory; "
                        f"use the venv root (or {suggested} for that installation itself)", [f"{given} is a file"]),
        "inside-venv": ("python-home-not-venv-root", f"{setting}={given} is inside the venv {root}; {use_root}", is_root),
        "inside-installation": ("python-home-not-venv-root", f"{setting}={given} is the standard library directory of "
                                f"an installation; the home would be {suggested}", [f"{given}/os.py exists"]),
        "not-a-directory": ("python-home-missing", f"{setting}={given} is a file, not a directory"
                            + (f"; {use_root}" if root else ""), [f"{given} is not a directory"]),
        "installation": ("no-venv", f"{setting}={given} is a Python installation, not a venv: the app shares its packages",
                         [f"{given}/pyvenv.cfg: missing", "lib/python*/os.py found"]),
        "not-a-venv": ("python-home-not-a-venv", f"{setting}={given} has no pyvenv.cfg and no lib/pythonX.Y/os.py: "
                       "Python cannot find its standard library there",
                       [f"{given}/pyvenv.cfg: missing", f"{given}/lib/python*/os.py: missing"]),
    }.get(kind)


__all__ = ["classify", "find_venv_root", "kind_finding", "major_minor", "site_packages_dirs", "venv_version"]
