"""``venvprobe check-apache [CONFIG]``: every mounted WSGI app, how mod_wsgi will run it, and what is wrong."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, List

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, UsageError, add_config_check_args, fails_on, text_width, write_output

if TYPE_CHECKING:
    from venvprobe.render.table import Table


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check-apache",
        description="Read an Apache configuration (default: the system's, following Include/IncludeOptional; or "
        "one file or snippet) and report, for every WSGIScriptAlias/WSGIScriptAliasMatch: daemon or embedded mode, "
        "process group, application group (main interpreter or per-URL sub-interpreter), user, python-home (checked "
        "like check-home, as that user) and python-path, with findings such as WSGIPythonHome inside a "
        "VirtualHost, a daemon group nothing is delegated to, apps sharing %%{GLOBAL}, C extensions in "
        "sub-interpreters. For uWSGI ini files use check-uwsgi.",
    )
    p.add_argument("config", metavar="CONFIG", nargs="?", help="configuration file (default: /etc/apache2/apache2.conf)")
    p.add_argument("--define", "-D", metavar="NAME", action="append", default=[], help="as httpd -D (for <IfDefine>)")
    p.add_argument("--server-root", metavar="DIR", help="ServerRoot for relative Include paths (default: CONFIG's directory)")
    p.add_argument("--envvars", metavar="FILE", default="/etc/apache2/envvars",
                   help="shell file with APACHE_* variables for ${VAR} (default: /etc/apache2/envvars)")
    emb = p.add_mutually_exclusive_group()
    emb.add_argument("--python", metavar="X", help="the interpreter mod_wsgi embeds (default: read from mod_wsgi.so)")
    emb.add_argument("--mod-wsgi", metavar="SO", help="mod_wsgi module (default: the config's LoadModule, else Debian's)")
    add_config_check_args(p, user_help="Apache's User (default: from the config, envvars, else www-data)",
                          homes_help="do not check the python-home directories")
    return p


def _looks_like_uwsgi(path: str) -> bool:
    from venvprobe.safeio import read_head

    return b"[uwsgi]" in read_head(path, 8192)


def run(args: argparse.Namespace) -> int:
    from venvprobe.commands._options import resolve_embedder
    from venvprobe.offline import apache_config as ac
    from venvprobe.offline.output import OfflineTable, kv_table, make_result, render

    if args.config and _looks_like_uwsgi(args.config):
        raise UsageError(f"{args.config} is a uWSGI ini file: use venvprobe check-uwsgi {args.config}")
    cfg = ac.load(args.config, defines=args.define, server_root=args.server_root, envvars=args.envvars, user=args.user)
    mod_wsgi = args.mod_wsgi
    if not mod_wsgi and not args.python:
        mod_wsgi = _loaded_module(cfg)
    embedder = None
    if args.python or mod_wsgi or os.path.exists("/usr/lib/apache2/modules/mod_wsgi.so"):
        embedder = resolve_embedder(args.python, mod_wsgi, None, "mod_wsgi")
    findings, homes = ac.analyse(cfg, embedder=embedder, check_homes=not args.no_homes,
                                 do_predict=not args.no_predict, confirm=not args.no_confirm)
    # Which directives the mod_wsgi in use knows: only when the module is known for sure.
    findings.extend(ac.unknown_directives(cfg, args.mod_wsgi or _loaded_module(cfg)))

    tables: List[Table] = []
    tables.append(kv_table("Configuration", [
        ("config", cfg.path), ("files read", len(cfg.files)), ("Apache user", cfg.user),
        ("embedding Python", f"{embedder.source}: Python {embedder.version} in {embedder.prefix}" if embedder else None),
        ("WSGIPythonHome", cfg.python_home), ("WSGIPythonPath", ":".join(cfg.python_path) or None),
        ("WSGIRestrictEmbedded", "On" if cfg.restrict_embedded else None),
        ("WSGIPerInterpreterGIL", " ".join(cfg.globals["wsgiperinterpretergil"].args)
         if "wsgiperinterpretergil" in cfg.globals else None),
        ("WSGIFreeThreading", " ".join(cfg.globals["wsgifreethreading"].args)
         if "wsgifreethreading" in cfg.globals else None),
        ("<WSGIInterpreterOptions>", "; ".join(
            f"{b.where}: process-group={b.process_group or '*'} application-group={b.application_group or '*'} "
            + " ".join(f"{n.name} {' '.join(n.args)}" for n in b.settings.values())
            for b in cfg.interpreter_options) or None),
    ] + [("warning", w) for w in cfg.warnings[:20]]))
    tables.append(OfflineTable("Applications", ("where", "URL", "script", "mode", "process group", "interpreter",
                                                "GIL", "user", "python-home", "python-path"),
                               [(a.vhost.label, a.url, a.script, a.mode + (" (probe)" if a.is_probe else ""),
                                 a.process_group or "-", a.interpreter_name(), a.gil, a.user, a.python_home or "-",
                                 ":".join(a.python_path) or "-") for a in cfg.apps],
                               "" if cfg.apps else "no WSGIScriptAlias / WSGIScriptAliasMatch found"))
    if cfg.groups:
        tables.append(OfflineTable("Daemon process groups", ("name", "declared at", "user", "python-home",
                                                             "python-path", "apps"),
                                   [(g.name, g.where, g.options.get("user", cfg.user), g.python_home or "-",
                                     ":".join(g.python_path) or "-", ", ".join(a.url for a in g.apps) or "none")
                                    for g in cfg.groups]))
    for (home, user), check in homes.items():
        tables.append(kv_table(f"python-home {home} (as {user})", check.facts()))

    if args.expectations:
        _write_expectations(cfg, embedder, args.expectations, tables)
    facts = {"config": cfg.path, "files": cfg.files, "user": cfg.user, "warnings": cfg.warnings,
             "embedder": embedder.as_dict() if embedder else None,
             "apps": [a.as_dict() for a in cfg.apps],
             "interpreter_options": [{"where": b.where, "process_group": b.process_group,
                                      "application_group": b.application_group,
                                      "settings": {n.name: " ".join(n.args) for n in b.settings.values()},
                                      "python_path": b.python_path} for b in cfg.interpreter_options],
             "groups": [{"name": g.name, "where": g.where, "options": g.options, "apps": [a.url for a in g.apps]}
                        for g in cfg.groups],
             "homes": {f"{h} (as {u})": c.as_dict() for (h, u), c in homes.items()}}
    result = make_result("check-apache", cfg.path, findings, facts=facts, tables=tables)
    write_output(render(result, args.format, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(result["findings"], args.fail_on) else EXIT_OK


def _loaded_module(cfg) -> "str | None":
    for node in cfg.nodes:
        if node.children is None and node.key == "loadmodule" and len(node.args) >= 2 and node.args[0] == "wsgi_module":
            path = node.args[1]
            return path if os.path.isabs(path) else os.path.join(os.path.dirname(cfg.path), path)
    return None


def _write_expectations(cfg, embedder, directory: str, tables) -> None:
    from venvprobe.offline.expect import interpreter_rules, render_toml, validate, write_files
    from venvprobe.offline.output import OfflineTable

    xy = embedder.major_minor if embedder else None
    items = []
    for a in cfg.apps:
        if a.mode not in ("daemon", "embedded"):
            continue
        identity = {"server": "mod_wsgi", "mode": a.mode, "process_group": a.group.name if a.group else ""}
        if a.main_interpreter:
            identity["application_group"] = "%{GLOBAL}"
        elif a.application_group in (None, "%{RESOURCE}"):
            identity["application_group"] = {"glob": "*|" + (a.url.rstrip("/") if not a.is_match else "*")}
        elif not a.application_group.startswith("%{"):
            identity["application_group"] = a.application_group
        identity["user"] = a.user
        interp, include = interpreter_rules(a.python_home, xy)
        text = render_toml(f"mod_wsgi app {a.url} ({a.script}) from {a.where}", identity, interp, include,
                           source=a.where)
        error = validate(text, a.where)
        if error:
            raise UsageError(f"generated expectations for {a.url} do not validate: {error}")
        host = a.vhost.server_name or ("main" if not a.vhost.addrs else "-".join(a.vhost.addrs))
        items.append((f"{host}{a.url}", text))
    try:
        written = write_files(items, directory)
    except OSError as exc:
        raise UsageError(f"cannot write expectations: {exc.strerror or exc}") from None
    tables.append(OfflineTable("Expectations written", ("file",), [(p,) for p in written],
                               "check each against the live probe: venvprobe compare <file> <probe URL or saved report>"))
