"""The ``distributions`` section: every installed distribution sys.path can see, from its metadata.

Reads METADATA's header, RECORD and (when RECORD names it) direct_url.json
of each ``.dist-info``; never imports a distribution and never asks
``importlib.metadata`` (which would).  The cost per distribution is the
budget (benchmarks/bench_report.py): one open per file read, no stat.
Parsed ``.dist-info`` facts are cached per interpreter (the probe) and
validated by the directory's mtime.
"""

import os

from venvprobe.collect.common import (
    MAX_METADATA_HEADER_BYTES,
    MAX_NAME_CHARS,
    MAX_RECORD_TOPS,
    _error,
    _ext_suffixes,
    _read_text,
    _text,
)
from venvprobe.collect.editables import _egg_link, _link_editables
from venvprobe.collect.listing import _module_name
from venvprobe.collect.metadata import (
    _extract_json_str,
    _first_line,
    _installer_from_record,
    _parse_name_version,
    _read_name_version,
    _read_record,
)

# {dist-info path: (directory mtime_ns, parsed facts)}; module state is per
# interpreter, so each sub-interpreter keeps its own.
_DIST_INFO_CACHE = {}  # type: dict[str, tuple]


def collect(ctx):
    """The distributions section (Context.distributions keeps it for shadowing and sys_path)."""
    dists = []
    # One directory reached twice (a repeated or symlinked entry) holds
    # one set of distributions, not two copies of each.
    for index, raw, entry, listing in ctx.entries():
        if listing.kind == "zip":
            dists.extend(_zip_dists(index, entry, listing))
            continue
        if raw.endswith(".egg"):
            meta = os.path.join(entry, "EGG-INFO", "PKG-INFO")
            if listing.kind == "dir" and os.path.isfile(meta):
                dists.append(_dist(ctx, index, entry, os.path.join(entry, "EGG-INFO"), "egg", listing))
            continue
        if listing.kind != "dir":
            continue
        # String concatenation, not os.path.join: this runs per distribution.
        prefix = entry if entry.endswith(os.sep) else entry + os.sep
        for name in listing.names:
            if name.endswith(".dist-info") and name in listing.dirs:
                dists.append(_dist(ctx, index, entry, prefix + name, "dist-info", listing))
            elif name.endswith(".egg-info"):
                dists.append(_dist(ctx, index, entry, prefix + name, "egg-info", listing))
            elif name.endswith(".egg-link"):
                dists.append(_egg_link(index, entry, name))
    _link_editables(ctx.pth_or_none(), dists)
    return dists

def _zip_dists(index, entry, listing):
    """Distributions inside a zip on sys.path (importlib.metadata finds these too)."""
    out = []
    importer = listing.importer
    for name in listing.names:
        fmt = "dist-info" if name.endswith(".dist-info") else ("egg" if name == "EGG-INFO" else None)
        if fmt is None or name not in listing.dirs:
            continue
        meta = os.path.join(entry, name)
        dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(meta),
                "format": fmt + " (zip)", "installer": None, "editable": False}
        try:
            data = importer.get_data(os.path.join(meta, "METADATA" if fmt == "dist-info" else "PKG-INFO"))
            dist["name"], dist["version"] = _parse_name_version(data[:MAX_METADATA_HEADER_BYTES])
        except Exception as exc:
            dist.update(_error(exc))
        if not dist.get("name"):
            dist["metadata_missing"] = True
            dist["name"] = name.rsplit(".", 1)[0].partition("-")[0]
        out.append(dist)
    return out

def _dist(ctx, index, entry, metadir, fmt, listing):
    dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(metadir), "format": fmt}
    try:
        if fmt == "egg-info" and not os.path.isdir(metadir):
            metafile = metadir
        else:
            metafile = metadir + ("/METADATA" if fmt == "dist-info" else "/PKG-INFO")
        parsed = None
        if fmt == "dist-info":
            parsed = _dist_info_cached(ctx, metadir)
            name, version = parsed["name"], parsed["version"]
        else:
            name, version = _read_name_version(metafile)
        if not name:
            base = os.path.basename(metadir).rsplit(".", 1)[0]
            name, _, version_guess = base.partition("-")
            dist["metadata_missing"] = True
            version = version or version_guess.split("-")[0] or None
        dist["name"] = name
        dist["version"] = version
        if parsed is not None:
            for key in ("installer", "editable", "direct_url", "top_level", "record_files", "record_pth"):
                if key in parsed:
                    dist[key] = parsed[key]
            present = listing.name_set()
            if not present.issuperset(parsed["record_tops"]):  # one C call for the usual answer: nothing missing
                dist["missing_files"] = sorted(name for name in parsed["record_tops"] if name not in present)
        else:
            dist["installer"] = None
            dist["editable"] = False
            tl = os.path.join(metadir, "top_level.txt") if os.path.isdir(metadir) else None
            if tl and os.path.exists(tl):
                dist["top_level"] = [t.strip() for t in _read_text(tl, 64 * 1024).splitlines() if t.strip()]
    except Exception as exc:
        dist.update(_error(exc))
        dist.setdefault("name", os.path.basename(metadir))
    return dist

