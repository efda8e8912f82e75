"""``venvprobe check-uwsgi INI``: a uWSGI ini's home, python plugin, pythonpath and interpreters, offline."""

from __future__ import annotations

import argparse

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, UsageError, add_config_check_args, fails_on, text_width, write_output


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check-uwsgi",
        description="Read a uWSGI ini file and check home/virtualenv/venv (like check-home, as the uid= user), "
        "the libpython of the python plugin it loads, pythonpath entries, and which app runs in the main "
        "interpreter (the first) or a sub-interpreter (the others, unless single-interpreter).",
    )
    p.add_argument("ini", metavar="INI", help="uWSGI ini file")
    p.add_argument("--section", default="uwsgi", help="ini section (default: uwsgi)")
    emb = p.add_mutually_exclusive_group()
    emb.add_argument("--python", metavar="X", help="the interpreter uWSGI embeds (default: read from the plugin)")
    emb.add_argument("--plugin", metavar="SO", help="python plugin file (default: the ini's plugin in plugins-dir)")
    p.add_argument("--uwsgi", metavar="BINARY", default="/usr/bin/uwsgi",
                   help="uWSGI binary, used when no python plugin is loaded (default: /usr/bin/uwsgi)")
    add_config_check_args(p, user_help="user Python runs as (default: the ini's uid, else the current user)",
                          homes_help="do not check the home directory")
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.offline import embed
    from venvprobe.offline import uwsgi_config as uc
    from venvprobe.offline.output import OfflineTable, kv_table, make_result, render

    cfg = uc.load(args.ini, args.section)
    notes = []
    embedder = None
    try:
        if args.python:
            embedder = embed.from_python(args.python)
        else:
            plugins_dir = cfg.last("plugins-dir", "plugin-dir") or embed.DEFAULT_UWSGI_PLUGIN_DIR
            embedder = embed.from_uwsgi(args.plugin or cfg.python_plugin, binary=args.uwsgi, plugins_dir=plugins_dir)
    except embed.EmbedError as exc:
        if args.python or args.plugin:
            raise
        notes.append(str(exc))
    findings, check, apps = uc.analyse(cfg, embedder=embedder, user_name=args.user, check_homes=not args.no_homes,
                                       do_predict=not args.no_predict, confirm=not args.no_confirm)
    tables = [kv_table("uWSGI configuration", [
        ("ini", f"{cfg.path} [{cfg.section}]"), ("plugins", cfg.plugins), ("home", cfg.home),
        ("pythonpath", cfg.pythonpath), ("single-interpreter", cfg.single_interpreter), ("uid", cfg.last("uid")),
        ("embedding Python", f"{embedder.source}: Python {embedder.version} in {embedder.prefix}" if embedder else None),
    ] + [("note", n) for n in notes]),
        OfflineTable("Applications (load order)", ("#", "mountpoint", "module / file", "interpreter"),
                     [(a.index, a.mountpoint or "/", a.target, a.interpreter if not cfg.single_interpreter
                       else "main interpreter (single-interpreter)") for a in apps],
                     "" if apps else "no module / wsgi-file / mount: uWSGI starts with no app (dynamic mode)")]
    if check is not None:
        tables.append(kv_table(f"home {check.given}", check.facts()))
    if args.expectations:
        from venvprobe.offline.expect import interpreter_rules, render_toml, validate, write_files

        items = []
        user = args.user or cfg.last("uid")
        for a in apps:
            identity = {"server": "uwsgi", "main_interpreter": a.index == 0 or cfg.single_interpreter}
            if user:
                identity["user"] = user
            interp, include = interpreter_rules(cfg.home, embedder.major_minor if embedder else None)
            text = render_toml(f"uWSGI app {a.mountpoint or '/'} ({a.target}) from {cfg.path}", identity, interp,
                               include, source=cfg.path)
            error = validate(text, cfg.path)
            if error:
                raise UsageError(f"generated expectations for {a.mountpoint or '/'} do not validate: {error}")
            items.append((f"uwsgi{a.mountpoint or '/'}", text))
        try:
            written = write_files(items, args.expectations)
        except OSError as exc:
            raise UsageError(f"cannot write expectations: {exc.strerror or exc}") from None
        tables.append(OfflineTable("Expectations written", ("file",), [(p,) for p in written]))
    facts = {"ini": cfg.path, "section": cfg.section, "options": [[k, v, ln] for k, v, ln in cfg.options],
             "embedder": embedder.as_dict() if embedder else None, "notes": notes,
             "apps": [{"index": a.index, "mountpoint": a.mountpoint, "target": a.target,
                       "main_interpreter": a.index == 0 or cfg.single_interpreter} for a in apps],
             "home": check.as_dict() if check else None}
    result = make_result("check-uwsgi", cfg.path, findings, facts=facts, tables=tables)
    write_output(render(result, args.format, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(result["findings"], args.fail_on) else EXIT_OK
