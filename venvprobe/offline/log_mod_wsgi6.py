"""``explain-log`` for mod_wsgi 6's coded messages (``WSGI0036: ...``, see :data:`KNOWN_CODES`):
start-up failures per process, homes, daemons that cannot start (WSGI0003-0011, 0025).

Interpreter set-up and initialisation (WSGI0035/0038/0087/0091/0095/0103/0188/0189) is in
:mod:`venvprobe.offline.log_interpreters`.  Emits through the findings sink as ``explain-log``.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Set

from venvprobe.offline.log_interpreters import _explain_interpreter_init, _interp_of
from venvprobe.offline.log_scan import _BIN_PYTHON, Event, LogFacts, _context_of
from venvprobe.rules.registry import Findings

# mod_wsgi 6 message codes explain-log turns into findings (each is tested with a line of its
# format string or a real capture: tests/test_explain_log_mod_wsgi6.py).
KNOWN_CODES = {
    "0001": "Python initialisation failed in Apache child process (embedded mode)",
    "0002": "Python child initialisation failed in Apache child process",
    "0003": "Daemon process cannot chroot to its chroot= directory; it exits",
    "0004": "Daemon process cannot set its group id; it exits",
    "0005": "Daemon process cannot set its supplementary groups; it exits",
    "0006": "Daemon process cannot initialise the groups of its user; it exits",
    "0007": "Daemon process cannot switch to its user id; it exits",
    "0009": "Daemon process cannot change to its home= directory; it exits",
    "0010": "Daemon process cannot change to its user's home directory; it exits",
    "0011": "Daemon process cannot determine its user's home directory; it exits",
    "0025": "Daemon process configuration failed; it exits and is restarted after a delay",
    "0028": "Python initialisation failed in daemon process",
    "0029": "Python child initialisation failed in daemon process",
    "0035": "Unable to set up an interpreter",
    "0036": "Python interpreter configuration failed (the reason follows the colon)",
    "0038": "Python based handlers unavailable in the process (main interpreter not set up)",
    "0087": "Unable to acquire an interpreter for a request",
    "0091": "site.addsitedir() failed for a python-path entry; the remaining entries are not added",
    "0095": "Unable to import 'site': python-path is not applied",
    "0099": "mod_wsgi compiled for one Python patch level, running another",
    "0100": "Unable to stat Python home",
    "0101": "Python home is not a directory",
    "0102": "Python home is not accessible",
    "0103": "Python based handlers unavailable for an interpreter (it could not be set up)",
    "0135": "Target WSGI script not found or unable to stat",
    "0143": "Embedded mode disabled by WSGIRestrictEmbedded",
    "0150": "No WSGI daemon process of that name has been configured",
    "0151": "No WSGI daemon process of that name has been configured",
    "0188": "Exception raised during Python interpreter initialisation",
    "0189": "SystemExit raised during Python interpreter initialisation (ignored)",
    "0198": "WSGIPerInterpreterGIL requires Python 3.12 or later",
    "0200": "WSGIFreeThreading On with a Python build that is not free-threaded",
    "0201": "WSGIFreeThreading inside <WSGIInterpreterOptions> with application-group= is ignored",
    "0202": "per-interpreter GIL skipped: free-threading is active in the process",
    "0210": "Embedded mode cannot be used: Python was not initialised in this process",
}


_HOME_QUOTED = re.compile(r"Python home '([^']*)' for (?:daemon process '([^']*)'|embedded mode)")


_SCRIPT = re.compile(r"\[script ([^\]]*)\]")


_NOGROUP6 = re.compile(r"No WSGI daemon process called '([^']*)' has been configured")


def _explain_mod_wsgi6(facts: LogFacts, sink: Findings, ev: Any) -> None:
    """Findings from mod_wsgi 6's coded messages and uncoded info lines."""
    coded: Dict[str, List[Event]] = {}
    for e in facts.of("code"):
        coded.setdefault(e.groups[0], []).append(e)
    # -- start-up failures, one per process context ----------------------------------------------
    failed: Dict[str, List[Event]] = {}
    # WSGI0029 after WSGI0038: the main interpreter could not be set up (interpreter-setup-fails), Python did start
    no_main = {e.pid for e in coded.get("0038", [])}
    for code in ("0036", "0001", "0002", "0028", "0029"):
        for e in coded.get(code, []):
            if code in ("0002", "0029") and e.pid in no_main:
                continue
            ctx = "embedded mode" if code in ("0001", "0002") else _context_of(e, facts)
            failed.setdefault(ctx, []).append(e)
    homes: Dict[str, str] = {}
    for e in facts.of("w6_home"):
        homes[f"daemon process '{e.groups[1]}'" if e.groups[1] else "embedded mode"] = os.path.normpath(e.groups[0])
    platlib = facts.of("platlib")
    signals = facts.of("w6_signal")
    for ctx, events in sorted(failed.items()):
        events.sort(key=lambda e: e.line)
        reason = next((e.groups[1].split(": ", 1)[1] for e in events if e.groups[0] == "0036" and ": " in e.groups[1]),
                      "Python initialisation failed")
        group = ctx[len("daemon process '"):-1] if ctx.startswith("daemon") else None
        restarts = [s for s in signals if s.groups[0] == group] if group else []
        home = homes.get(ctx)
        # getpath's stderr lines carry no pid: take those between this context's
        # "Initializing Python runtime" and its first failure.
        inits = [i for i in facts.of("w6_init") if i.line < events[0].line
                 and (f"daemon process '{i.groups[0]}'" if i.groups[0] else "embedded mode") == ctx]
        start = inits[-1].line if inits else events[0].line - 4
        near = [p for p in platlib if start < p.line < events[0].line]
        evidence = [ev(p) for p in near[:2]] + [ev(e) for e in events[:2]]
        if restarts:
            evidence.append(ev(restarts[0]))
            evidence.append(f"{len(restarts)} daemon process restarts after signal {restarts[0].groups[2]} in this log "
                            "(it respawns forever)")
        where = f"python-home={home}" if home else "no python-home (the compiled-in prefix)"
        lost = " (CPython found neither its prefix nor its exec_prefix)" if near else ""
        if ctx == "embedded mode":
            use = [ev(e) for e in coded.get("0210", [])[:2]]
            f = sink.add("embedded-python-fails", f"Python cannot start in Apache's child processes "
                         f"(embedded mode, {where}): {reason}{lost}; every request handled in embedded mode fails with 500",
                         evidence + use, subject=f"embedded:{home or ''}")
        else:
            f = sink.add("python-startup-fails", f"Python cannot start in {ctx} ({where}): {reason}"
                         f"{lost}; the standard library is missing or not readable by the daemon user", evidence, subject=f"{ctx}:{home or ''}")
        f["data"].update({"context": ctx, "python_home": home, "reason": reason})
        if restarts:
            f["data"]["daemon_restarts"] = len(restarts)
    _explain_daemon_setup(facts, coded, sink, ev)
    _explain_interpreter_init(facts, coded, sink, ev)
    # -- python-home checks (WSGI0100/0101/0102) ---------------------------------------------------
    for code, kind in (("0100", "python-home-inaccessible"), ("0101", "python-home-missing"),
                       ("0102", "python-home-inaccessible")):
        for e in coded.get(code, []):
            m = _HOME_QUOTED.search(e.groups[1])
            home = os.path.normpath(m.group(1)) if m else "?"
            if code == "0100" and e.errno and e.errno.startswith("(2)"):
                kind = "python-home-missing"
            if code == "0101" and _BIN_PYTHON.search(home):
                sink.add("python-home-not-venv-root", f"python-home={home} is an interpreter, not a directory; use "
                         f"python-home={os.path.dirname(os.path.dirname(home))}", [ev(e)], subject=home)
                continue
            sink.add(kind, f"python-home={home}: {KNOWN_CODES[code].lower()} for the daemon user", [ev(e)], subject=home)
    # -- delegation, scripts, versions ---------------------------------------------------------------
    for e in coded.get("0143", []):
        script = _SCRIPT.search(e.text)
        target = script.group(1) if script else "a request"
        sink.add("embedded-mode-disabled", f"{target} is not delegated to a daemon group and embedded mode is "
                 "disabled (WSGIRestrictEmbedded On): HTTP 500", [ev(e)], subject=target)
    for e in coded.get("0150", []) + coded.get("0151", []):
        m = _NOGROUP6.search(e.groups[1])
        name = m.group(1) if m else "?"
        sink.add("daemon-group-undefined", f"a request is delegated to process group {name!r}, which is not declared "
                 "(or not visible from this VirtualHost): HTTP 500", [ev(e)], subject=name)
    for e in coded.get("0135", []):
        script = _SCRIPT.search(e.text)
        target = script.group(1) if script else e.groups[1]
        sink.add("wsgi-script-unreadable", f"WSGI script {target} does not exist or cannot be read by the server "
                 "user", [ev(e)], subject=target)
    for e in coded.get("0099", []):
        m = re.search(r"Compiled for Python/(\S+) but runtime using Python/(\S+?)(?: in |\.$)", e.groups[1])
        if m:
            sink.add("mod-wsgi-python-patch-mismatch", f"mod_wsgi was compiled for Python "
                     f"{m.group(1)} but runs with Python {m.group(2)}", [ev(e)], subject=f"{m.group(1)}->{m.group(2)}")
    # -- GIL and free-threading ------------------------------------------------------------------------
    for e in coded.get("0200", []):
        skipped = coded.get("0202", [])
        sink.add("free-threading-unavailable", "WSGIFreeThreading On, but this mod_wsgi's Python is not "
                 "a free-threaded build: the GIL stays" + ("; and because mod_wsgi still treats free-threading as active, "
                                                           "it skipped the per-interpreter GIL for "
                                                           + ", ".join(sorted({_interp_of(s) for s in skipped}))
                                                           if skipped else ""),
                 [ev(e)] + [ev(s) for s in skipped[:3]], subject="WSGIFreeThreading")
    if not coded.get("0200"):
        for e in coded.get("0202", []):
            sink.add("per-interpreter-gil-unsupported", f"{_interp_of(e)}: WSGIPerInterpreterGIL is skipped "
                     "because free-threading is active in the process", [ev(e)], subject=_interp_of(e))
    for e in coded.get("0198", []):
        sink.add("per-interpreter-gil-unsupported", "WSGIPerInterpreterGIL is set but this "
                 "mod_wsgi's Python is older than 3.12: every sub-interpreter shares the GIL", [ev(e)], subject="WSGIPerInterpreterGIL")


