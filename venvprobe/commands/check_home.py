"""``venvprobe check-home PATH``: will this python-home work for the server that embeds it?"""

from __future__ import annotations

import argparse

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, add_output_args, add_prediction_args, fails_on, text_width, write_output
from venvprobe.commands._options import resolve_embedder, resolve_user
from venvprobe.offline import FAIL_ON_DEFAULT


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check-home",
        description="Check a Python home (venv root) before deploying it: is PATH the venv root (not bin/python or "
        "lib/pythonX.Y)? Which Python made it, does that still exist and is it the installation the server "
        "embeds (read from the libpython mod_wsgi.so links)? Can the server user traverse every directory and "
        "read pyvenv.cfg and site-packages? What will mod_wsgi/uWSGI do with it, and which sys.prefix/sys.path "
        "result (predicted by running the embedding Python the same way, as that user)?",
    )
    p.add_argument("path", metavar="PATH", help="the python-home to check (a venv root)")
    emb = p.add_mutually_exclusive_group()
    emb.add_argument("--python", metavar="X", help="the interpreter that will embed the venv")
    emb.add_argument("--mod-wsgi", metavar="SO", help="a mod_wsgi module; default: /usr/lib/apache2/modules/mod_wsgi.so")
    emb.add_argument("--uwsgi-plugin", metavar="SO", help="a uWSGI python plugin (name or file); implies --server uwsgi")
    p.add_argument("--server", choices=("mod_wsgi", "uwsgi"), default=None,
                   help="how the home is applied (default: mod_wsgi, or uwsgi with --uwsgi-plugin)")
    p.add_argument("--user", metavar="NAME", help="user the server runs Python as (default: Apache's User, www-data)")
    add_prediction_args(p)
    add_output_args(p, fail_on_default=FAIL_ON_DEFAULT)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe.offline.home import check_home
    from venvprobe.offline.output import kv_table, make_result, render

    server = args.server or ("uwsgi" if args.uwsgi_plugin else "mod_wsgi")
    embedder = resolve_embedder(args.python, args.mod_wsgi, args.uwsgi_plugin, server)
    user = resolve_user(args.user)
    check = check_home(args.path, embedder=embedder, user=user, server=server,
                       do_predict=not args.no_predict, confirm=not args.no_confirm)
    result = make_result("check-home", check.given, check.findings, facts=check.as_dict(),
                         tables=[kv_table("Python home", check.facts())])
    write_output(render(result, args.format, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(result["findings"], args.fail_on) else EXIT_OK
