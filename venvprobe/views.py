"""Read-only views of a report that several stages share.

Which copy of each distribution import would use, which loaded modules came
from site-packages outside the venv, what is shadowed: :mod:`venvprobe.compare`
checks them, :mod:`venvprobe.snapshot` writes expectations from them,
:mod:`venvprobe.diff` compares them and :mod:`venvprobe.workers` fingerprints
workers with them.  Pure functions of the report data; a section that could
not be collected reads as absent (:func:`venvprobe.vocab.section`).
"""

from __future__ import annotations

import posixpath
from typing import Dict, List, Optional, Tuple

from packaging.utils import canonicalize_name

from venvprobe.vocab import section as _section

__all__ = ["sys_path_entries", "winning_distributions", "modules_outside_venv", "shadowed_names"]


def sys_path_entries(report: dict) -> Optional[List[dict]]:
    """The sys.path entries (objects only), or None without sys.path data."""
    sp = _section(report, "sys_path")
    if not isinstance(sp, dict) or not isinstance(sp.get("entries"), list):
        return None
    return [e for e in sp["entries"] if isinstance(e, dict)]


def winning_distributions(report: dict) -> Dict[str, dict]:
    """{canonical name: the copy import would use (first on sys.path)}."""
    out: Dict[str, dict] = {}
    dists = _section(report, "distributions")
    if not isinstance(dists, list):
        return out
    for dist in dists:
        if not isinstance(dist, dict) or not isinstance(dist.get("name"), str):
            continue
        key = canonicalize_name(dist["name"])
        prior = out.get(key)
        if prior is None or (dist.get("location_index") or 0) < (prior.get("location_index") or 0):
            out[key] = dist
    return out


def _under(path: str, root: str) -> bool:
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _norm_root(root: str) -> Tuple[str, str]:
    root = posixpath.normpath(root)
    return root, root.rstrip("/") + "/"


def _under_norm(path: str, root: Tuple[str, str]) -> bool:
    """:func:`_under` for an already normalised *path* and a :func:`_norm_root`."""
    return path == root[0] or path.startswith(root[1])


def modules_outside_venv(report: dict) -> Optional[List[Tuple[str, str]]]:
    """Loaded top-level modules that came from site-packages outside the venv(s) in use.

    "The venv" is sys.prefix when it is a venv, plus venv site-packages added
    at runtime (the mod_wsgi "virgin baseline + addsitedir" pattern).
    Application code and the standard library are never "outside".  None when
    the report has no module data.
    """
    modules = _section(report, "modules")
    entries = sys_path_entries(report) or []
    if not isinstance(modules, dict) or not isinstance(modules.get("top_level"), list):
        return None
    interp = _section(report, "interpreter") or {}
    venv_roots = []
    if interp.get("in_venv") and interp.get("prefix"):
        venv_roots.append(interp["prefix"])
    venv_roots += [(e.get("origin") or {}).get("venv_root") for e in entries
                   if (e.get("origin") or {}).get("kind") == "runtime_venv_site"]
    # Normalised once: a fleet check runs this for every target (modules x entries).
    roots = [_norm_root(r) for r in venv_roots if isinstance(r, str)]
    holders = [(_norm_root(e["abs_path"]), e) for e in entries if isinstance(e.get("abs_path"), str)]
    foreign_kinds = {"base_site", "user_site"}
    out = []
    for mod in modules["top_level"]:
        file = mod.get("file") if isinstance(mod, dict) else None
        if not isinstance(file, str) or not file.startswith("/"):
            continue
        norm = posixpath.normpath(file)
        if any(_under_norm(norm, root) for root in roots):
            continue
        holder = max((e for root, e in holders if _under_norm(norm, root)),
                     key=lambda e: len(e["abs_path"]), default=None)
        kind = ((holder or {}).get("origin") or {}).get("kind")
        parts = file.split("/")
        if kind in foreign_kinds or "site-packages" in parts or "dist-packages" in parts:
            out.append((str(mod.get("name")), file))
    return out


def shadowed_names(report: dict) -> Optional[List[Tuple[str, str]]]:
    """(name, description) of every shadowed module and distribution; None without data.

    Namespace packages split over several entries merge (nothing is hidden),
    so they are not shadowing.
    """
    sh = _section(report, "shadowed")
    if not isinstance(sh, dict):
        return None
    out = []
    for mod in sh.get("modules") or []:
        if not isinstance(mod, dict) or mod.get("kind") == "namespace_split":
            continue
        winner = (mod.get("winner") or {}).get("path")
        losers = ", ".join(str(l.get("path")) for l in mod.get("losers") or [] if isinstance(l, dict))
        out.append((str(mod.get("name")), f"module {mod.get('name')}: {winner} hides {losers}"))
    for dist in sh.get("distributions") or []:
        if not isinstance(dist, dict):
            continue
        w = dist.get("winner") or {}
        losers = ", ".join(f"{l.get('version')} in {l.get('location')}" for l in dist.get("losers") or [] if isinstance(l, dict))
        out.append((str(dist.get("name")), f"distribution {dist.get('name')}: {w.get('version')} in {w.get('location')} hides {losers}"))
    return out