_DAEMON_SETUP = {
    # code: (what the daemon could not do, what to change)
    "0003": ("change root to {path}", "make chroot= an existing directory the daemon can be confined to, or drop it"),
    "0004": ("set its group id to gid={gid}", "give group= a group that exists (Apache's parent must run as root "
             "to switch)"),
    "0005": ("set the supplementary groups {path} for user {user}", "fix supplementary-groups= (every group must "
             "exist)"),
    "0006": ("initialise the groups of user {user} (gid={gid})", "give user= a user that exists in the passwd and "
             "group databases"),
    "0007": ("switch to uid={uid}", "give user= a user that exists (Apache's parent must run as root to switch)"),
    "0009": ("change its working directory to home={path}", "create {path} or fix home= on its WSGIDaemonProcess, and "
             "let the daemon's user search (x) every directory on the way"),
    "0010": ("change its working directory to {path}, the home directory of uid={uid} in the passwd database "
             "(used because user= differs from Apache's user and no home= is given)",
             "add home=<a directory uid={uid} can enter> to its WSGIDaemonProcess (e.g. the application's "
             "directory), or give the user a home directory that exists"),
    "0011": ("find a home directory for uid={uid} (no passwd entry)", "add home=<directory> to its WSGIDaemonProcess"),
}


_CODED_ERRNO = re.compile(r"\(\d+\)([^:]+): WSGI\d{4}: ")


