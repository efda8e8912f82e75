"""sys.path and site-packages: missing or unreadable entries, the order of venv and base site-packages,
.pth files, the install scheme, another Python's site-packages.

The rules (``RULES``) and their live checks, which are pure functions of the report: they never read
the machine they run on (so a saved report gives the same findings) and also run inside the inspected
interpreter (see :mod:`venvprobe.rules`: standard library only, Python 3.8 syntax, no I/O).
"""

from __future__ import annotations

import posixpath

from venvprobe.rules.base import Analysis, Rule, asked_for_system_site, live_check, section, under

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (this module also runs inside the target)
    from typing import Dict

    from venvprobe.rules.base import Report


# Site-packages files that legitimately run code at start-up.
_KNOWN_PTH_IMPORTS = ("distutils-precedence.pth", "_virtualenv.pth")


@live_check("sys_path")
def _check_site_order(a: Analysis) -> None:
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


@live_check("interpreter", "sys_path")
def _check_base_visible(a: Analysis) -> None:
    base = [e for e in a.site_entries("base_site") if e.get("exists")]
    runtime_venvs = a.site_entries("runtime_venv_site")
    venv_meant = bool(a.interp.get("in_venv")) or bool(runtime_venvs)
    if not base or not venv_meant:
        return
    dists = a.section("distributions") or []
    base_idx = {e["index"] for e in base}
    in_base = [d for d in dists if isinstance(d, dict) and d.get("location_index") in base_idx]
    asked = asked_for_system_site(a.interp)
    if in_base:
        names = ", ".join(sorted({f"{d.get('name')} {d.get('version')}" for d in in_base})[:12])
        a.add("base-site-visible",
              f"{len(in_base)} distributions from the base installation are importable: {names}"
              + (" ..." if len(in_base) > 12 else "")
              + (" (as configured: include-system-site-packages = true)" if asked else ""),
              [f"sys.path[{e['index']}] = {e['path']}" for e in base],
              severity="info" if asked else None)
    mods = (a.section("modules") or {}).get("top_level") or []
    # Modules a .pth import line loads at start-up (setuptools' distutils
    # hack, editable finders) are site machinery, not the app's imports.
    startup = _pth_imported_names(a.report)
    imported = [m for m in mods if m.get("name") not in startup
                and any(under(m.get("file"), e.get("abs_path") or e.get("path")) for e in base)]
    if imported:
        a.add("base-site-imported",
              "imported from the base installation instead of the venv: "
              + ", ".join(f"{m['name']} ({m['file']})" for m in imported[:10]),
              [m["file"] for m in imported], severity="info" if asked else None)


def _pth_imported_names(report: Report) -> set:
    """Every identifier mentioned by a ``.pth`` import line (what start-up may have imported)."""
    names: set = set()
    for pth in (section(report, "sys_path") or {}).get("pth_files") or []:
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


def _shown(path: object) -> str:
    # An empty entry means the current directory; printed bare it is invisible.
    return "'' (the current directory)" if path == "" else str(path)


@live_check("sys_path")
def _check_entries(a: Analysis) -> None:
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


@live_check("interpreter", "sys_path")
def _check_scheme(a: Analysis) -> None:
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


@live_check("sys_path")
def _check_pth(a: Analysis) -> None:
    sp = a.section("sys_path") or {}
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


@live_check()
def _check_pth_targets(a: Analysis) -> None:
    """A .pth path line naming a directory that does not exist: site.py skips it without a word."""
    for pth in (a.section("sys_path") or {}).get("pth_files") or []:
        missing = [l for l in pth.get("lines") or [] if l.get("kind") == "path" and l.get("exists") is False]
        if missing:
            a.add("pth-path-missing",
                  f"{pth.get('file')} line {missing[0].get('line')} names {missing[0].get('target')}, which does not exist: "
                  "site.py skips it silently, so nothing there is importable",
                  [f"{pth.get('file')}:{l.get('line')}: {l.get('text')} -> {l.get('target')} (missing)" for l in missing[:5]])


# .pth files whose tool shares another Python's site-packages by design: pipx
# puts its one pure-Python pip (made with pipx's own Python) into every venv.
_SHARED_ON_PURPOSE = ("pipx_shared.pth",)


@live_check()
def _check_other_python_site(a: Analysis) -> None:
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


