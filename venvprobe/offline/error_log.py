"""``explain-log``: turn Apache/mod_wsgi (and uWSGI) error-log lines into findings.

Recognised: CPython's "Python path configuration:" dump and the fatal
start-up error after it, and mod_wsgi 4.x's own messages (``Python home``,
``Unable to stat Python home``, ``... is not a directory``, ``... is not
accessible``, ``Embedded mode of mod_wsgi disabled by runtime
configuration``, ``No WSGI daemon process called``, the ``Compiled for
Python/`` / ``Runtime using Python/`` patch-level warning, ``Starting
process`` and ``Loading Python script file`` at LogLevel info), httpd's
``cannot occur within <VirtualHost> section`` and ``Invalid command``, C
extensions refusing sub-interpreters (numpy's "cannot load module more
than once per process", PyO3, CPython 3.12's "does not support loading in
subinterpreters") and uWSGI's python plugin messages; mod_wsgi 6's coded
messages (``WSGI0036: ...``, see ``KNOWN_CODES``), its start-up lines
("Python home set to", "Starting daemon process", "Creating sub-interpreter
... with own GIL", "terminated by signal N") and CPython's "Could not find
platform (in)dependent libraries".

Each distinct cause becomes one finding with the rule code the live
report uses, the log lines as evidence, and — when the homes named in the
log exist on this machine — the result of ``check-home`` on them (as the uid
the log says the daemon ran as).

The log is read by :mod:`venvprobe.offline.log_scan`; mod_wsgi 6's coded messages are judged in
:mod:`venvprobe.offline.log_mod_wsgi6` and :mod:`venvprobe.offline.log_interpreters`; this module
judges the rest and emits every finding through one sink (one finding per code and subject).
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from venvprobe.offline.log_interpreters import _name_pth_files
from venvprobe.offline.log_mod_wsgi6 import KNOWN_CODES, _explain_mod_wsgi6, _locate_daemon_dirs
from venvprobe.offline.log_scan import (_BIN_PYTHON, Event, LogFacts, _evidence, _nearest, _norm, _refused_extension,
                                        _thread_of, homes_in_log, scan)
from venvprobe.rules.registry import Findings

_MOD_WSGI6_ONLY = ("WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGIInterpreterOptions", "WSGISwitchInterval")


_LIBDIR = re.compile(r"^(?P<root>.*?)/(?:lib|lib64)/python\d+\.\d+(?:/(?:site|dist)-packages)?$")


MAX_EVIDENCE = 8


def _block_home(block) -> Optional[str]:
    """The home a failed start-up used, repaired where interleaving damaged the dump.

    With PYTHONHOME set (by the environment or Py_SetPythonHome), CPython's
    prefix *is* the home.  So a home that is a strict start of the prefix was
    cut short by another process writing into the same log, and a dump whose
    PYTHONHOME line was lost (not "(not set)": missing) still names it as
    sys.prefix.
    """
    home = _norm(block.home)
    prefix = _norm(block.values.get("sys.prefix"))
    if home and prefix and prefix != home and prefix.startswith(home) and ":" not in home:
        return prefix
    if not home and "PYTHONHOME" not in block.values and prefix and not block.program_name:
        return prefix
    if home and prefix and prefix != home and "PYTHONHOME" in block.joined:
        # Its two halves were rejoined across another process's dump, and a tail such as
        # "1'" can be a third process's character: the prefix, printed whole, is the home.
        return prefix
    return home


def explain(facts: LogFacts, *, check_homes: bool = True, embedder: Any = None,
            default_user: Optional[str] = None) -> Tuple[List[dict], List[Any]]:
    """Findings for the scanned log (one per distinct cause) and the home checks run."""
    server = "uwsgi" if facts.flavour == "uwsgi" else "mod_wsgi"
    setting = "home" if server == "uwsgi" else "python-home"
    # One finding per (code, subject): the daemon respawns and logs the same cause again and again.
    sink = Findings(server, "explain-log", max_evidence=MAX_EVIDENCE, path_subject_key="home")

    ev = lambda e: _evidence(facts, e.line, e.text)  # noqa: E731
    stat_errors: Dict[str, Event] = {}
    for e in facts.of("stat", "notdir", "notacc", "uwsgi_notdir"):
        stat_home = _norm(e.groups[0]) or ""
        stat_errors[stat_home] = e
        if e.kind == "stat":
            if e.errno and e.errno.startswith("(2)"):
                sink.add("python-home-missing", f"{setting}={stat_home} does not exist ({e.errno})", [ev(e)], subject=stat_home)
            else:
                sink.add("python-home-inaccessible", f"the daemon user cannot reach {setting}={stat_home}"
                         + (f" ({e.errno})" if e.errno else "") + ": a parent directory is not traversable or the "
                         "directory is not readable", [ev(e)], subject=stat_home)
        elif e.kind == "notacc":
            sink.add("python-home-inaccessible", f"{setting}={stat_home} is not accessible (no search permission) for the "
                     "daemon user", [ev(e)], subject=stat_home)
        else:
            if _BIN_PYTHON.search(stat_home):
                root = os.path.dirname(os.path.dirname(stat_home))
                sink.add("python-home-not-venv-root", f"{setting}={stat_home} is an interpreter, not a directory; "
                         f"use {setting}={root}", [ev(e)], subject=stat_home)
            else:
                sink.add("python-home-missing", f"{setting}={stat_home} is not a directory", [ev(e)], subject=stat_home)

    # -- failed start-ups: CPython's path configuration dump ---------------------------------------
    failures = [b for b in facts.blocks if b.fatal]
    clean = [b for b in failures if b.values and not b.garbled
             and (b.home is None or b.values.get("sys.base_prefix") in (None, b.home))]
    if any(_block_home(b) for b in clean):
        # Interleaving can drop a dump's PYTHONHOME line without garbling the rest; such a
        # home-less fragment beside dumps that do name homes is a piece of one of them.
        clean = [b for b in clean if _block_home(b) or _BIN_PYTHON.search(b.program_name or "")]
    if clean:
        # The daemon respawns, so clean dumps repeat: those lost or garbled in interleaving
        # with another process's output add nothing but noise.
        failures = clean
    for b in failures:
        evidence = [_evidence(facts, b.start_line, "Python path configuration:")]
        for key in ("PYTHONHOME", "program name", "sys.prefix", "stdlib dir"):
            if key in b.values:
                evidence.append(f"  {key} = {b.values[key]!r}" if b.values[key] is not None else f"  {key} = (not set)")
        evidence.append(_evidence(facts, b.end_line, (b.fatal or "") + (f" / {b.exception}" if b.exception else "")))
        home = _block_home(b)
        prog = b.program_name or ""
        venv_prog = bool(_BIN_PYTHON.search(prog)) and prog not in ("python3", "python")
        prog_root = os.path.dirname(os.path.dirname(prog)) if venv_prog else None
        # At LogLevel info mod_wsgi logs "Python home X." for every home it sets (interleaved
        # dumps make pids unreliable, so match by value): a PYTHONHOME that no process was
        # given by mod_wsgi came from the environment.
        wsgi_homes = {_norm(h) for h in facts.pid_home.values()}
        not_from_wsgi = server == "mod_wsgi" and bool(facts.of("init")) and home not in wsgi_homes
        configured = next(iter(sorted(h for h in wsgi_homes if h)), None) if not_from_wsgi else None
        if home and (not_from_wsgi or (venv_prog and (server == "mod_wsgi" or _norm(prog_root) != home))):
            wsgi_home = prog_root or configured
            # mod_wsgi sets either the program name (venv) or the home, never both: this home
            # came from the environment (or a uWSGI env = line).
            sink.add("pythonhome-from-env", f"PYTHONHOME={home} from the server's environment overrides "
                     + (f"{setting}={wsgi_home or prog_root}" if (wsgi_home or prog_root) else "the configured home")
                     + f": Python looks for its standard library in {b.get('stdlib dir') or home}", evidence,
                     severity="error", subject=home)
            continue
        if not home:
            sink.add("python-startup-fails", f"Python failed to start (program name {prog!r}, no home): "
                     f"{b.exception or b.fatal}", evidence, subject=f"prog:{prog}")
            continue
        if _BIN_PYTHON.search(home):
            root = os.path.dirname(os.path.dirname(home))
            sink.add("python-home-not-venv-root", f"{setting}={home} is an interpreter, not a directory; "
                     f"use {setting}={root}", evidence, subject=home)
            continue
        m = _LIBDIR.match(home)
        if m:
            sink.add("python-home-not-venv-root", f"{setting}={home} points inside a venv or installation "
                     f"(lib/pythonX.Y); use {setting}={m.group('root')}", evidence, subject=home)
            continue
        if home in stat_errors:
            e = stat_errors[home]
            code = "python-home-missing" if (e.errno or "").startswith("(2)") else (
                "python-home-inaccessible" if e.kind in ("stat", "notacc") else "python-home-missing")
            sink.add(code, "", evidence, subject=home)
            continue
        if os.path.isfile(os.path.join(home, "pyvenv.cfg")):
            sink.add("pyvenv-cfg-unreadable", f"{setting}={home} is a venv but {server} used it as a Python home "
                     f"(Py_SetPythonHome): its pyvenv.cfg was not readable by the daemon user, so no venv was detected",
                     evidence + [f"{home}/pyvenv.cfg exists on this machine"], subject=home)
            continue
        if os.path.isdir(home) and not any(os.path.isfile(os.path.join(home, "lib", d, "os.py"))
                                           for d in _safe_listdir(os.path.join(home, "lib"))):
            sink.add("python-home-not-a-venv", f"{setting}={home} has no pyvenv.cfg and no standard library",
                     evidence, subject=home)
            continue
        why = ("mod_wsgi found no readable pyvenv.cfg in it (missing, or not readable by the daemon user), so it "
               "used it as a full installation" if server == "mod_wsgi" and prog in ("python3", "python", "") else
               "the standard library was not found under it")
        sink.add("python-startup-fails", f"Python failed to start with {setting}={home}: {why} "
                 f"({b.exception or b.fatal})", evidence, subject=home)
    # Fill empty messages of findings first created from a stat error and then matched by a block.
    for (code, subject), f in sink.by_subject.items():
        if not f["message"]:
            f["message"] = f"{setting}={subject}: Python cannot start"
    if failures:
        restarts = facts.of("died")
        for f in sink.items:
            if f["code"] in ("python-home-missing", "python-home-inaccessible", "python-home-not-venv-root",
                             "pyvenv-cfg-unreadable", "python-home-not-a-venv", "python-startup-fails",
                             "pythonhome-from-env") and restarts:
                f["data"]["daemon_restarts"] = len(restarts)
                note = f"{len(restarts)} daemon process restarts in this log (it respawns forever)"
                if note not in f["evidence"]:
                    f["evidence"].append(note)

    # -- delegation ---------------------------------------------------------------------------------
    for e in facts.of("restrict"):
        sink.add("embedded-mode-disabled", f"{e.groups[0]} is not delegated to a daemon group and embedded "
                 "mode is disabled (WSGIRestrictEmbedded On): HTTP 500", [ev(e)], subject=e.groups[0])
    for e in facts.of("nogroup"):
        sink.add("daemon-group-undefined", f"{e.groups[1]} is delegated to process group {e.groups[0]!r}, "
                 "which is not declared (or not visible from this VirtualHost): HTTP 500", [ev(e)], subject=e.groups[0])
    loads = facts.of("loading")
    embedded = [e for e in loads if e.groups[1] == ""]
    daemon_used = {e.groups[1] for e in loads if e.groups[1]}
    for name, g in facts.groups.items():
        if name not in daemon_used and embedded:
            starts = [_evidence(facts, ln, f"Starting process '{name}' with uid={g['uid']}") for ln in g["lines"][:1]]
            scripts = sorted({e.groups[3] for e in embedded})
            sink.add("daemon-group-unused", f"daemon process group {name!r} was started but "
                     + ", ".join(scripts) + " loaded in embedded mode (process='') in Apache's own processes",
                     starts + [ev(e) for e in embedded[:3]], subject=name)

    # -- interpreters ---------------------------------------------------------------------------------
    creating = facts.of("w6_creating")
    own_gil = {e.groups[0]: e for e in creating if e.groups[2]}
    loads6 = facts.of("w6_loading")
    pth_errors = facts.of("pth_error")
    for e in facts.of("subinterp"):
        # Threads of one daemon interleave their tracebacks line by line: read this one's own.
        thread = _thread_of(e.text)

        def near(events: List[Event]) -> Optional[Event]:
            same = _nearest([x for x in events if _thread_of(x.text) == thread], e.line) if thread else None
            return same or _nearest(events, e.line)

        context6 = near(loads6)
        group6 = context6.groups[1] if context6 else None
        # Only this thread's own creation line: another thread creating another interpreter meanwhile
        # says nothing about this traceback.
        created = (_nearest([x for x in creating if _thread_of(x.text) == thread], e.line) if thread
                   else _nearest(creating, e.line))
        pth = None
        if created is not None and (context6 is None or created.line > context6.line):
            # Refused while mod_wsgi was still creating the interpreter: a .pth file of its
            # python-path (site.addsitedir) imported the extension, before any script loaded.
            context6, group6 = created, created.groups[0]
            pth = next((x for x in reversed(pth_errors) if created.line < x.line < e.line
                        and (not thread or _thread_of(x.text) == thread)), None)
        if group6 and group6 in own_gil:
            package, site, module = _refused_extension(facts, e)
            where = f"{package} (installed in {site})" if site else (package or module or "a C extension")
            by = f" (imported by {pth.groups[1]} line {pth.groups[0]} while the interpreter was created)" if pth else ""
            sink.add("extension-refuses-interpreter", f"{where} will not import in sub-interpreter {group6!r}, which mod_wsgi created with its own GIL{by}: "
                     f"{module or 'its extension'} does not declare multi-interpreter support",
                     [ev(own_gil[group6])] + ([ev(context6)] if context6 is not own_gil[group6] else [])
                     + ([ev(pth)] if pth else []) + [ev(e)], subject=f"{group6}:{package or module}")
            continue
        context = _nearest(loads, e.line)
        app = f" (application group {context.groups[2]!r})" if context else (
            f" (sub-interpreter {group6!r})" if group6 else "")
        sink.add("c-extension-in-subinterpreter", f"a C extension refused a sub-interpreter{app}: "
                 f"{e.groups[0]}", [ev(e)] + ([ev(context)] if context else []) + ([ev(context6)] if context6 else []), subject=e.groups[0])
    compiled, runtime = facts.of("compiled"), facts.of("runtime")
    if compiled and runtime:
        c, r = compiled[0], runtime[0]
        sink.add("mod-wsgi-python-patch-mismatch", f"mod_wsgi was compiled for Python {c.groups[0]} but runs with Python {r.groups[0]}", [ev(c), ev(r)], subject=f"{c.groups[0]}->{r.groups[0]}")

    # -- configuration errors --------------------------------------------------------------------------
    syntax = facts.of("syntax")
    for e in facts.of("vhost"):
        syntax_at = _nearest(syntax, e.line)
        loc = f" ({syntax_at.groups[1]}:{syntax_at.groups[0]})" if syntax_at else ""
        if e.groups[0].lower().startswith("wsgi"):
            sink.add("global-only-directive-in-virtualhost", f"{e.groups[0]} is inside a <{e.groups[1]}>"
                     f"{loc}: Apache refuses to start", ([ev(syntax_at)] if syntax_at else []) + [ev(e)], subject=e.groups[0])
    for e in facts.of("invalid"):
        if e.groups[0] in _MOD_WSGI6_ONLY:
            sink.add("directive-unknown-to-mod-wsgi", f"{e.groups[0]} is a mod_wsgi 6 directive: the "
                     "mod_wsgi loaded is older (or not loaded at all), so httpd refused the configuration", [ev(e)], subject=e.groups[0])
            continue
        sink.add("mod-wsgi-not-loaded", f"{e.groups[0]} is used but mod_wsgi is not loaded", [ev(e)], subject="mod_wsgi")
    for e in facts.of("notfound"):
        sink.add("wsgi-script-unreadable", f"WSGI script {e.groups[0]} does not exist or cannot be read by "
                 "the server user", [ev(e)], subject=e.groups[0])

    _explain_mod_wsgi6(facts, sink, ev)

    findings = list(sink.items)
    checks: List[Any] = []
    if check_homes:
        findings, checks = _cross_check(facts, findings, embedder, server, default_user)
        _name_unreadable_bases(facts, findings, checks, embedder, default_user)
        _locate_daemon_dirs(facts, findings)
        _name_pth_files(findings)
    return findings, checks


def _name_unreadable_bases(facts: LogFacts, findings: List[dict], checks: List[Any], embedder: Any,
                           default_user: Optional[str]) -> None:
    """Turn a start-up failure into the concrete path the daemon user cannot read, when the
    home named in the log is on this machine (the base installation a venv was made from)."""
    for f in list(findings):
        if f["code"] not in ("python-startup-fails", "embedded-python-fails"):
            continue
        home = (f.get("data") or {}).get("python_home")
        base = next((c for c in checks if c.given == home), None)
        unread = [x for x in (base.findings if base else []) if x["code"] == "python-base-unreadable"]
        if unread:
            u = unread[0]
            if u in findings:
                findings.remove(u)
            ctx = f["data"].get("context")
            if f["code"] == "python-startup-fails":
                f.update({k: v for k, v in u.items() if k in ("code", "severity", "title", "fix")})
            f["message"] = (f"{ctx}: {u['message']} — the log shows: {f['data'].get('reason')}"
                            + (f"; the daemon respawned {f['data']['daemon_restarts']} times"
                               if f["data"].get("daemon_restarts") else ""))
            f["data"].update({"base": u["data"].get("base"), "blocked_at": u["data"].get("blocked_at")})
            for e in u["evidence"]:
                if e not in f["evidence"]:
                    f["evidence"].append(e)


def _safe_listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _cross_check(facts: LogFacts, findings: List[dict], embedder: Any, server: str,
                 default_user: Optional[str]) -> Tuple[List[dict], List[Any]]:
    from venvprobe.offline.access import UnknownUser, current_user, lookup_user
    from venvprobe.offline.home import check_home

    checks = []
    by_key = {(f["code"], (f.get("data") or {}).get("home")): f for f in findings}
    for home, uid in homes_in_log(facts):
        if not os.path.lexists(home):
            continue
        try:
            user = lookup_user(uid) if uid else (lookup_user(default_user) if default_user else current_user())
        except UnknownUser:
            continue
        check = check_home(home, embedder=embedder, user=user, server=server, do_predict=embedder is not None,
                           context="now, on this machine: ")
        checks.append(check)
        for f in check.findings:
            key = (f["code"], home)
            if key in by_key:
                note = f"check-home {home} as {user.name}: {f['message']}"
                if note not in by_key[key]["evidence"]:
                    by_key[key]["evidence"].append(note)
                continue
            if f["severity"] == "info":
                continue
            # The log names the home; the finding's cause comes from inspecting it now.
            f["evidence"].insert(0, f"{facts.source}: the log shows {('python-home ' if server == 'mod_wsgi' else 'home ')}{home}")
            by_key[key] = f
            findings.append(f)
    return findings, checks


__all__ = ["Event", "KNOWN_CODES", "LogFacts", "explain", "homes_in_log", "scan"]
