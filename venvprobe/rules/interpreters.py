"""The running process and its interpreters: modules loaded from stale files, C extensions in
sub-interpreters, several apps sharing an interpreter, the probe alone in its own, extensions an
own-GIL or free-threaded interpreter refuses.

The rules (``RULES``) and their live checks, which are pure functions of the report: they never read
the machine they run on (so a saved report gives the same findings) and also run inside the inspected
interpreter (see :mod:`venvprobe.rules`: standard library only, Python 3.8 syntax, no I/O).
"""

from __future__ import annotations

import posixpath

from venvprobe.rules.base import Analysis, Rule, live_check, mapping, under

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (this module also runs inside the target)
    from typing import Dict, List, Optional


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
    return not ("/lib-dynload/" in path or any(under(path, r) for r in roots if r))


@live_check("identity", "modules")
def _check_modules(a: Analysis) -> None:
    mods = a.section("modules") or {}
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
    ident = a.section("identity") or {}
    probe = mapping(a.report.get("probe"))
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
              + ", ".join(str(s.get("file") or s.get("module")) for s in scripts),
              [str(s.get("file") or s.get("module")) for s in scripts])
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


@live_check("identity")
def _check_interpreter_config(a: Analysis) -> None:
    """Extensions this interpreter will refuse (own GIL, free-threaded): the 500 before it happens."""
    ident = a.section("identity") or {}
    support = mapping(ident.get("extension_support"))
    refused = [m for m in support.get("modules") or [] if isinstance(m, dict) and m.get("refused")]
    if not refused:
        return
    config = mapping(ident.get("interpreter_config"))
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
    options = mapping(server.get("options"))
    value = options.get("single-interpreter")
    values = value if isinstance(value, list) else [value]
    return any(str(v).lower() in ("true", "1", "yes", "on", "") for v in values if v is not None)


RULES = (
    Rule("stale-module", "warning",
         "A loaded module is not the file sys.path resolves to now",
         "Restart the worker processes so every module is imported fresh from the current sys.path.",
         fixes={
             "mod_wsgi": "touch the WSGI script (daemon mode reloads) or restart Apache.",
             "uwsgi": "Reload with touch-reload or uwsgi --reload.",
             "gunicorn": "kill -HUP the gunicorn master.",
         },
         checks=(_check_modules,)),
    Rule("source-modified-after-start", "warning",
         "Source files changed on disk after this process started: it still runs the old code",
         "Restart or reload the workers after every deploy.",
         fixes={
             "mod_wsgi": "touch the WSGI script file (daemon mode) or apachectl graceful.",
             "uwsgi": "Use touch-reload = <file> and touch it on deploy.",
             "gunicorn": "kill -HUP the master (or use --reload in development only).",
         },
         checks=(_check_modules,)),
    Rule("c-extension-in-subinterpreter", "warning",
         "Third-party C extensions are loaded in a sub-interpreter",
         "Run the app in the main interpreter.",
         fixes={
             "mod_wsgi": "Add WSGIApplicationGroup %{GLOBAL} (and give each app its own WSGIDaemonProcess group).",
             "uwsgi": "Add single-interpreter = true (one app per uWSGI instance).",
         },
         checks=(_check_modules,), offline=("check-apache", "check-uwsgi", "explain-log")),
    Rule("several-apps-one-interpreter", "info",
         "Several WSGI scripts were loaded into the same interpreter",
         "Give each application its own process group or application group unless sharing is intended.",
         fixes={
             "mod_wsgi": "Use one WSGIDaemonProcess per app, or distinct application-group= values.",
         },
         checks=(_check_modules,), offline=("check-apache",)),
    Rule("probe-alone", "warning",
         "The probe is alone in its interpreter: it is probably not reporting the app's interpreter",
         "Mount the probe in the app's process group and application group, or use the middleware.",
         fixes={
             "mod_wsgi": "Give the probe's WSGIScriptAlias the same process-group= and application-group= as the app "
                         "(application-group=%{GLOBAL} if the app uses it), or wrap the app with "
                         "venvprobe.middleware.ProbeMiddleware.",
         },
         checks=(_check_modules,), offline=("check-apache",)),
    Rule("extension-refuses-interpreter", "error",
         "Installed C extensions will not load in this interpreter (own GIL or free-threaded): importing them fails",
         "Run the app where every extension it imports loads: the main interpreter, or an interpreter that shares the"
         " GIL; or upgrade the package to a release that declares Py_mod_multiple_interpreters / Py_mod_gil.",
         fixes={
             "mod_wsgi": "Run the app in the main interpreter (application-group=%{GLOBAL} / WSGIApplicationGroup "
                         "%{GLOBAL}), or drop WSGIPerInterpreterGIL On (and its <WSGIInterpreterOptions> block) for "
                         "this application group: a legacy sub-interpreter shares the GIL and does not check.",
         },
         checks=(_check_interpreter_config,), offline=("check-apache", "explain-log", "check-extensions")),
)