_DAEMON_ARGS = re.compile(r"(?:to |directory |directory to |groups for )'(?P<path>[^']*)'|uid=(?P<uid>-?\d+)|gid=(?P<gid>\d+)"
                          r"|uname=(?P<user>[^ ]+)")


def _daemon_of(e: Event, facts: LogFacts) -> str:
    """These messages name no process group: the pid's "Starting daemon process" line does."""
    return f"daemon process '{facts.pid_group[e.pid]}'" if e.pid in facts.pid_group else "a mod_wsgi daemon process"


def _locate_daemon_dirs(facts: LogFacts, findings: List[dict]) -> None:
    """For a daemon that could not enter its directory, where the path is blocked for the daemon's uid
    now, on this machine (the log only gives the errno)."""
    from venvprobe.offline.access import UnknownUser, check_access, lookup_user

    for f in findings:
        data = f.get("data") or {}
        directory, ctx = data.get("directory"), data.get("context", "")
        if f["code"] != "daemon-cannot-start" or not directory or not ctx.startswith("daemon process '"):
            continue
        uid = facts.groups.get(ctx[len("daemon process '"):-1], {}).get("uid")
        try:
            user = lookup_user(str(uid)) if uid else None
        except UnknownUser:
            user = None
        if user is None:
            continue
        result = check_access(directory, user, "x")
        if result.ok:
            f["evidence"].append(f"now, on this machine: {user.name} can enter {directory}")
            continue
        f["message"] += f" — now, on this machine: {result.reason}"
        f["data"]["blocked_at"] = result.blocked_at
        f["evidence"].append(f"now, on this machine: {result.reason}")


