"""Editable installs: where an editable distribution's code really lives.

PEP 660 .pth files (path lines or setuptools finders), ``setup.py develop``
``.egg-link`` files, and setuptools' strict-mode symlink trees.  Part of
the distributions section.
"""

import os

from venvprobe.collect.common import _canonical, _read_text, _realpath, _text
from venvprobe.collect.metadata import _read_name_version


def _link_editables(pth, dists):
    """Tell each editable dist where its code lives: its .pth paths or finder map.

    The .pth files are those the dist's RECORD names (every PEP 660
    backend: setuptools' ``__editable__.*``, hatchling's
    ``_editable_impl_*``, flit's, pdm-backend's, poetry-core's), else
    setuptools' naming convention.
    """
    by_file, by_key = {}, {}
    for record in (pth.report if pth is not None else ()):
        path = record.get("file") or ""
        by_file[path] = record
        base = os.path.basename(path)
        if base.startswith("__editable__.") and base.endswith(".pth"):
            stem = base[len("__editable__."):-len(".pth")]
            by_key[(record.get("dir"), _canonical(stem.rsplit("-", 1)[0]))] = record
    for dist in dists:
        if not dist.get("editable") or dist.get("format") == "egg-link":
            continue
        location = dist.get("location") or ""
        records = [by_file[_text(os.path.join(location, n))] for n in dist.get("record_pth") or ()
                   if _text(os.path.join(location, n)) in by_file]
        if not records:
            record = by_key.get((location, _canonical(dist.get("name") or "")))
            records = [record] if record is not None else []
        if not records:
            continue
        dist["editable_pth"] = records[0].get("file")
        paths = [l.get("target") for r in records for l in r.get("lines") or () if l.get("kind") == "path"]
        finders = [l["editable_finder"] for r in records for l in r.get("lines") or () if l.get("editable_finder")]
        if paths:
            dist["editable_mode"] = "pth-path"
            dist["editable_paths"] = paths
        if finders:
            dist["editable_mode"] = "finder"
            mapping = {}
            for finder in finders:
                mapping.update(finder.get("mapping") or {})
            dist["editable_mapping"] = mapping
            # RECORD only names the finder module; the real top-level names are the map's keys.
            tops = [t for t in dist.get("top_level") or () if not t.startswith("__editable__")]
            dist["top_level"] = sorted(set(tops) | {k.split(".")[0] for k in mapping})
        links = [p for p in paths if os.path.basename(p).startswith("__editable__.")]
        if links:
            code = _code_dirs(links, dist.get("top_level") or ())
            if code:
                # setuptools' strict mode (build/__editable__.*) links a tree of
                # symlinks: say where the files really are.
                dist["editable_code"] = code


def _egg_link(index, entry, name):
    """A ``setup.py develop`` install: ``<name>.egg-link`` names the project directory.

    Its metadata is the ``<name>.egg-info`` in that directory (which
    easy-install.pth puts on sys.path): that gives the version.
    """
    path = os.path.join(entry, name)
    dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(path),
            "format": "egg-link", "name": name[: -len(".egg-link")], "version": None,
            "installer": None, "editable": True, "editable_mode": "egg-link"}
    try:
        lines = _read_text(path, 4096).splitlines()
        target = os.path.normpath(os.path.join(entry, lines[0].strip()))
        dist["editable_target"] = _text(target)
        dist["editable_paths"] = [_text(target)]
    except (OSError, IndexError) as exc:
        dist["error"] = "%s" % exc
        return dist
    want = _canonical(dist["name"])
    try:
        names = os.listdir(target)
    except OSError:
        return dist
    for other in names:
        if other.endswith(".egg-info") and _canonical(other[:-9].partition("-")[0]) == want:
            meta = os.path.join(target, other)
            meta_file = os.path.join(meta, "PKG-INFO") if os.path.isdir(meta) else meta
            got_name, got_version = _read_name_version(meta_file)
            dist["egg_info"] = _text(meta)
            dist["name"] = got_name or dist["name"]
            dist["version"] = got_version
            tl = os.path.join(meta, "top_level.txt")
            if os.path.isfile(tl):
                dist["top_level"] = [t.strip() for t in _read_text(tl, 64 * 1024).splitlines() if t.strip()]
            break
    return dist

def _code_dirs(paths, tops):
    """{top-level name: real directory} where an editable's code is not where its path says (symlink trees)."""
    out = {}
    for base in paths:
        try:
            names = list(tops) or sorted(os.listdir(base))[:200]
        except OSError:
            continue
        for name in names:
            stem = name[:-3] if name.endswith(".py") else name
            if stem in out or not stem.isidentifier():
                continue
            for cand in (os.path.join(base, stem, "__init__.py"), os.path.join(base, stem + ".py")):
                if os.path.exists(cand):
                    # lstat first: only a symlinked file or package directory needs resolving.
                    if os.path.islink(cand) or os.path.islink(os.path.dirname(cand)):
                        real = _realpath(cand)
                        if real != os.path.normpath(cand):
                            out[stem] = _text(os.path.dirname(real))
                    break
    return out
