"""Resolve every mounted WSGI app of a configuration as mod_wsgi does.

For every ``WSGIScriptAlias``/``WSGIScriptAliasMatch``: daemon or embedded mode, which process group
(``process-group=`` option, else the last ``WSGIProcessGroup`` from the server, virtual host,
``<Directory>`` of the script and ``<Location>`` of the URL, in Apache's merge order), which
application group, the user, python-home (the group's, else the server-wide ``WSGIPythonHome``) and
python-path (the group's only: mod_wsgi ignores ``WSGIPythonPath`` in daemon processes); mod_wsgi 6's
``<WSGIInterpreterOptions>`` per interpreter.
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import Dict, Iterable, List, Optional, Tuple

from venvprobe.offline.apache.model import (GLOBAL, App, ApacheConfig, DaemonGroup, InterpreterOptions, VHost, _on,
                                            parse_options)
from venvprobe.offline.apache.reader import (DEFAULT_CONFIGS, DEFAULT_ENVVARS, DEFAULT_USER, ConfigError, Node, Reader,
                                             _walk, read_envvars)
from venvprobe.safeio import open_regular


# mod_wsgi 4.x checks these with ap_check_cmd_context(cmd, GLOBAL_ONLY).
GLOBAL_ONLY = frozenset(d.lower() for d in (
    "WSGIAcceptMutex", "WSGICaseSensitivity", "WSGIDestroyInterpreter", "WSGIDontWriteBytecode",
    "WSGILazyInitialization", "WSGIPy3kWarningFlag", "WSGIPythonEggs", "WSGIPythonHashSeed", "WSGIPythonHome",
    "WSGIPythonOptimize", "WSGIPythonPath", "WSGIPythonWarnings", "WSGIRestrictEmbedded", "WSGIRestrictSignal",
    "WSGIRestrictStdin", "WSGIRestrictStdout", "WSGIServerMetrics", "WSGISocketPrefix", "WSGISocketRotation",
    "WSGIVerboseDebugging",
    # mod_wsgi 6 (GLOBAL_ONLY too, except inside a top-level <WSGIInterpreterOptions>)
    "WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGISwitchInterval"))
# What mod_wsgi 6 accepts inside <WSGIInterpreterOptions process-group=... application-group=...>.
INTERPRETER_OPTIONS = frozenset(d.lower() for d in (
    "WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGISwitchInterval", "WSGIPythonPath", "WSGIRestrictStdin",
    "WSGIRestrictStdout", "WSGIRestrictSignal"))
_PROBE_SCRIPT = re.compile(rb"venvprobe\.(?:wsgi|probe)\b")


def load(path: Optional[str] = None, defines: Iterable[str] = (), server_root: Optional[str] = None,
         envvars: Optional[str] = DEFAULT_ENVVARS, user: Optional[str] = None) -> ApacheConfig:
    """Read the configuration at *path* (default: the system's) and resolve its WSGI apps."""
    if path is None:
        path = next((p for p in DEFAULT_CONFIGS if os.path.exists(p)), None)
        if path is None:
            raise ConfigError("no Apache configuration found (looked in " + ", ".join(DEFAULT_CONFIGS) + "); give CONFIG")
    env = read_envvars(envvars) if envvars else {}
    if server_root is None:
        server_root = os.path.dirname(os.path.abspath(path))
    reader = Reader(server_root=server_root, defines=defines, env=env)
    nodes = reader.read_file(path)
    run_user = user
    if run_user is None:
        node = _last_global(nodes, "user")
        if node and node.args and "${" not in node.args[0]:
            run_user = node.args[0].lstrip("#") if node.args[0].startswith("#") else node.args[0]
        else:
            run_user = env.get("APACHE_RUN_USER") or DEFAULT_USER
    cfg = ApacheConfig(path=os.path.abspath(path), nodes=nodes, files=reader.files, warnings=reader.warnings,
                       full_config=reader.loaded_any, wsgi_loaded=("wsgi_module" in reader.modules or
                                                                   "mod_wsgi.c" in reader.modules),
                       user=run_user, env=env, envvars=envvars if env else None)
    _build(cfg)
    return cfg


def _last_global(nodes: List[Node], key: str) -> Optional[Node]:
    found = None
    for n in nodes:
        if n.children is None and n.key == key:
            found = n
    return found





def _build(cfg: ApacheConfig) -> None:
    main = VHost([], cfg.path, cfg.nodes)
    sn = _last_global(cfg.nodes, "servername")
    main.server_name = sn.args[0] if sn and sn.args else None
    cfg.vhosts.append(main)
    for node, scope in _walk(cfg.nodes):
        if node.children is not None and node.key == "virtualhost":
            vh = VHost(list(node.args), node.where, node.children)
            name = next((c for c in node.children if c.children is None and c.key == "servername"), None)
            vh.server_name = name.args[0] if name and name.args else main.server_name
            cfg.vhosts.append(vh)
    vhost_of: Dict[int, VHost] = {id(v.nodes): v for v in cfg.vhosts[1:]}

    def owner(scope: Tuple[Node, ...]) -> VHost:
        for s in scope:
            if s.key == "virtualhost":
                return vhost_of[id(s.children)]
        return main

    for node, scope in _walk(cfg.nodes):
        if node.children is not None:
            continue
        in_vhost = any(s.key == "virtualhost" for s in scope)
        if any(x.key == "wsgiinterpreteroptions" for x in scope) and node.key in INTERPRETER_OPTIONS:
            continue  # scoped to the block (a misplaced block is reported itself)
        if node.key in GLOBAL_ONLY:
            if scope:
                cfg.misplaced.append((node, scope[-1].name))
            else:
                cfg.globals[node.key] = node
        if node.key == "wsgidaemonprocess" and node.args:
            cfg.groups.append(DaemonGroup(node.args[0], parse_options(node.args[1:]), node.where, owner(scope)
                                          if in_vhost else None))
        elif node.key in ("wsgiscriptalias", "wsgiscriptaliasmatch") and len(node.args) >= 2:
            if scope and scope[-1].key != "virtualhost":
                continue  # WSGIScriptAlias is not allowed in <Directory>/<Location>; httpd refuses it
            cfg.apps.append(App(node.args[0], node.args[1], node.where, owner(scope),
                                is_match=node.key == "wsgiscriptaliasmatch", options=parse_options(node.args[2:])))
    restrict = cfg.globals.get("wsgirestrictembedded")
    cfg.restrict_embedded = bool(restrict and restrict.args and restrict.args[0].lower() == "on")
    for node, scope in _walk(cfg.nodes):
        if node.children is not None and node.key == "wsgiinterpreteroptions":
            if scope:
                cfg.misplaced.append((node, scope[-1].name))
                continue
            opts = parse_options(node.args)
            block = InterpreterOptions(opts.get("process-group"), opts.get("application-group"), node.where)
            for child in node.children:
                if child.children is None and child.key in INTERPRETER_OPTIONS:
                    block.settings[child.key] = child
                    if child.key == "wsgipythonpath" and child.args:
                        block.python_path += [p for p in child.args[0].split(":") if p]
            cfg.interpreter_options.append(block)
    for node, scope in _walk(cfg.nodes):
        if node.children is None and node.key == "wsgiprocessgroup" and node.args:
            for g in cfg.groups:
                if g.name == node.args[0]:
                    g.referenced = True
        if node.children is None and node.key == "wsgiimportscript":
            opts = parse_options(node.args[1:])
            for g in cfg.groups:
                if g.name == opts.get("process-group"):
                    g.referenced = True
    for app in cfg.apps:
        _resolve(cfg, app)


def _dir_matches(section: Node, script: str, url: str) -> Optional[int]:
    """Merge rank of *section* for a request to *url* served by *script* (None: no match)."""
    key = section.key
    arg = section.args[0] if section.args else ""
    script_dir = os.path.dirname(script) if not script.endswith("/") else script.rstrip("/")
    if key == "directory":
        if arg.startswith("~"):
            return 20 if _re_search(section.args[1] if len(section.args) > 1 else "", script) else None
        pattern = arg.rstrip("/") or "/"
        if any(c in pattern for c in "*?["):
            return 10 + pattern.count("/") if fnmatch.fnmatch(script_dir, pattern) or fnmatch.fnmatch(
                script_dir, pattern + "/*") else None
        if script_dir == pattern or script_dir.startswith(pattern.rstrip("/") + "/") or pattern == "/":
            return 10 + (0 if pattern == "/" else pattern.count("/"))
        return None
    if key == "directorymatch":
        return 20 if _re_search(arg, script_dir) else None
    if key in ("files", "filesmatch"):
        base = os.path.basename(script)
        if key == "filesmatch" or arg.startswith("~"):
            return 30 if _re_search(section.args[-1], base) else None
        return 30 if fnmatch.fnmatch(base, arg) else None
    if key == "location":
        if arg.startswith("~"):
            return 40 if _re_search(section.args[1] if len(section.args) > 1 else "", url) else None
        loc = arg.rstrip("/")
        return 40 if (url == arg or url.startswith(loc + "/") or not loc or url == loc) else None
    if key == "locationmatch":
        return 40 if _re_search(arg, url) else None
    return None


def _re_search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _setting(cfg: ApacheConfig, app: App, key: str) -> Tuple[Optional[str], str]:
    """The value of per-directory directive *key* for *app*, and where it was set."""
    candidates: List[Tuple[int, int, Node]] = []
    order = 0

    def collect(nodes: List[Node], base_rank: int, in_section: Optional[int]) -> None:
        nonlocal order
        for n in nodes:
            order += 1
            if n.children is None:
                if n.key == key and n.args:
                    candidates.append((in_section if in_section is not None else base_rank, order, n))
                continue
            if n.key == "virtualhost":
                continue
            rank = _dir_matches(n, app.script, app.url)
            if rank is not None:
                collect(n.children, base_rank, rank)

    collect(cfg.nodes, 0, None)
    if app.vhost.addrs:
        collect(app.vhost.nodes, 1, None)
    if not candidates:
        return None, ""
    candidates.sort(key=lambda c: (c[0], c[1]))
    node = candidates[-1][2]
    return node.args[0], node.where


def _find_group(cfg: ApacheConfig, name: str, vhost: VHost) -> Optional[DaemonGroup]:
    for g in cfg.groups:
        if g.name == name and (g.vhost is None or g.vhost is vhost or
                               (g.vhost.server_name and g.vhost.server_name == vhost.server_name)):
            return g
    return None


def _is_probe(app: App) -> bool:
    if "venvprobe" in app.url:
        return True
    try:
        with open_regular(app.script) as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return False
    # The probe's entry point, not an app that merely wraps itself in the middleware.
    return _PROBE_SCRIPT.search(head) is not None


def _resolve(cfg: ApacheConfig, app: App) -> None:
    if "process-group" in app.options:
        app.process_group, app.process_group_from = app.options["process-group"], f"{app.where} (process-group=)"
    else:
        app.process_group, app.process_group_from = _setting(cfg, app, "wsgiprocessgroup")
    if "application-group" in app.options:
        app.application_group = app.options["application-group"]
        app.application_group_from = f"{app.where} (application-group=)"
    else:
        app.application_group, app.application_group_from = _setting(cfg, app, "wsgiapplicationgroup")
    pg = app.process_group
    if pg and pg != GLOBAL and not pg.startswith("%{"):
        app.group = _find_group(cfg, pg, app.vhost)
        if app.group is not None:
            app.group.apps.append(app)
    app.user = cfg.user
    if app.group is not None:
        app.user = app.group.options.get("user", cfg.user)
        if app.group.python_home:
            app.python_home, app.python_home_from = app.group.python_home, f"{app.group.where} (python-home=)"
        elif cfg.python_home:
            app.python_home = cfg.python_home
            app.python_home_from = f"{cfg.globals['wsgipythonhome'].where} (WSGIPythonHome, inherited)"
        app.python_path = app.group.python_path
    elif app.mode == "embedded":
        if cfg.python_home:
            app.python_home = cfg.python_home
            app.python_home_from = f"{cfg.globals['wsgipythonhome'].where} (WSGIPythonHome)"
        app.python_path = cfg.python_path
    app.is_probe = _is_probe(app)
    _resolve_interpreter_options(cfg, app)


def _resolve_interpreter_options(cfg: ApacheConfig, app: App) -> None:
    """GIL mode, free-threading and layered python-path as mod_wsgi 6 resolves them
    (``wsgi_resolve_interpreter_options`` / ``wsgi_resolve_free_threading``)."""
    pg = app.group.name if app.group else None
    name = "" if app.main_interpreter else app.interpreter_name()
    own = _on(cfg.globals.get("wsgiperinterpretergil"))
    own_from = cfg.globals["wsgiperinterpretergil"].where if own is not None else ""
    free = _on(cfg.globals.get("wsgifreethreading"))
    best = -1
    layers: List[Tuple[int, int, List[str]]] = []
    for order, block in enumerate(cfg.interpreter_options):
        if not block.matches(pg, name):
            continue
        node = block.settings.get("wsgiperinterpretergil")
        if node is not None and block.specificity >= best:
            own, own_from, best = _on(node), f"{block.where} (<WSGIInterpreterOptions>)", block.specificity
        ft = block.settings.get("wsgifreethreading")
        if ft is not None and block.application_group is None:  # WSGI0201: application-group cannot scope it
            free = _on(ft)
        if block.python_path:
            layers.append((block.specificity, order, block.python_path))
    # WSGIPythonPath inside a block adds to the process's base path, least specific first.
    for _, _, paths in sorted(layers):
        app.python_path = list(app.python_path) + [p for p in paths if p not in app.python_path]
    app.free_threading = bool(free)
    if app.free_threading:
        app.gil, app.gil_from = "none", "WSGIFreeThreading On"
    elif app.main_interpreter:
        app.gil, app.gil_from = "shared", "main interpreter (always the process GIL)"
    elif own:
        app.gil, app.gil_from = "own", own_from
    else:
        app.gil, app.gil_from = "shared", own_from or "default (WSGIPerInterpreterGIL Off)"