def _explain_daemon_setup(facts: LogFacts, coded: Dict[str, List[Event]], sink: Findings, ev: Any) -> None:
    """WSGI0003-0011 (+0025): a daemon process that exits before Python starts and is respawned after a
    delay, forever; one finding per process group and cause."""
    told: Set[Optional[int]] = set()
    for code, (did, fix) in _DAEMON_SETUP.items():
        for e in coded.get(code, []):
            ctx = _daemon_of(e, facts)
            args: Dict[str, str] = {}
            for m in _DAEMON_ARGS.finditer(e.groups[1]):
                args.update({k: v for k, v in m.groupdict().items() if v is not None and k not in args})
            if code == "0005":  # "for uname=U of 'G1,G2'": the quoted part is the groups list
                q = re.search(r"of '([^']*)'", e.groups[1])
                args["path"] = q.group(1) if q else "?"
            args.setdefault("path", "?")
            args.setdefault("uid", facts.groups.get(ctx[len("daemon process '"):-1], {}).get("uid", "?"))
            args.setdefault("gid", "?")
            args.setdefault("user", "?")
            em = _CODED_ERRNO.search(e.text)
            why = f" ({em.group(1).strip()})" if em else ""
            advice = fix
            if code == "0009" and em and "ermission" in em.group(1):  # it exists: creating it is not the fix
                advice = ("let the daemon's user search (x) every directory on the way to {path} (chmod o+x, or a group "
                       "it is in), or point home= elsewhere")
            same = [x for x in coded.get(code, []) if _daemon_of(x, facts) == ctx]
            exits = [x for x in coded.get("0025", []) if x.pid in {y.pid for y in same}]
            evidence = [ev(e)] + [ev(x) for x in exits[:1]]
            if len(same) > 1:
                evidence.append(f"{len(same)} attempts in this log: mod_wsgi restarts it after a delay, forever")
            f = sink.add("daemon-cannot-start", f"{ctx} cannot {did.format(**args)}{why}: it exits before "
                         "Python starts and is restarted after a delay, forever; requests for it wait and fail. Fix: "
                         + advice.format(**args), evidence, subject=f"{ctx}:{code}")
            f["data"].update({"context": ctx, "wsgi_code": f"WSGI{code}", "attempts": len(same)})
            if args["path"] != "?" and code in ("0003", "0009", "0010"):
                f["data"]["directory"] = args["path"]
            told.update(x.pid for x in same)
    for e in coded.get("0025", []):
        if e.pid in told:
            continue
        ctx = _daemon_of(e, facts)
        f = sink.add("daemon-cannot-start", f"{ctx} failed to configure itself (user, group, chroot or "
                     "working directory; the line saying which is not in this log) and is restarted after a delay, forever",
                     [ev(e)], subject=f"{ctx}:0025")
        f["data"].update({"context": ctx, "wsgi_code": "WSGI0025"})
