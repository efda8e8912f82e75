"""``check-apache``'s findings: what a resolved configuration will do, as rule codes of :mod:`venvprobe.rules`.

Emits through the findings sink as ``check-apache``; the rules themselves are declared in
:mod:`venvprobe.rules.mod_wsgi` and the other rule modules.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from venvprobe.offline.apache.model import App, ApacheConfig
from venvprobe.offline.apache.reader import _walk
from venvprobe.rules.registry import Findings
from venvprobe.safeio import open_regular


def analyse(cfg: ApacheConfig, *, embedder: Any = None, check_homes: bool = True, do_predict: bool = True,
            confirm: bool = True) -> Tuple[List[dict], Dict[Tuple[str, str], Any]]:
    """Findings for *cfg* (rule codes) and the per-home check results."""
    from venvprobe.offline.access import UnknownUser, User, check_access, lookup_user
    from venvprobe.offline.home import check_home, find_venv_root, site_packages_dirs, subinterpreter_unsafe

    sink = Findings("mod_wsgi", "check-apache")

    for node, section in cfg.misplaced:
        sink.add("global-only-directive-in-virtualhost",
                 f"{node.name} at {node.where} is inside a <{section}> section: Apache refuses to start "
                 f"(\"{node.name} cannot occur within <{section}> section\")",
                 [f"{node.where}: {node.name} {' '.join(node.args)}"])
    for var, code in (("PYTHONHOME", "pythonhome-from-env"), ("PYTHONPATH", "pythonpath-from-env")):
        if cfg.env.get(var):
            sink.add(code, f"{cfg.envvars} exports {var}={cfg.env[var]}: every mod_wsgi interpreter inherits it"
                     + (" and it overrides python-home / WSGIPythonHome" if var == "PYTHONHOME" else ""),
                     [f"{cfg.envvars}: export {var}={cfg.env[var]}"], severity="error" if var == "PYTHONHOME" else None)
    uses_wsgi = bool(cfg.apps or cfg.groups or cfg.globals)
    if cfg.full_config and uses_wsgi and not cfg.wsgi_loaded:
        sink.add("mod-wsgi-not-loaded", f"{cfg.path} uses WSGI directives but never loads mod_wsgi (LoadModule wsgi_module)",
                 [f"configuration files read: {len(cfg.files)}"])

    # -- delegation --------------------------------------------------------------------
    for g in cfg.groups:
        if not g.apps and not g.referenced:
            embedded = [a for a in cfg.apps if a.mode == "embedded" and (g.vhost is None or a.vhost is g.vhost)]
            msg = f"WSGIDaemonProcess {g.name} ({g.where}) is declared but nothing is delegated to it"
            if embedded:
                msg += ": " + ", ".join(f"{a.url} ({a.script})" for a in embedded) + \
                       " run embedded in Apache's own processes" + \
                       (f" without python-home={g.python_home}" if g.python_home else "")
            sink.add("daemon-group-unused", msg, [f"{g.where}: WSGIDaemonProcess {g.name} " +
                                                  " ".join(f"{k}={v}" for k, v in g.options.items())] +
                     [f"{a.where}: WSGIScriptAlias {a.url} {a.script} (no process-group, no WSGIProcessGroup)" for a in embedded])
    for a in cfg.apps:
        if a.mode == "undefined group":
            sink.add("daemon-group-undefined", f"{a.url} ({a.script}) is delegated to process group {a.process_group!r} "
                     f"but no WSGIDaemonProcess {a.process_group} is declared for {a.vhost.label}",
                     [f"{a.process_group_from}: process group {a.process_group}",
                      "declared groups: " + (", ".join(f"{g.name} ({g.where})" for g in cfg.groups) or "none")])
        elif a.mode == "embedded" and cfg.restrict_embedded:
            sink.add("embedded-mode-disabled", f"{a.url} ({a.script}) is not delegated to a daemon group but "
                     f"WSGIRestrictEmbedded On: every request fails with HTTP 500",
                     [f"{cfg.globals['wsgirestrictembedded'].where}: WSGIRestrictEmbedded On", f"{a.where}: no process group"])

    # -- shared interpreters ---------------------------------------------------------------
    shared: Dict[Tuple[str, str], List[App]] = {}
    for a in cfg.apps:
        if a.mode in ("daemon", "embedded") and not a.is_probe and a.application_group not in (None, "%{RESOURCE}") \
                and not (a.application_group or "").startswith("%{ENV"):
            key = ((a.group.name if a.group else "(embedded)"), a.interpreter_name())
            shared.setdefault(key, []).append(a)
    for (group, interp), apps in shared.items():
        scripts = sorted({a.script for a in apps})
        if len(scripts) > 1:
            sink.add("several-apps-one-interpreter",
                     f"{len(scripts)} applications share the interpreter {interp} of process group {group}: "
                     + ", ".join(f"{a.url} ({a.script})" for a in apps),
                     [f"{a.where}: {a.url} -> application group {a.application_group} ({a.application_group_from or 'default'})"
                      for a in apps], severity="warning")

    for a in cfg.apps:
        if a.is_probe and a.mode in ("daemon", "embedded"):
            mates = [o for o in cfg.apps if o is not a and not o.is_probe and o.mode == a.mode and o.group is a.group
                     and o.interpreter_name() == a.interpreter_name()]
            if not mates:
                sink.add("probe-alone", f"the probe {a.url} ({a.script}) gets its own interpreter {a.interpreter_name()} "
                         f"in process group {a.process_group or '(embedded)'}: it will not report any app's interpreter",
                         [f"{a.where}: application group {a.application_group or '%{RESOURCE} (default: per URL)'}"])

    # -- python-home per group / embedded ----------------------------------------------------
    homes: Dict[Tuple[str, str], Any] = {}
    for g in cfg.groups:
        delegated = [a for a in g.apps]
        if not g.python_home and cfg.python_home and (delegated or g.referenced):
            sink.add("global-python-home-inherited",
                     f"WSGIDaemonProcess {g.name} ({g.where}) has no python-home, so it silently uses WSGIPythonHome "
                     f"{cfg.python_home} ({cfg.globals['wsgipythonhome'].where})",
                     [f"{g.where}: WSGIDaemonProcess {g.name} (no python-home=)"])
        if not g.python_home and not cfg.python_home and delegated:
            sink.add("prefix-from-path-search", f"WSGIDaemonProcess {g.name} ({g.where}) has no python-home: the daemon "
                     f"runs the Python mod_wsgi links with its own packages", [f"{g.where}: no python-home="])
    embedded_apps = [a for a in cfg.apps if a.mode == "embedded"]
    if embedded_apps and not cfg.python_home and not cfg.restrict_embedded:
        sink.add("prefix-from-path-search", "applications run in embedded mode and there is no WSGIPythonHome: "
                 + ", ".join(a.url for a in embedded_apps), [f"{a.where}: {a.url} embedded" for a in embedded_apps])
    targets: List[Tuple[str, str, str]] = []  # (home, user, context)
    for g in cfg.groups:
        home = g.python_home or (cfg.python_home if (g.apps or g.referenced) else None)
        if home:
            targets.append((home, g.options.get("user", cfg.user), f"WSGIDaemonProcess {g.name}: "))
    if cfg.python_home and (embedded_apps or not cfg.groups):
        targets.append((cfg.python_home, cfg.user, "WSGIPythonHome: "))
    user: Optional[User]
    if check_homes:
        for home, user_name, context in targets:
            if (home, user_name) in homes:
                continue
            try:
                user = lookup_user(user_name)
            except UnknownUser:
                sink.add("python-home-inaccessible", f"{context}user {user_name!r} does not exist on this machine",
                         [f"user={user_name}"])
                continue
            result = check_home(home, embedder=embedder, user=user, server="mod_wsgi", do_predict=do_predict,
                                confirm=confirm, context=context)
            homes[(home, user_name)] = result
            sink.extend(result.findings)

    _analyse_interpreters(cfg, embedder, sink, homes)

    # -- python-path, sub-interpreters, scripts --------------------------------------------------
    xy = embedder.major_minor if embedder is not None else None
    for a in cfg.apps:
        if a.mode not in ("daemon", "embedded"):
            continue
        label = f"WSGIDaemonProcess {a.group.name}" if a.group else "WSGIPythonPath"
        try:
            user = lookup_user(a.user)
        except UnknownUser:
            user = None
        for entry in a.python_path:
            root = find_venv_root(entry)
            if re.search(r"/(site|dist)-packages/?$", entry) and (root or "/lib/python" in entry):
                home_root = os.path.normpath(a.python_home) if a.python_home else None
                if not root or os.path.normpath(root) != home_root:
                    sink.add("base-site-visible", f"{label} python-path={entry} adds a venv's site-packages instead of "
                             f"making the venv the Python home: the base installation's packages stay importable"
                             + (f"; use python-home={root}" if root else ""),
                             [f"{(a.group.where if a.group else a.where)}: python-path {entry}",
                              f"python-home: {a.python_home or 'not set'}"])
                m = re.search(r"python(\d+\.\d+)", entry)
                if m and xy and m.group(1) != xy:
                    sink.add("venv-python-mismatch", f"{label} python-path={entry} is for Python {m.group(1)} but mod_wsgi "
                             f"embeds Python {xy}", [f"python-path {entry}"])
            if user is not None:
                res = check_access(entry, user, "rx")
                if not res.exists:
                    sink.add("sys-path-missing", f"{label} python-path entry {entry} does not exist", [res.reason])
                elif not res.ok:
                    sink.add("sys-path-unreadable", f"{label} python-path entry {entry} is not readable by {user.name}: "
                             f"{res.reason}", [res.reason])
        if user is not None and not a.is_match and "$" not in a.script:
            res = check_access(a.script.rstrip("/"), user, "r")
            if not res.ok:
                sink.add("wsgi-script-unreadable", f"{a.url}: WSGI script {a.script} " +
                         ("does not exist" if not res.exists else f"is not readable by {user.name}: {res.reason}"),
                         [f"{a.where}: WSGIScriptAlias {a.url} {a.script}", res.reason])
        if not a.main_interpreter and not a.is_probe and a.gil != "own":
            sites: List[str] = []
            if a.python_home:
                sites += site_packages_dirs(a.python_home, xy) or site_packages_dirs(a.python_home)
            sites += [p for p in a.python_path if os.path.isdir(p)]
            unsafe = subinterpreter_unsafe(sites) if sites else []
            if unsafe:
                sink.add("c-extension-in-subinterpreter",
                         f"{a.url} ({a.script}) runs in sub-interpreter {a.interpreter_name()} but its packages include "
                         + ", ".join(n for n, _ in unsafe) + ": set WSGIApplicationGroup %{GLOBAL}",
                         [why for _, why in unsafe] + [f"{a.where}: application group "
                                                        f"{a.application_group or '%{RESOURCE} (default: per URL)'}"])
    return sink.items, homes


# Directives mod_wsgi 6 added: a 4.x module does not know them and httpd refuses the configuration
# ("Invalid command 'WSGIPerInterpreterGIL', perhaps misspelled or defined by a module not included").
MOD_WSGI6_DIRECTIVES = ("WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGIInterpreterOptions", "WSGISwitchInterval")
MAX_MODULE_BYTES = 32 << 20


def unknown_directives(cfg: ApacheConfig, module: Optional[str]) -> List[dict]:
    """mod_wsgi 6 directives used with a mod_wsgi module that does not define them.

    A module's command table holds each directive name as a C string, so the names
    it knows are in its file (``<WSGIInterpreterOptions`` with its bracket).
    """
    if not module:
        return []
    try:
        with open_regular(module) as fh:
            data = fh.read(MAX_MODULE_BYTES)
    except OSError:
        return []
    used: Dict[str, str] = {}
    for node, _scope in _walk(cfg.nodes):
        for name in MOD_WSGI6_DIRECTIVES:
            if node.key == name.lower():
                used.setdefault(name, node.where)
    sink = Findings("mod_wsgi", "check-apache")
    for name, where in sorted(used.items()):
        if name.encode() not in data:
            sink.add("directive-unknown-to-mod-wsgi",
                     f"{name} ({where}) is a mod_wsgi 6 directive, but the mod_wsgi loaded ({module}) does not define "
                     f"it: httpd refuses to start (\"Invalid command '{name}'\")",
                     [f"{where}: {name}", f"{module}: no {name} in its command table"])
    return sink.items


def _free_threaded(embedder: Any) -> Optional[bool]:
    """Is the embedded Python a free-threaded build (libpython3.13t, cpython-313t)? None: unknown."""
    if embedder is None:
        return None
    names = " ".join(str(x) for x in (embedder.libpython, embedder.executable, embedder.source) if x)
    return bool(re.search(r"python3\.\d+t\b|cpython-3\d+t-", names))


def _version_tuple(xy: Optional[str]) -> Tuple[int, ...]:
    try:
        return tuple(int(x) for x in (xy or "").split("."))
    except ValueError:
        return ()


def _analyse_interpreters(cfg: ApacheConfig, embedder: Any, sink: Findings, homes: Dict[Tuple[str, str], Any]) -> None:
    """mod_wsgi 6: GIL modes, free-threading, extensions an own-GIL interpreter refuses, embedded mode."""
    from venvprobe.collect.extensions import _extension_init_kind, _walk_extensions
    from venvprobe.offline.access import UnknownUser, check_access, lookup_user
    from venvprobe.offline.home import site_packages_dirs

    free_build = _free_threaded(embedder)
    xy = embedder.major_minor if embedder is not None else None
    asked_free = [a for a in cfg.apps if a.free_threading]
    if asked_free and free_build is False:
        where = [n.where for n in ([cfg.globals["wsgifreethreading"]] if "wsgifreethreading" in cfg.globals else [])]
        where += [b.where for b in cfg.interpreter_options if "wsgifreethreading" in b.settings]
        skipped = [a for a in asked_free if not a.main_interpreter and a.gil_from and "WSGIPerInterpreterGIL" not in a.gil_from]
        sink.add("free-threading-unavailable",
                 f"WSGIFreeThreading On for {', '.join(sorted({a.url for a in asked_free}))}, but mod_wsgi embeds "
                 f"{embedder.source} (Python {embedder.version or xy}), not a free-threaded build: the GIL stays, and "
                 f"mod_wsgi skips any per-interpreter GIL in those processes (WSGI0202)",
                 [f"{w}: WSGIFreeThreading On" for w in where] + [f"embedding: {embedder.source}"])
        for a in asked_free:
            a.gil, a.gil_from = "shared", "WSGIFreeThreading On, but not a free-threaded build"
        del skipped
    for a in cfg.apps:
        if a.gil == "own" and xy and _version_tuple(xy) < (3, 12):
            sink.add("per-interpreter-gil-unsupported", f"{a.url}: WSGIPerInterpreterGIL On ({a.gil_from}) but mod_wsgi "
                     f"embeds Python {embedder.version or xy}: every sub-interpreter shares the GIL (WSGI0198)",
                     [f"{a.gil_from}", f"embedding: {embedder.source}"])
            a.gil, a.gil_from = "shared", f"WSGIPerInterpreterGIL needs Python 3.12+ (embeds {xy})"
    # -- own-GIL interpreters: installed extensions that will not load ----------------------------------
    scanned: Dict[str, List[dict]] = {}
    for a in cfg.apps:
        if a.gil != "own" or a.mode not in ("daemon", "embedded"):
            continue
        sites: List[str] = []
        if a.python_home:
            sites += site_packages_dirs(a.python_home, xy) or site_packages_dirs(a.python_home)
        sites += [p for p in a.python_path if os.path.isdir(p)]
        by_package: Dict[Tuple[str, str], List[str]] = {}
        for site in sites:
            if site not in scanned:
                budget = [20000]
                scanned[site] = [{"file": f, "package": os.path.relpath(f, site).split(os.sep)[0].split(".")[0]}
                                 for f in _walk_extensions(site, budget) if _extension_init_kind(f) == "single-phase"]
            for item in scanned[site]:
                by_package.setdefault((item["package"], site), []).append(item["file"])
        for (package, site), files in sorted(by_package.items()):
            sink.add("extension-refuses-interpreter",
                     f"{a.url} ({a.script}) runs in sub-interpreter {a.interpreter_name()} with its own GIL ({a.gil_from}), "
                     f"but {package} (installed in {site}) has single-phase-init extensions ("
                     + ", ".join(os.path.basename(f) for f in files[:3]) + "): `import " + package + "` fails there",
                     [f"{f}: single-phase init (no PyModuleDef_Init): refused where multi-interpreter support is checked"
                      for f in files[:5]] + [f"{a.where}: application group {a.application_group}"])
    # -- embedded mode: will Python start in Apache's children as the Apache user? -----------------------
    if cfg.restrict_embedded:
        return
    embedded = [a for a in cfg.apps if a.mode == "embedded"]
    try:
        user = lookup_user(cfg.user)
    except UnknownUser:
        return
    if cfg.python_home:
        check = homes.get((cfg.python_home, cfg.user))
        bad = [f for f in (check.findings if check else []) if f["severity"] == "error"]
        if not bad:
            return
        why, what = bad[0]["message"], f"WSGIPythonHome {cfg.python_home}"
    elif embedder is not None and embedder.prefix and xy:
        res = check_access(os.path.join(embedder.prefix, "lib", f"python{xy}"), user, "rx")
        if res.ok:
            return
        why, what = f"{res.reason} (blocked at {res.blocked_at})", f"the compiled-in prefix {embedder.prefix}"
    else:
        return
    sink.add("embedded-python-fails",
             f"Apache's children ({cfg.user}) initialise Python from {what} and cannot: {why}; "
             + (f"{', '.join(a.url for a in embedded)} run embedded and answer 500" if embedded else
                "no app runs embedded, but every child logs WSGI0036/WSGI0001 at start"),
             [f"{cfg.path}: WSGIRestrictEmbedded is not On"] + [f"{a.where}: {a.url} embedded" for a in embedded[:5]],
             severity="error" if embedded else "warning")
