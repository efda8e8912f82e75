"""``venvprobe check-extensions [--python X]``: load each C extension in a throwaway own-GIL sub-interpreter."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from venvprobe.commands import EXIT_FINDINGS, EXIT_OK, UsageError, add_output_args, fails_on, text_width, write_output
from venvprobe.offline import FAIL_ON_DEFAULT

_BOOTSTRAP = ("import sys\nsrc = sys.stdin.buffer.read()\ng = {'__name__': '__venvprobe_extcheck__'}\n"
              "exec(compile(src, '<venvprobe extension check>', 'exec'), g)\ng['_main_extension_check']()\n")


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check-extensions",
        description="Opt-in and intrusive by design: in a throwaway process of interpreter X, load every C "
        "extension module on its sys.path (outside the standard library) in a fresh isolated sub-interpreter "
        "with its own GIL, as mod_wsgi 6 creates one for WSGIPerInterpreterGIL On, and report those that refuse. "
        "This runs each extension's C init function (not the packages' Python code) in that separate process; "
        "the live probe never does (it reads the extensions' ELF symbols instead). Python 3.12+.",
    )
    p.add_argument("--python", metavar="X", default=sys.executable,
                   help="interpreter (or venv) to check: the one the server embeds, e.g. <venv>/bin/python")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up (default: 120)")
    add_output_args(p, fail_on_default=FAIL_ON_DEFAULT)
    return p


def run(args: argparse.Namespace) -> int:
    from venvprobe import extcheck, ship
    from venvprobe.offline.output import OfflineTable, kv_table, make_result, render
    from venvprobe.rules.registry import Findings

    exe = os.path.expanduser(args.python)
    if os.path.isdir(exe) and os.path.exists(os.path.join(exe, "bin", "python")):
        exe = os.path.join(exe, "bin", "python")
    if not os.access(exe, os.X_OK) or os.path.isdir(exe):
        raise UsageError(f"no interpreter at {args.python!r}")
    # The collector's extension walker, run privately from memory, then the check that uses it.
    walker = ship.bundle(("venvprobe.collect.extensions",), (
        "_walk_extensions = _get('venvprobe.collect.extensions')._walk_extensions\n"
        "_extension_init_kind = _get('venvprobe.collect.extensions')._extension_init_kind\n\n"))
    with open(str(extcheck.__file__), "rb") as handle:
        source = walker.encode("utf-8") + handle.read()
    try:
        proc = subprocess.run([exe, "-s", "-c", _BOOTSTRAP], input=source, capture_output=True,
                              timeout=args.timeout, cwd="/")
    except subprocess.TimeoutExpired:
        raise UsageError(f"{exe} did not finish within {args.timeout:g} s") from None
    except OSError as exc:
        raise UsageError(f"cannot run {exe}: {exc.strerror or exc}") from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace"))
    except ValueError:
        lines = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        raise UsageError(f"{exe} ended the check without a result (an extension crashed it?): {why[:300]}") from None
    if data.get("error"):
        raise UsageError(f"{exe}: {data['error']}")
    findings = Findings("mod_wsgi", "check-extensions")
    refused: dict = {}
    for m in data["modules"]:
        if not m["loads"]:
            refused.setdefault((m["package"], m["site_dir"]), []).append(m)
    for (package, site), mods in sorted(refused.items()):
        findings.add(
            "extension-refuses-interpreter",
            f"{package} (installed in {site}) does not load in an own-GIL sub-interpreter of {exe} (Python "
            f"{data['python']}): " + ", ".join(m["module"] for m in mods[:4]),
            [f"{m['file']}: {(m['error'] or '').strip().splitlines()[-1][:300]}" for m in mods[:10]])
    for m in data["modules"]:
        if data["free_threaded_build"] and m.get("gil_not_used") is False:
            findings.add(
                "extension-refuses-interpreter", f"{m['module']} turns the GIL back on in free-threaded {exe}",
                [f"{m['file']}: {m.get('gil_error')}"], severity="warning")
    tables = [kv_table("Interpreter", [("python", exe), ("version", data["python"]),
                                       ("free-threaded build", data["free_threaded_build"]),
                                       ("extensions checked", len(data["modules"]))]),
              OfflineTable("Extensions in an own-GIL sub-interpreter", ("module", "init", "loads", "file"),
                           [(m["module"], m["init"], "yes" if m["loads"] else "NO", m["file"])
                            for m in data["modules"]],
                           "truncated" if data["truncated"] else ("" if data["modules"] else "no extension modules"))]
    result = make_result("check-extensions", exe, findings.items, facts=data, tables=tables)
    write_output(render(result, args.format, width=text_width(args.output)), args.output)
    return EXIT_FINDINGS if fails_on(result["findings"], args.fail_on) else EXIT_OK
