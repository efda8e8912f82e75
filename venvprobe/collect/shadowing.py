"""The ``shadowed`` section: which copy of a name wins, which copies it hides.

Built on :func:`providers` (who provides each top-level name, in sys.path
order, as the import system's PathFinder would find them), which the
modules section shares through the Context.  Nothing is imported: the
listings and a few ``__init__.py`` headers are all it reads.
"""

import os
import sys

from venvprobe.collect.common import _canonical, _ext_suffixes, _loaded_file, _read_bytes, _realpath, _text
from venvprobe.collect.listing import _module_name


def providers(ctx):
    """{top-level name: [provider, ...]} in sys.path order (Context.providers keeps it)."""
    suffixes = _ext_suffixes()
    found = {}
    # A repeated or symlinked entry provides the same files again, it does not hide them.
    for index, raw, entry, listing in ctx.entries():
        if listing.kind not in ("dir", "zip"):
            continue
        dirs = listing.dirs
        seen_here = {}
        prefix = entry if entry.endswith(os.sep) else entry + os.sep
        for name in listing.names:
            mod = _module_name(name, name in dirs, suffixes)
            if mod is None:
                continue
            modname, kind = mod
            prior = seen_here.get(modname)
            # Within one directory a package beats a module (FileFinder order).
            if prior is not None and prior["kind"] == "package":
                continue
            seen_here[modname] = {"index": index, "entry": _text(entry), "kind": kind, "path": _text(prefix + name)}
        for modname, prov in seen_here.items():
            found.setdefault(modname, []).append(prov)
    # setuptools appends its editable finder to sys.meta_path, after the
    # PathFinder: any copy of the name on sys.path wins over the editable.
    pth = ctx.pth_or_none()
    for finder in pth.finders if pth is not None else ():
        for modname, target in (finder.get("mapping") or {}).items():
            if "." in modname:
                continue
            found.setdefault(modname, []).append({
                "index": None, "entry": "editable finder %s" % finder.get("module"),
                "kind": "editable_finder", "path": target,
            })
    return found

def _classify_packages(provs):
    for prov in provs:
        if prov["kind"] == "package" and "regular" not in prov:
            path = prov["path"]
            if prov["entry"].endswith(".zip") or prov["entry"].endswith(".egg") and os.path.isfile(prov["entry"]):
                prov["regular"] = True
                continue
            regular = False
            for init in ("__init__.py", "__init__.pyc") + tuple("__init__" + s for s in _ext_suffixes()):
                if os.path.exists(os.path.join(path, init)):
                    regular = True
                    break
            prov["regular"] = regular
            if not regular:
                prov["kind"] = "namespace"
                prov["has_code"] = _has_python_code(path)

