"""Turn a report into findings: the *analyze* stage.

:func:`analyze` is a pure function of the report data.  It never looks at the
machine it runs on, so it gives the same answer for a report collected just
now, fetched from a server, or loaded from a support ticket.
"""

from __future__ import annotations

import posixpath

from venvprobe.catalog import make_finding, sort_findings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path
    from typing import Any, Callable, Dict, Iterable, List, Optional

    Report = Dict[str, Any]
    Finding = Dict[str, Any]

# Site-packages files that legitimately run code at start-up.
_KNOWN_PTH_IMPORTS = ("distutils-precedence.pth", "_virtualenv.pth")
_SERVER_KINDS = ("mod_wsgi", "uwsgi", "gunicorn", "waitress")


# The shape each section must have; anything else (a hand-edited or
# truncated report) is treated as absent rather than crashing a check.
_SHAPES = {"distributions": list}


def _section(report: Report, name: str) -> Any:
    value = report.get(name) if isinstance(report, dict) else None
    if isinstance(value, dict) and set(value) == {"error"}:
        return None
    if not isinstance(value, _SHAPES.get(name, dict)):
        return None
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return value


def _entries(report: Report) -> List[dict]:
    sp = _section(report, "sys_path") or {}
    entries = sp.get("entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _server(report: Report) -> Optional[str]:
    ident = _section(report, "identity") or {}
    server = ident.get("server")
    return server.get("kind") if isinstance(server, dict) else None


def _in_server(report: Report) -> bool:
    return _server(report) in _SERVER_KINDS


def _major_minor(version: Optional[str]) -> Optional[str]:
    if not version:
        return None
    parts = str(version).split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _under(path: Optional[str], root: Optional[str]) -> bool:
    if not path or not root:
        return False
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


class _Analysis:
    """Holds the report and the server kind while the checks run."""

    def __init__(self, report: Report):
        self.report = report
        self.server = _server(report)
        self.interp = _section(report, "interpreter") or {}
        self.entries = _entries(report)
        self.findings: List[Finding] = []

    def add(self, code: str, message: str, evidence: Iterable[str] = (), **kw: Any) -> None:
        self.findings.append(make_finding(code, message, list(evidence), server=self.server, **kw))

    def site_entries(self, *kinds: str) -> List[dict]:
        return [e for e in self.entries if (e.get("origin") or {}).get("kind") in kinds]


# ---------------------------------------------------------------------------
# checks: each takes the analysis and adds findings


def _binary_outside_base(interp: dict) -> List[str]:
    """Evidence that the running binary / libpython is not from the base installation.

    mod_wsgi and uWSGI run the libpython they were linked with, whatever
    python-home says; a venv's python symlink can also be run by another
    binary.  Either way the stdlib (from base_prefix) and the code running it
    come from two different builds.
    """
    roots = [r for r in (interp.get("base_prefix"), interp.get("base_prefix_real")) if r]
    if not roots:
        return []
    out = []
    real = interp.get("real_executable") or ""
    if posixpath.basename(real).startswith("python") and not any(_under(real, r) for r in roots) \
            and not _venv_copy_of_base(interp):
        out.append(f"running binary {real} is not under base_prefix {roots[0]}")
    for obj in interp.get("mapped_objects") or []:
        if posixpath.basename(obj).startswith("libpython") and not any(_under(obj, r) for r in roots):
            out.append(f"mapped {obj} is not under base_prefix {roots[0]}")
    return out


def _venv_copy_of_base(interp: dict) -> bool:
    """Is the running binary the venv's own copy (``venv --copies``) of the Python it was made from?

    What runs is compared, not where the binary sits: the venv's recorded
    version is the running one (X.Y.Z) and its base still exists.  A
    shared-library build is still checked through the mapped libpython.
    """
    cfg = interp.get("pyvenv_cfg") or {}
    real = interp.get("real_executable") or ""
    prefix = interp.get("prefix")
    if not cfg or not prefix or not _under(real, prefix):
        return False
    made = str(cfg.get("version") or "").split(".")[:3]
    return bool(made) and made == str(interp.get("version") or "").split(".")[:3] and cfg.get("home_exists") is not False


def _asked_for_system_site(interp: dict) -> bool:
    """The venv was created with --system-site-packages: base packages being visible is what was asked for."""
    return bool((interp.get("pyvenv_cfg") or {}).get("include_system_site_packages"))


def _check_venv_version(a: _Analysis) -> None:
    running = _major_minor(a.interp.get("version"))
    outside = _binary_outside_base(a.interp)
    base_prefix = a.interp.get("base_prefix")
    cfgs = []
    if a.interp.get("pyvenv_cfg"):
        cfgs.append((a.interp.get("prefix"), a.interp["pyvenv_cfg"]))
    for e in a.site_entries("runtime_venv_site"):
        cfg = (e.get("origin") or {}).get("pyvenv_cfg")
        if cfg:
            cfgs.append(((e.get("origin") or {}).get("venv_root"), cfg))
    seen = set()
    for root, cfg in cfgs:
        if root in seen or not isinstance(cfg, dict):
            continue
        seen.add(root)
        made_with = _major_minor(cfg.get("version"))
        home = cfg.get("home")
        if made_with and running and made_with != running:
            a.add("venv-python-mismatch",
                  f"venv {root} was made by Python {cfg.get('version')} but this process runs Python {a.interp.get('version')}",
                  [f"{cfg.get('path')}: version = {cfg.get('version')}, home = {home}",
                   f"running: {a.interp.get('version')} ({a.interp.get('real_executable')})"])
        elif home and base_prefix and cfg.get("home_exists") is not False \
                and not _home_matches_base(home, base_prefix, a.interp):
            a.add("venv-python-mismatch",
                  f"venv {root} was made from the Python in {home}, but this process runs the installation at {base_prefix}",
                  [f"{cfg.get('path')}: home = {home}", f"base_prefix = {base_prefix}",
                   f"real executable = {a.interp.get('real_executable')}"])
        elif outside and root == a.interp.get("prefix"):
            a.add("venv-python-mismatch",
                  f"venv {root} was made by Python {cfg.get('version')} from {home}, but this process runs "
                  f"Python {a.interp.get('version')} from {a.interp.get('real_executable')}",
                  [f"{cfg.get('path')}: version = {cfg.get('version')}, home = {home}"] + outside)
            outside = []
        if cfg.get("home_exists") is False:
            a.add("venv-base-missing", f"the Python that venv {root} was made from ({home}) no longer exists",
                  [f"{cfg.get('path')}: home = {home}"])
    if outside:
        a.add("interpreter-installation-mismatch",
              f"Python {a.interp.get('version')} runs from {a.interp.get('real_executable')} with the prefix and stdlib "
              f"of {a.interp.get('base_prefix')}",
              outside + [f"sys.prefix = {a.interp.get('prefix')}", f"stdlib = {(a.interp.get('sysconfig_paths') or {}).get('stdlib')}"])


def _home_matches_base(home: str, base_prefix: str, interp: dict) -> bool:
    """Does pyvenv.cfg's `home` (a bin dir) belong to the running installation?"""
    home = posixpath.normpath(home)
    candidates = {posixpath.join(base_prefix, "bin"), posixpath.normpath(base_prefix)}
    for key in ("base_executable", "real_executable"):
        exe = interp.get(key)
        if exe:
            candidates.add(posixpath.dirname(exe))
    if home in candidates:
        return True
    # /usr/bin and /bin are the same installation on merged-/usr systems.
    strip = lambda p: p[4:] if p.startswith("/usr/") else p
    return strip(home) in {strip(c) for c in candidates}


def _check_site_order(a: _Analysis) -> None:
    base = a.site_entries("base_site")
    venvs = a.site_entries("venv_site", "runtime_venv_site")
    if not base:
        return
    first_base = min(base, key=lambda e: e["index"])
    for v in venvs:
        if v["index"] > first_base["index"]:
            a.add("venv-site-after-base-site",
                  f"venv site-packages {v['path']} (sys.path[{v['index']}]) comes after base site-packages "
                  f"{first_base['path']} (sys.path[{first_base['index']}]): packages in the base installation win",
                  [f"sys.path[{first_base['index']}] = {first_base['path']} ({first_base['origin']['kind']})",
                   f"sys.path[{v['index']}] = {v['path']} ({v['origin']['kind']})"])


def _check_base_visible(a: _Analysis) -> None:
    base = [e for e in a.site_entries("base_site") if e.get("exists")]
    runtime_venvs = a.site_entries("runtime_venv_site")
    venv_meant = bool(a.interp.get("in_venv")) or bool(runtime_venvs)
    if not base or not venv_meant:
        return
    dists = _section(a.report, "distributions") or []
    base_idx = {e["index"] for e in base}
    in_base = [d for d in dists if isinstance(d, dict) and d.get("location_index") in base_idx]
    asked = _asked_for_system_site(a.interp)
    if in_base:
        names = ", ".join(sorted({f"{d.get('name')} {d.get('version')}" for d in in_base})[:12])
        a.add("base-site-visible",
              f"{len(in_base)} distributions from the base installation are importable: {names}"
              + (" ..." if len(in_base) > 12 else "")
              + (" (as configured: include-system-site-packages = true)" if asked else ""),
              [f"sys.path[{e['index']}] = {e['path']}" for e in base],
              severity="info" if asked else None)
    mods = (_section(a.report, "modules") or {}).get("top_level") or []
    # Modules a .pth import line loads at start-up (setuptools' distutils
    # hack, editable finders) are site machinery, not the app's imports.
    startup = _pth_imported_names(a.report)
    imported = [m for m in mods if m.get("name") not in startup
                and any(_under(m.get("file"), e.get("abs_path") or e.get("path")) for e in base)]
    if imported:
        a.add("base-site-imported",
              "imported from the base installation instead of the venv: "
              + ", ".join(f"{m['name']} ({m['file']})" for m in imported[:10]),
              [m["file"] for m in imported], severity="info" if asked else None)


def _pth_imported_names(report: Report) -> set:
    """Every identifier mentioned by a ``.pth`` import line (what start-up may have imported)."""
    names: set = set()
    for pth in (_section(report, "sys_path") or {}).get("pth_files") or []:
        for line in pth.get("lines") or []:
            if line.get("kind") == "import":
                word = []
                for ch in str(line.get("text") or "") + " ":
                    if ch.isalnum() or ch == "_":
                        word.append(ch)
                    elif word:
                        names.add("".join(word))
                        word = []
    return names


def _check_prefix(a: _Analysis) -> None:
    if a.interp.get("has_real_prefix"):
        a.add("prefix-rewritten",
              f"sys.real_prefix exists ({a.interp.get('real_prefix')}): activate_this.py rewrote sys.prefix to {a.interp.get('prefix')}",
              [f"sys.prefix = {a.interp.get('prefix')}", f"sys.real_prefix = {a.interp.get('real_prefix')}"])
    home = a.interp.get("home") or {}
    if a.server in ("mod_wsgi", "uwsgi") and not a.interp.get("in_venv") and not home.get("initialised_with") \
            and not home.get("env_PYTHONHOME") and not a.interp.get("pyvenv_cfg"):
        a.add("prefix-from-path-search",
              f"no python-home was given to the {a.server} interpreter: it derived prefix {a.interp.get('prefix')} "
              f"from its own search (PATH / build defaults)",
              [f"sys.executable = {a.interp.get('executable')}", f"real executable = {a.interp.get('real_executable')}"])
    if not a.interp.get("in_venv") and not a.site_entries("runtime_venv_site"):
        a.add("no-venv", f"running the base installation at {a.interp.get('prefix')} without any venv",
              [f"sys.prefix == sys.base_prefix == {a.interp.get('prefix')}"],
              severity="warning" if _in_server(a.report) else "info")


def _check_env(a: _Analysis) -> None:
    env = ((_section(a.report, "environment") or {}).get("variables")) or {}
    flags = a.interp.get("flags") or {}
    if flags.get("ignore_environment"):
        return
    if env.get("PYTHONHOME") and _in_server(a.report):
        a.add("pythonhome-from-env", f"PYTHONHOME={env['PYTHONHOME']} is set in the server's environment",
              [f"PYTHONHOME={env['PYTHONHOME']}"])
    if env.get("PYTHONPATH") and _in_server(a.report):
        a.add("pythonpath-from-env", f"PYTHONPATH={env['PYTHONPATH']} is set in the server's environment",
              [f"PYTHONPATH={env['PYTHONPATH']}"])


def _check_user_site(a: _Analysis) -> None:
    user = a.interp.get("user_site") or {}
    user_entries = a.site_entries("user_site")
    if user.get("ENABLE_USER_SITE") and user_entries:
        a.add("user-site-active",
              f"user site-packages {user_entries[0]['path']} is on sys.path (HOME={user.get('HOME')})",
              ["site.ENABLE_USER_SITE = True", f"sys.path[{user_entries[0]['index']}] = {user_entries[0]['path']}"],
              severity="warning" if _in_server(a.report) else "info")


def _shown(path: object) -> str:
    # An empty entry means the current directory; printed bare it is invisible.
    return "'' (the current directory)" if path == "" else str(path)


def _check_entries(a: _Analysis) -> None:
    for e in a.entries:
        kind = (e.get("origin") or {}).get("kind")
        if e.get("exists") is False:
            if kind in ("stdlib_zip", "editable_finder"):
                # python3X.zip is on every sys.path and almost never exists; an
                # editable finder's placeholder is not a directory by design.
                continue
            a.add("sys-path-missing", f"sys.path[{e['index']}] = {_shown(e['path'])} does not exist",
                  [f"origin: {(e.get('origin') or {}).get('detail')}"])
        elif e.get("readable") is False:
            a.add("sys-path-unreadable", f"sys.path[{e['index']}] = {_shown(e['path'])} exists but is not readable by this process",
                  [e.get("error") or "os.access(R_OK|X_OK) is false"])
        if e.get("duplicate_of") is not None:
            first = e["duplicate_of"]
            a.add("sys-path-duplicate", f"sys.path[{e['index']}] = {_shown(e['path'])} repeats sys.path[{first}]",
                  [f"real path {e.get('real_path')}"])


def _check_scheme(a: _Analysis) -> None:
    paths = a.interp.get("sysconfig_paths") or {}
    on_path = {posixpath.normpath(e.get("abs_path") or e.get("path") or "") for e in a.entries}
    on_path |= {posixpath.normpath(e.get("real_path") or "") for e in a.entries}
    flags = a.interp.get("flags") or {}
    # A site-packages that does not exist yet (Debian's /usr/local/... before
    # the first pip install) is added by site.py once it does: not a problem.
    candidates = {posixpath.normpath(p) for p in a.interp.get("site_packages") or [] if isinstance(p, str)}
    for key in ("purelib", "platlib"):
        target = paths.get(key)
        if target and posixpath.normpath(target) in candidates and not flags.get("no_site") \
                and (a.interp.get("install_dirs_exist") or {}).get(key) is False:
            continue
        if target and posixpath.normpath(target) not in on_path:
            a.add("install-scheme-not-on-path",
                  f"`pip install` with this interpreter writes to {key} = {target}, which is not on sys.path",
                  [f"sysconfig {key} = {target}", f"scheme = {a.interp.get('sysconfig_scheme')}"])
            break


def _check_pth(a: _Analysis) -> None:
    sp = _section(a.report, "sys_path") or {}
    by_dir: Dict[str, dict] = {}
    for e in a.entries:
        by_dir[posixpath.normpath(e.get("abs_path") or e.get("path") or "")] = e
    for pth in sp.get("pth_files") or []:
        name = posixpath.basename(pth.get("file", ""))
        lines = pth.get("lines") or []
        # setuptools' editable finders are a known mechanism, reported with their dist.
        imports = [l for l in lines if l.get("kind") == "import"
                   and not (l.get("editable_finder") or {}).get("mapping")]
        if imports and name not in _KNOWN_PTH_IMPORTS:
            a.add("pth-executable-line",
                  f"{pth['file']} runs code at start-up: {imports[0]['text'][:120]}",
                  [f"{pth['file']}:{l['line']}: {l['text'][:200]}" for l in imports[:5]],
                  severity="info")
        unprocessed = [l for l in lines if l.get("kind") == "path" and l.get("exists") and not l.get("on_sys_path")]
        entry = by_dir.get(posixpath.normpath(pth.get("dir", "")))
        entry_kind = ((entry or {}).get("origin") or {}).get("kind")
        if unprocessed and entry_kind not in ("venv_site", "base_site", "user_site"):
            a.add("pth-not-processed",
                  f"{pth['file']} was never processed: its directory was put on sys.path by hand "
                  f"({(entry or {}).get('origin', {}).get('detail', 'unknown origin')}), so {unprocessed[0]['target']} is not importable",
                  [f"{pth['file']}:{l['line']}: {l['text']} -> {l['target']} (not on sys.path)" for l in unprocessed[:5]])


def _check_distributions(a: _Analysis) -> None:
    for d in _section(a.report, "distributions") or []:
        if not isinstance(d, dict):
            continue
        missing = d.get("missing_files") or []
        tops = d.get("top_level") or []
        if missing and tops and set(tops) <= {m.split(".")[0] for m in missing}:
            a.add("distribution-files-missing",
                  f"{d.get('name')} {d.get('version')} in {d.get('location')}: metadata present but its files are gone "
                  f"({', '.join(missing[:5])})",
                  [f"{d.get('metadata_path')}/RECORD lists {', '.join(missing[:10])}"])


def _check_shadowed(a: _Analysis) -> None:
    shadowed = _section(a.report, "shadowed") or {}
    covered = set()
    dists = _section(a.report, "distributions") or []
    kinds = {e.get("index"): (e.get("origin") or {}).get("kind") for e in a.entries}
    for item in shadowed.get("distributions") or []:
        win, losers = item.get("winner") or {}, item.get("losers") or []
        lose_text = "; ".join(f"{l.get('version')} at sys.path[{l.get('location_index')}] {l.get('location')}" for l in losers)
        # A venv made with --system-site-packages overriding a base package is what it is for.
        overrides_base = kinds.get(win.get("location_index")) == "venv_site" and _asked_for_system_site(a.interp) \
            and all(kinds.get(l.get("location_index")) == "base_site" for l in losers)
        a.add("shadowed-distribution",
              f"{item.get('name')}: {win.get('version')} at sys.path[{win.get('location_index')}] {win.get('location')} wins over {lose_text}"
              + (" (the venv overrides the base installation, as configured)" if overrides_base else ""),
              [f"{win.get('metadata_path')}"] + [l.get("metadata_path") for l in losers],
              severity="warning" if item.get("versions_differ") and not overrides_base else "info",
              data={"name": item.get("name"), "winner": win.get("version"), "losers": [l.get("version") for l in losers]})
        for d in dists:
            if isinstance(d, dict) and _canon(d.get("name")) == _canon(item.get("name")):
                covered.update(d.get("top_level") or [])
    for item in shadowed.get("modules") or []:
        name = item.get("name")
        kind = item.get("kind")
        winner = item.get("winner") or {}
        losers = item.get("losers") or []
        if kind == "namespace_split":
            a.add("namespace-split",
                  f"namespace package {name} is split across {len(item.get('portions') or [])} sys.path entries",
                  [p.get("path") for p in item.get("portions") or []])
            continue
        if kind == "namespace_poisoned":
            a.add("namespace-poisoned",
                  f"{winner.get('path')} is a regular package and hides the namespace portions of {name}",
                  [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers])
            continue
        if item.get("stdlib"):
            if item.get("winner_is_stdlib"):
                a.add("stdlib-backport-ignored",
                      f"{name} in {', '.join(l.get('entry') for l in losers)} is never used: the standard library's {name} wins",
                      [f"wins: {winner.get('path')}"] + [f"ignored: {l.get('path')}" for l in losers])
            else:
                loaded = item.get("loaded_file")
                a.add("stdlib-shadowed",
                      f"standard-library module {name} is shadowed by {winner.get('path')} (sys.path[{winner.get('index')}])"
                      + (f"; currently loaded from {loaded}" if loaded else ""),
                      [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers])
            continue
        if name in covered:
            continue
        # A file no distribution installed hiding an installed package (a
        # scratch requests.py) breaks imports: a warning.  Two unowned copies,
        # or two distributions providing one name, stay info.
        stray = name not in _PACKAGING_LEFTOVERS and not _owned(name, winner.get("index"), dists) \
            and any(_owned(name, l.get("index"), dists) for l in losers)
        hidden_by = [_owner(name, l.get("index"), dists) for l in losers]
        a.add("shadowed-module",
              f"{name}: {winner.get('path')} (sys.path[{winner.get('index')}]) hides "
              + ", ".join(f"{l.get('path')} (sys.path[{l.get('index')}])" for l in losers)
              + (f"; the hidden copy is the installed distribution {', '.join(h for h in hidden_by if h)}" if stray else ""),
              [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers],
              severity="warning" if stray else None)


# Top-level names badly packaged distributions install by mistake: an app's
# own tests/ hiding one of those hides nothing anybody imports.
_PACKAGING_LEFTOVERS = frozenset(("tests", "test", "testing", "docs", "doc", "examples", "example",
                                  "benchmarks", "scripts", "build", "src"))


def _owner(name: Optional[str], index: Any, dists: List[dict]) -> Optional[str]:
    """"<dist> <version>" of the distribution at sys.path[index] that installed top-level *name*."""
    for d in dists:
        if isinstance(d, dict) and index is not None and d.get("location_index") == index \
                and name in (d.get("top_level") or []):
            return f"{d.get('name')} {d.get('version')}"
    return None


def _owned(name: Optional[str], index: Any, dists: List[dict]) -> bool:
    return _owner(name, index, dists) is not None


def _check_pth_targets(a: _Analysis) -> None:
    """A .pth path line naming a directory that does not exist: site.py skips it without a word."""
    for pth in (_section(a.report, "sys_path") or {}).get("pth_files") or []:
        missing = [l for l in pth.get("lines") or [] if l.get("kind") == "path" and l.get("exists") is False]
        if missing:
            a.add("pth-path-missing",
                  f"{pth.get('file')} line {missing[0].get('line')} names {missing[0].get('target')}, which does not exist: "
                  "site.py skips it silently, so nothing there is importable",
                  [f"{pth.get('file')}:{l.get('line')}: {l.get('text')} -> {l.get('target')} (missing)" for l in missing[:5]])


def _check_duplicate_metadata(a: _Analysis) -> None:
    """Two metadata directories of one distribution in one directory (an install over another, --target)."""
    groups: Dict[tuple, List[dict]] = {}
    for d in _section(a.report, "distributions") or []:
        if d.get("format") in ("egg-link",) or not d.get("name"):
            continue
        groups.setdefault((posixpath.normpath(str(d.get("location") or "")), _canon(d.get("name"))), []).append(d)
    for (location, _), copies in sorted(groups.items()):
        if len(copies) < 2:
            continue
        versions = ", ".join(f"{c.get('version')} ({posixpath.basename(str(c.get('metadata_path')))})" for c in copies)
        # Same version twice (Debian ships .egg-info beside .dist-info): untidy, not wrong.
        differ = len({c.get("version") for c in copies}) > 1
        a.add("duplicate-distribution-metadata",
              f"{copies[0].get('name')} has {len(copies)} metadata directories in {location}: {versions}; "
              "importlib.metadata and pip report only one of them, the files on disk may be from either",
              [str(c.get("metadata_path")) for c in copies], severity=None if differ else "info",
              data={"name": copies[0].get("name"), "versions": [c.get("version") for c in copies]})


# .pth files whose tool shares another Python's site-packages by design: pipx
# puts its one pure-Python pip (made with pipx's own Python) into every venv.
_SHARED_ON_PURPOSE = ("pipx_shared.pth",)


def _check_other_python_site(a: _Analysis) -> None:
    """sys.path holds the site-packages of another Python X.Y (PYTHONPATH into another venv, a .pth...)."""
    for e in a.entries:
        other = e.get("other_python_site")
        origin = e.get("origin") or {}
        if not isinstance(other, dict) or origin.get("kind") == "runtime_venv_site":
            continue  # another venv added at run time: venv-python-mismatch says it
        if posixpath.basename(str(origin.get("pth_file") or "")) in _SHARED_ON_PURPOSE:
            continue
        made = (f"the venv {other['venv_root']} made by Python {other.get('venv_version') or other.get('python')}"
                if other.get("venv_root") else f"a Python {other.get('python')} installation")
        a.add("site-packages-other-python",
              f"sys.path[{e.get('index')}] = {e.get('path')} is the site-packages of {made}, added by "
              f"{origin.get('detail') or origin.get('kind')}; this process runs Python {a.interp.get('version')}",
              [f"sys.path[{e.get('index')}] = {e.get('path')} ({origin.get('kind')})",
               f"running: Python {a.interp.get('version')} ({a.interp.get('real_executable')})"]
              + ([f"{other['venv_root']}/pyvenv.cfg: version = {other.get('venv_version')}, home = {other.get('venv_home')}"]
                 if other.get("venv_root") else []))


def _check_probe_stdlib(a: _Analysis) -> None:
    """Standard-library modules the probe found on its own path coming from the app's files.

    They explain sections the collector lost (the ``shadowed`` table itself
    may be one), and catch names ``sys.stdlib_module_names`` leaves out
    (``_xxsubinterpreters``, ``_sysconfigdata_*``).
    """
    probe = a.report.get("probe") if isinstance(a.report.get("probe"), dict) else {}
    items = probe.get("stdlib_shadowed")
    if not isinstance(items, list):
        return
    named = [f.get("message") or "" for f in a.findings if f.get("code") == "stdlib-shadowed"]
    for item in items:
        if not isinstance(item, dict) or not item.get("file"):
            continue
        path = str(item["file"])
        # A shadowing package is named by its directory in the shadowed table's finding.
        package = posixpath.dirname(path) + " (" if posixpath.basename(path).startswith("__init__.") else None
        if any(path in message or (package and package in message) for message in named):
            continue
        a.add("stdlib-shadowed",
              f"standard-library module {item.get('module')} is shadowed by {path}, found by the probe, "
              "which needs it", [f"wins: {path}"])


def _third_party_file(path: Optional[str], interp: dict) -> bool:
    """Is *path* outside the standard library (site-packages, an app dir...)?

    pyenv and python.org builds keep site-packages *inside* the stdlib
    directory, so "under stdlib" alone is not enough.
    """
    if not path:
        return False
    if "/site-packages/" in path or "/dist-packages/" in path:
        return True
    paths = interp.get("sysconfig_paths") or {}
    roots = [paths.get("stdlib"), paths.get("platstdlib")]
    return not ("/lib-dynload/" in path or any(_under(path, r) for r in roots if r))


def _canon(name: Optional[str]) -> str:
    return "".join("-" if c in "_." else c for c in (name or "").lower())


def _check_modules(a: _Analysis) -> None:
    mods = _section(a.report, "modules") or {}
    stale = [m for m in mods.get("top_level") or [] if m.get("matches_sys_path") is False]
    for m in stale:
        a.add("stale-module", f"{m['name']} was loaded from {m['file']} but sys.path now resolves it to {m.get('resolves_to')}",
              [f"loaded: {m['file']}", f"resolves to: {m.get('resolves_to')}"])
    if (a.report.get("collector") or {}).get("in_process", True):
        changed = [m for m in mods.get("top_level") or [] if m.get("modified_after_start")]
        if changed:
            a.add("source-modified-after-start",
                  f"{len(changed)} loaded modules changed on disk after the process started: "
                  + ", ".join(m["name"] for m in changed[:8]),
                  [m["file"] for m in changed[:20]])
    ident = _section(a.report, "identity") or {}
    probe = a.report.get("probe") if isinstance(a.report.get("probe"), dict) else {}
    own_gil = (ident.get("interpreter_config") or {}).get("gil") == "own" if isinstance(
        ident.get("interpreter_config"), dict) else False
    if ident.get("main_interpreter") is False and not own_gil:
        third = [x for x in mods.get("extensions") or [] if _third_party_file(x.get("file"), a.interp)]
        if probe.get("mount") in _PROBE_OWN_FLASK:
            # The standalone probe is a Flask app: MarkupSafe's speedups are its own, not the app's.
            third = [x for x in third if not str(x.get("module", "")).startswith(_PROBE_DEPENDENCY_EXTENSIONS)]
        if third:
            a.add("c-extension-in-subinterpreter",
                  f"{len(third)} third-party C extensions are loaded in sub-interpreter {ident.get('interpreter_id')}: "
                  + ", ".join(x["module"] for x in third[:8]),
                  [x["file"] for x in third[:20]])
    scripts = [s for s in mods.get("wsgi_scripts") or [] if isinstance(s, dict)]
    # The probe's own one-line script is not an app: leave it out when the
    # probe says which scripts are its own.
    own = probe.get("own_scripts")
    if isinstance(own, list):
        scripts = [s for s in scripts if s.get("file") not in own and s.get("module") not in own]
        alone = not scripts
    else:
        alone = len(scripts) <= 1
    if len(scripts) > 1:
        a.add("several-apps-one-interpreter",
              f"{len(scripts)} WSGI scripts share interpreter {ident.get('interpreter_id')}: "
              + ", ".join(s.get("file") or s.get("module") for s in scripts),
              [s.get("file") or s.get("module") for s in scripts])
    server = ident.get("server") or {}
    if a.server == "mod_wsgi" and probe.get("mount") == "wsgi-script" and alone:
        a.add("probe-alone",
              f"no other WSGI script is loaded in this interpreter (process group {server.get('process_group')!r}, "
              f"application group {server.get('application_group')!r}): this is probably not your app's interpreter",
              [f"WSGI scripts loaded here: {', '.join(s.get('file') or '?' for s in scripts) or 'none'}"])
    elif a.server == "uwsgi" and probe.get("mount") == "wsgi-script" and alone and not _uwsgi_single_interpreter(server):
        # Without single-interpreter every uWSGI mount gets an interpreter of its own,
        # so a probe mounted beside the app never shares the app's.
        a.add("probe-alone",
              f"the probe is its own uWSGI mount in interpreter {ident.get('interpreter_id')} "
              f"(single-interpreter is off): each mount has its own interpreter, so this is not your app's",
              [f"WSGI scripts loaded here: {', '.join(s.get('file') or '?' for s in scripts) or 'none'}",
               "uWSGI option single-interpreter: not set"])


def _check_interpreter_config(a: _Analysis) -> None:
    """Extensions this interpreter will refuse (own GIL, free-threaded): the 500 before it happens."""
    ident = _section(a.report, "identity") or {}
    support = ident.get("extension_support") if isinstance(ident.get("extension_support"), dict) else {}
    refused = [m for m in support.get("modules") or [] if isinstance(m, dict) and m.get("refused")]
    if not refused:
        return
    config = ident.get("interpreter_config") if isinstance(ident.get("interpreter_config"), dict) else {}
    server = ident.get("server") or {}
    where = f"interpreter {ident.get('interpreter_id')}"
    if server.get("kind") == "mod_wsgi":
        where = (f"application group {server.get('application_group')!r} of process group "
                 f"{server.get('process_group')!r}" if server.get("process_group") else
                 f"application group {server.get('application_group')!r} (embedded mode)")
    mode = {"own": "has its own GIL and checks multi-interpreter support", "none": "runs free-threaded"}.get(
        config.get("gil") or "", "checks the extensions it loads")
    by_package: Dict[str, List[dict]] = {}
    for m in refused:
        by_package.setdefault(str(m.get("package") or "?"), []).append(m)
    for package, mods in sorted(by_package.items()):
        site = mods[0].get("site_dir")
        a.add("extension-refuses-interpreter",
              f"{package} (installed in {site}) will not import here: {where} {mode}, and "
              + ", ".join(posixpath.basename(str(m.get("file"))) for m in mods[:4])
              + f" {'does' if len(mods) == 1 else 'do'} not declare support ({mods[0].get('refused')})",
              [f"{m.get('file')}: {m.get('init')} init" + (f", loaded as {m['loaded']}" if m.get("loaded") else "")
               for m in mods[:10]] + [f"interpreter config: gil={config.get('gil')}, "
                                      f"check_multi_interp_extensions={config.get('check_multi_interp_extensions')} "
                                      f"({config.get('config_source') or config.get('gil_source')})"])


_PROBE_OWN_FLASK = ("serve",)  # the WSGI-script probe has no Flask since issue 8
_PROBE_DEPENDENCY_EXTENSIONS = ("markupsafe.",)


def _uwsgi_single_interpreter(server: dict) -> bool:
    options = server.get("options") if isinstance(server.get("options"), dict) else {}
    value = options.get("single-interpreter")
    values = value if isinstance(value, list) else [value]
    return any(str(v).lower() in ("true", "1", "yes", "on", "") for v in values if v is not None)


CHECKS: List[Callable[[_Analysis], None]] = [
    _check_venv_version,
    _check_site_order,
    _check_base_visible,
    _check_prefix,
    _check_env,
    _check_user_site,
    _check_entries,
    _check_scheme,
    _check_pth,
    _check_distributions,
    _check_pth_targets,
    _check_duplicate_metadata,
    _check_other_python_site,
    _check_shadowed,
    _check_probe_stdlib,
    _check_modules,
    _check_interpreter_config,
]


# The report sections each check cannot do without.  A partial document (a
# probe sub-resource, a hand-cut report) or a section the collector lost to an
# error would otherwise read as "no venv", "nothing else loaded here"...
_NEEDS = {
    "_check_venv_version": ("interpreter", "sys_path"),
    "_check_site_order": ("sys_path",),
    "_check_base_visible": ("interpreter", "sys_path"),
    "_check_prefix": ("interpreter", "sys_path"),
    "_check_env": ("environment",),
    "_check_user_site": ("interpreter", "sys_path"),
    "_check_entries": ("sys_path",),
    "_check_scheme": ("interpreter", "sys_path"),  # "not on sys.path" needs the path
    "_check_pth": ("sys_path",),
    "_check_distributions": ("distributions",),
    "_check_shadowed": ("shadowed",),
    "_check_modules": ("identity", "modules"),
    "_check_interpreter_config": ("identity",),
}


def analyze(report: Report) -> List[Finding]:
    """Return the findings for *report*, most severe first.

    A check that trips over malformed data records an ``analysis-error``
    finding instead of failing the whole analysis.
    """
    a = _Analysis(report)
    for check in CHECKS:
        needs = _NEEDS.get(check.__name__, ())
        if any(_section(report, name) is None for name in needs):
            continue  # never derive a finding from a section that is absent (or lost to an error)
        try:
            check(a)
        except Exception as exc:  # malformed or partial report data
            a.findings.append({
                "code": "analysis-error", "severity": "info", "title": "A check could not run on this report",
                "message": f"{check.__name__.lstrip('_')}: {type(exc).__name__}: {exc}", "evidence": [], "fix": "",
            })
    return sort_findings(a.findings)


def summarize(findings: List[Finding]) -> Dict[str, int]:
    """Counts of findings by severity (every severity present, possibly 0)."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.get("severity", "info")] = counts.get(f.get("severity", "info"), 0) + 1
    return counts


__all__ = ["analyze", "summarize", "CHECKS"]