RULES = (
    Rule("venv-site-after-base-site", "warning",
         "The venv's site-packages comes after the base installation's, so base packages win",
         "Make the venv the interpreter's home instead of appending its site-packages.",
         fixes={
             "mod_wsgi": "Use python-home=<venv root> on WSGIDaemonProcess (or WSGIPythonHome in embedded mode) "
                         "instead of site.addsitedir() in the WSGI script; if you must activate in the script, point "
                         "python-home at an empty venv so no base packages are visible.",
             "uwsgi": "Use home = <venv root> (alias virtualenv/venv) instead of pythonpath = <site-packages>.",
             "gunicorn": "Start gunicorn with <venv>/bin/gunicorn instead of adding site-packages to sys.path.",
         },
         checks=(_check_site_order,)),
    Rule("base-site-visible", "warning",
         "The base installation's site-packages is on sys.path while a venv is meant to be used",
         "Use a venv without system site packages as the interpreter home (a virgin baseline).",
         fixes={
             "mod_wsgi": "Set python-home (daemon mode) or WSGIPythonHome (embedded) to the app's venv, or to an "
                         "empty venv if the WSGI script activates the app's venv itself.",
             "uwsgi": "Set home = <venv root> for a venv created without --system-site-packages.",
             "gunicorn": "Create the venv without --system-site-packages and run gunicorn from it.",
         },
         checks=(_check_base_visible,), offline=("check-apache", "check-uwsgi")),
    Rule("base-site-imported", "warning",
         "Modules were imported from the base installation's site-packages, not the venv",
         "Install these packages into the venv (and pin them), then hide the base site-packages.",
         fixes={
             "mod_wsgi": "Install the packages into the venv named by python-home, and point python-home at a venv "
                         "created without --system-site-packages.",
         },
         checks=(_check_base_visible,)),
    Rule("sys-path-missing", "warning",
         "A sys.path entry does not exist",
         "Remove the entry or create the directory; a typo here silently hides a package.",
         fixes={
             "mod_wsgi": "Check python-path= / WSGIPythonPath and sys.path edits in the WSGI script.",
         },
         checks=(_check_entries,), offline=("check-apache", "check-uwsgi")),
    Rule("sys-path-unreadable", "error",
         "A sys.path entry exists but this process cannot read it",
         "Give the server user read and traverse permission on every component of the path.",
         fixes={
             "mod_wsgi": "The daemon runs as the WSGIDaemonProcess user= (default: Apache's user, e.g. www-data): "
                         "chmod o+rx the directories, or move the venv/app out of a private home directory.",
         },
         checks=(_check_entries,), offline=("check-apache", "check-uwsgi", "check-home")),
    Rule("sys-path-duplicate", "info",
         "The same directory is on sys.path more than once",
         "Remove the repeated entry (often added twice by python-path and the WSGI script).",
         checks=(_check_entries,)),
    Rule("install-scheme-not-on-path", "warning",
         "pip would install into a directory that is not on sys.path",
         "Install with the interpreter the app runs (<venv>/bin/python -m pip install ...), or fix the home so "
         "sysconfig's purelib/platlib are on sys.path.",
         checks=(_check_scheme,)),
    Rule("pth-executable-line", "info",
         "A .pth file runs code at every interpreter start",
         "Review the import line: it runs in every process that uses this site-packages.",
         checks=(_check_pth,)),
    Rule("pth-not-processed", "warning",
         ".pth files sit in a directory added to sys.path by hand, so they were never processed",
         "Add the directory with site.addsitedir() (or as the venv home) so its .pth files are read.",
         fixes={
             "mod_wsgi": "python-path= and WSGIPythonPath use addsitedir; sys.path.insert() in the WSGI script and "
                         "PYTHONPATH do not. Prefer python-home=<venv>.",
             "uwsgi": "uWSGI's pythonpath does not read .pth files: use home = <venv root>.",
         },
         checks=(_check_pth,)),
    Rule("pth-path-missing", "warning",
         "A .pth file names a directory that does not exist, so it adds nothing",
         "Fix the path in the .pth file (a typo or a moved deploy directory) or remove the line; site.py skips "
         "missing directories without any message.",
         checks=(_check_pth_targets,)),
    Rule("site-packages-other-python", "error",
         "sys.path holds the site-packages of another Python version",
         "Remove it from sys.path (PYTHONPATH, .pth file, python-path) and install the packages into this "
         "interpreter's own environment: bytecode and C extensions are built for one Python X.Y.",
         fixes={
             "mod_wsgi": "Remove the other venv's site-packages from python-path= / WSGIPythonPath and PYTHONPATH in "
                         "Apache's envvars; use python-home=<venv made by the Python mod_wsgi embeds>.",
             "uwsgi": "Remove it from pythonpath = and PYTHONPATH; use home = <venv made by the plugin's Python>.",
             "gunicorn": "Unset PYTHONPATH (or fix --pythonpath) and run gunicorn from the venv the app was installed into.",
         },
         checks=(_check_other_python_site,)),
)