def _dist_info_cached(ctx, metadir):
    """Parsed facts of one .dist-info directory, cached per interpreter.

    A probe rebuilds its report every few seconds in a long-lived process;
    re-reading METADATA, INSTALLER and RECORD of every distribution was
    half of that cost.  pip and uv replace a .dist-info directory's files
    on every (re)install, which changes the directory's mtime, so one stat
    validates the entry.
    """
    # A foreign run (report --python) collects once: no cache, no stat.
    foreign = ctx.foreign
    stamp = None
    if not foreign:
        try:
            stamp = os.stat(metadir).st_mtime_ns
        except OSError:
            pass
        cached = _DIST_INFO_CACHE.get(metadir)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
    name, version = _read_name_version(metadir + "/METADATA")
    record_text = _read_record(metadir)
    metaname = os.path.basename(metadir)
    installer = _installer_from_record(record_text, metadir, metaname)
    parsed = {"name": name, "version": version,
              "installer": installer if installer is not None else _first_line(metadir + "/INSTALLER"),
              "editable": False}
    top, tops, record_files, mentions_direct = _record(ctx, metadir, record_text, metaname)
    # pip and uv list direct_url.json in RECORD: skip a stat per
    # distribution unless RECORD names it (or there is no RECORD).
    if mentions_direct or record_files == 0:
        try:
            text = _read_text(metadir + "/direct_url.json", 64 * 1024)
        except OSError:
            text = None
        if text is not None:
            parsed["editable"] = '"editable":true' in text.replace(" ", "")
            parsed["direct_url"] = ctx.masker.text(_extract_json_str(text, "url") or "")
    parsed["top_level"] = top
    parsed["record_tops"] = tops
    pths = [t for t in tops if t.endswith(".pth")]
    if pths:
        parsed["record_pth"] = pths
    parsed["record_files"] = record_files
    if stamp is not None and not foreign:
        if len(_DIST_INFO_CACHE) > 50000:
            _DIST_INFO_CACHE.clear()
        _DIST_INFO_CACHE[metadir] = (stamp, parsed)
    return parsed

def _record(ctx, metadir, text=None, metaname=None):
    """Top-level names from RECORD: (module names, every top-level entry, line count, names direct_url.json).

    Only top-level names are later checked against the directory listing
    we already have: a stat per file would cost too much at 2,000 dists.
    *text*: RECORD's content when the caller has read it already.
    """
    if text is None:
        text = _read_record(metadir)
    if text is None:
        return [], [], 0, False
    if metaname is None:
        metaname = os.path.basename(metadir)
    tops = {}
    if "\0" in text:
        # Not a RECORD (a device, a binary file): its "names" would fill the report.
        ctx.skip("record", "RECORD files that are not text (a NUL byte) were ignored")
        return [], [], 0, False
    lines = text.splitlines()
    count = len(lines) - lines.count("")
    # Per distinct first path component rather than per line: a big
    # package lists thousands of files under a few top-level names.
    # ("../x" gives "..", "/abs" gives "": both outside site-packages.)
    for first in {line.partition("/")[0] for line in lines}:
        head = first.split(",", 1)[0].strip('"')
        if not head or head == ".." or head.startswith(metaname):
            continue
        if len(head) > MAX_NAME_CHARS or len(tops) >= MAX_RECORD_TOPS:
            ctx.skip("record_names", "RECORD top-level names past %d per distribution (or longer than %d "
                      "characters) were ignored" % (MAX_RECORD_TOPS, MAX_NAME_CHARS))
            continue
        if head == "__pycache__" or head.endswith(".pth") or head.endswith(".dist-info"):
            if head.endswith(".pth"):
                tops.setdefault(head, False)
            continue
        tops.setdefault(head, True)
    modules = []
    for name, counts in tops.items():
        if not counts:
            continue
        mod = _module_name(name, "." not in name, _ext_suffixes())
        if mod is not None:
            modules.append(mod[0])
    return sorted(set(modules)), sorted(tops), count, "direct_url.json" in text