def collect(ctx):
    """The shadowed section: top-level names and distributions more than one sys.path entry provides."""
    providers = ctx.providers()
    stdlib_names = set(getattr(sys, "stdlib_module_names", ()) or ())
    paths = ctx.paths()
    stdlib_dirs = {os.path.normpath(paths.get("stdlib") or ""), os.path.normpath(paths.get("platstdlib") or "")}
    stdlib_dirs |= {os.path.join(d, "lib-dynload") for d in list(stdlib_dirs)}
    if not stdlib_names:
        for d in stdlib_dirs:
            for prov_name, provs in providers.items():
                if any(p["entry"] == d for p in provs):
                    stdlib_names.add(prov_name)
    modules_out = []
    for name, provs in providers.items():
        if len(provs) < 2:
            continue
        provs = _distinct_files(provs)
        if len(provs) < 2:
            continue
        _classify_packages(provs)
        # A directory without Python code (a venv, docs/, build/ in the
        # cwd) is not a namespace portion anyone meant: leave it out.
        provs = [p for p in provs if p["kind"] != "namespace" or p.get("has_code")]
        if len(provs) < 2:
            continue
        regular = [p for p in provs if p["kind"] != "namespace"]
        namespace = [p for p in provs if p["kind"] == "namespace"]
        style = _namespace_style(regular[0]) if regular else None
        if style is not None:
            # The winning __init__ extends its own __path__ (pkgutil /
            # pkg_resources): every portion is importable, nothing is hidden.
            modules_out.append({
                "name": name, "kind": "namespace_split", "style": style, "winner": regular[0], "losers": [],
                "portions": provs, "stdlib": name in stdlib_names, "loaded_file": _loaded_file(name),
            })
            continue
        if len(regular) == 0:
            # Only namespace portions: they merge, nothing is hidden.
            if len(namespace) > 1:
                modules_out.append({
                    "name": name, "kind": "namespace_split", "winner": None, "losers": [],
                    "portions": namespace, "stdlib": name in stdlib_names,
                    "loaded_file": _loaded_file(name),
                })
            continue
        winner = regular[0]
        losers = [p for p in provs if p is not winner]
        if not losers:
            continue
        item = {
            "name": name,
            "kind": "namespace_poisoned" if namespace else "module",
            "winner": winner,
            "losers": losers,
            "stdlib": name in stdlib_names,
            "winner_is_stdlib": winner["entry"] in stdlib_dirs,
            "loaded_file": _loaded_file(name),
        }
        modules_out.append(item)
    dists = ctx.distributions()
    by_name = {}
    for dist in dists:
        key = _canonical(dist.get("name") or "")
        if key:
            by_name.setdefault(key, []).append(dist)
    dists_out = []
    for key, copies in by_name.items():
        if len({c.get("location_index") for c in copies}) < 2:
            continue  # two metadata dirs in one entry: not shadowing
        copies = _distinct_dists(sorted(copies, key=lambda d: d.get("location_index", 0)))
        if len({c.get("location_index") for c in copies}) < 2:
            continue
        keys = ("version", "location", "location_index", "metadata_path", "editable")
        item = {
            "name": copies[0].get("name"),
            "winner": {k: copies[0].get(k) for k in keys},
            "losers": [{k: c.get(k) for k in keys} for c in copies[1:]],
            "versions_differ": len({c.get("version") for c in copies}) > 1,
        }
        # Which copy the running code actually came from, when imported.
        tops = sorted({t for c in copies for t in (c.get("top_level") or ())})
        loaded = {}
        for top in tops:
            filename = _loaded_file(top)
            if filename:
                where = None
                for c in copies:
                    loc = c.get("location") or ""
                    if filename.startswith(loc.rstrip(os.sep) + os.sep):
                        where = c.get("location_index")
                        break
                loaded[top] = {"file": filename, "copy_index": where}
        item["top_level"] = tops
        item["loaded"] = loaded
        dists_out.append(item)
    modules_out.sort(key=lambda m: m["name"])
    dists_out.sort(key=lambda d: _canonical(d["name"] or ""))
    return {"modules": modules_out, "distributions": dists_out}

def _has_python_code(path, depth=2):
    """Does directory *path* hold a module or a package (is it a plausible namespace portion)?

    Nested namespaces (``google/cloud/storage/__init__.py``) are looked into
    *depth* levels deep.
    """
    suffixes = (".py", ".pyc") + _ext_suffixes()
    try:
        with os.scandir(path) as it:
            for count, entry in enumerate(it):
                if count > 2000:
                    return True  # huge: assume code rather than scan on
                name = entry.name
                if name.endswith(suffixes):
                    return True
                if name.isidentifier() and entry.is_dir():
                    if os.path.exists(os.path.join(entry.path, "__init__.py")):
                        return True
                    if depth > 1 and _has_python_code(entry.path, depth - 1):
                        return True
    except OSError:
        return False
    return False
def _distinct_files(provs):
    """Providers minus those that are the same file as an earlier one (symlinked copies)."""
    out, seen = [], set()
    for prov in provs:
        path = prov.get("path") or ""
        real = _realpath(path) if prov.get("index") is not None else path
        if real in seen:
            continue
        seen.add(real)
        out.append(prov)
    return out


def _namespace_style(prov):
    """"pkgutil" / "pkg_resources" when a package's __init__ extends its own __path__, else None."""
    if prov.get("kind") != "package" or prov.get("entry", "").endswith((".zip", ".egg")):
        return None
    try:
        data = _read_bytes(os.path.join(prov["path"], "__init__.py"), 16 * 1024)
    except (OSError, ValueError):
        return None
    if b"extend_path" in data:
        return "pkgutil"
    if b"declare_namespace" in data:
        return "pkg_resources"
    return None


def _distinct_dists(copies):
    """Copies of one distribution that really are distinct installations.

    The same metadata reached twice (an .egg-link and the .egg-info it points
    to) is one; so is the ``<name>.egg-info`` a build leaves in an editable
    project's source directory, beside the venv's .dist-info of the same
    version.
    """
    code = set()
    for c in copies:
        if c.get("editable"):
            for p in (c.get("editable_paths") or []) + [c.get("editable_target") or ""]:
                if p:
                    code.add(_realpath(p))
    out, seen = [], set()
    for c in copies:
        ident = _realpath(c.get("egg_info") or c.get("metadata_path") or "")
        if ident in seen:
            continue
        seen.add(ident)
        if c.get("format") == "egg-info" and not c.get("editable") and _realpath(c.get("location") or "") in code \
                and any(e.get("editable") and e.get("version") == c.get("version") for e in copies):
            continue
        out.append(c)
    return out
