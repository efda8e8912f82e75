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

Each distinct cause becomes one finding with the catalog code the live
report uses, the log lines as evidence, and — when the homes named in the
log exist on this machine — the result of ``check-home`` on them (as the uid
the log says the daemon ran as).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from venvprobe.catalog import make_finding
from venvprobe.offline import pathconfig

# journald / syslog put "Dec 02 01:08:26 host apache2[100]: " before Apache's own prefix
_SYSLOG = r"(?:\S[^\[]*\[\d+\]: )?"
_APACHE = re.compile(r"^" + _SYSLOG + r"\[(?P<date>[^\]]*)\] \[(?P<module>[\w-]*):(?P<level>\w+)\] \[pid (?P<pid>\d+)(?::tid \d+)?\]"
                     r"(?: \[(?:client|remote) [^\]]*\])? (?P<msg>.*)$")
_WSGI_PID = re.compile(r"mod_wsgi \(pid=(\d+)(?:, process='([^']*)', application='([^']*)')?\)")
_ERRNO = re.compile(r"\((\d+)\)([^:]+): mod_wsgi")
_PATTERNS: Dict[str, "re.Pattern[str]"] = {
    # mod_wsgi 6 prefixes its warnings and errors with a code (WSGI_APLOGNO in its source).
    "code": re.compile(r"\bWSGI(\d{4}): (.*)$"),
    "w6_starting": re.compile(r"Starting daemon process '([^']*)' with uid=(\d+), gid=(\d+)"),
    "w6_home": re.compile(r"Python home set to '([^']*)' for (?:daemon process '([^']*)'|embedded mode)"),
    "w6_init": re.compile(r"Initializing Python runtime in (?:daemon process '([^']*)'|embedded mode)( with free-threading"
                          r" enabled)?"),
    "w6_signal": re.compile(r"Process '([^']*)' \(pid=(\d+)\) terminated by signal (\d+)"),
    "w6_creating": re.compile(r"Creating sub-interpreter '([^']*)' in (?:daemon process '([^']*)'|embedded mode)"
                              r"( with own GIL)?"),
    "w6_loading": re.compile(r"Loading WSGI script '([^']*)' into (?:main interpreter|sub-interpreter '([^']*)') "
                             r"(?:of daemon process '([^']*)'|in embedded mode)"),
    "pth_error": re.compile(r"Error processing line (\d+) of (.+\.pth):\s*$"),
    "w6_banner": re.compile(r"mod_wsgi/(\d+\.\d+\.\d+)\S* Python/(\d+\.\d+)\S* configured"),
    # CPython's getpath, on stderr (no prefix, no pid) just before start-up fails.
    "platlib": re.compile(r"^Could not find platform (independent|dependent) libraries <(prefix|exec_prefix)>"),
    "starting": re.compile(r"mod_wsgi \(pid=(\d+)\): Starting process '([^']*)' with uid=(\d+), gid=(\d+)"),
    "init": re.compile(r"mod_wsgi \(pid=(\d+)\): Initializing Python\."),
    "stat": re.compile(r"Unable to stat Python home (.*?)\. Python interpreter may not"),
    "notdir": re.compile(r"Python home (.*?) is not a directory\."),
    "notacc": re.compile(r"Python home (.*?) is not accessible\."),
    # after the three above: they also start with "Python home <path>"
    "home": re.compile(r"mod_wsgi \(pid=(\d+)\): Python home (.*)\.$"),
    "restrict": re.compile(r"Embedded mode of mod_wsgi disabled by runtime configuration: (.*)$"),
    "nogroup": re.compile(r"No WSGI daemon process called '([^']*)' has been configured: (.*)$"),
    "loading": re.compile(r"mod_wsgi \(pid=(\d+), process='([^']*)', application='([^']*)'\): Loading (?:Python|WSGI) script file '([^']*)'"),
    "died": re.compile(r"mod_wsgi \(pid=(\d+)\): Process '([^']*)' has died, deregister and restart it"),
    "compiled": re.compile(r"mod_wsgi: Compiled for Python/([\w.+]+)\."),
    "runtime": re.compile(r"mod_wsgi: Runtime using Python/([\w.+]+)\."),
    "vhost": re.compile(r"(\w+) cannot occur within <(\w+)> section"),
    "syntax": re.compile(r"Syntax error on line (\d+) of ([^:]+):"),
    "invalid": re.compile(r"Invalid command '<?(WSGI\w+)', perhaps misspelled or defined by a module not included"),
    "notfound": re.compile(r"Target WSGI script not found or unable to stat: (.*)$"),
    "subinterp": re.compile(r"(cannot load module more than once per process|PyO3 modules (?:do not yet support subinterpreters"
                            r"|compiled for CPython 3\.8 or older may only be initialized once per interpreter process"
                            r"|may only be initialized once per interpreter process)|does not support loading in "
                            r"subinterpreters|Interpreter change detected - this module can only be loaded into one "
                            r"interpreter per process)"),
    "uwsgi_notdir": re.compile(r"!!! Python Home is not a directory: (.*) !!!"),
    "uwsgi_home": re.compile(r"Set PythonHome to (.*)$"),
    "uwsgi_pep405": re.compile(r"PEP 405 virtualenv detected: (.*)$"),
    "uwsgi_version": re.compile(r"^Python version: (\d+\.\d+\.\d+)"),
    "uwsgi_setuid": re.compile(r"^setuid\(\) to (\d+)$"),
}
# Every pattern above contains one of these words.
_HINT = re.compile(r"mod_wsgi|Python|WSGI|cannot occur|Invalid command|Syntax error|PyO3|subinterpreter|more than once"
                   r"|Interpreter change|setuid|daemon process|Process '|sub-interpreter|Could not find platform|Error processing line")
_MOD_WSGI6_ONLY = ("WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGIInterpreterOptions", "WSGISwitchInterval")
_BIN_PYTHON = re.compile(r"/(?:bin|Scripts)/python[\d.]*$")
_LIBDIR = re.compile(r"^(?P<root>.*?)/(?:lib|lib64)/python\d+\.\d+(?:/(?:site|dist)-packages)?$")
MAX_EVIDENCE = 8


@dataclass
class Event:
    """A recognised log line."""

    kind: str
    line: int
    text: str
    groups: Tuple[str, ...]
    pid: Optional[int] = None
    errno: Optional[str] = None


@dataclass
class LogFacts:
    """What the log says happened, before it is turned into findings."""

    source: str
    lines: int = 0
    events: List[Event] = field(default_factory=list)
    blocks: List[pathconfig.PathConfig] = field(default_factory=list)
    block_pids: Dict[int, Optional[int]] = field(default_factory=dict)  # id(block) -> pid
    groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # process group -> uid, pids, lines
    pid_group: Dict[int, str] = field(default_factory=dict)
    pid_home: Dict[int, str] = field(default_factory=dict)
    flavour: str = "apache"
    uwsgi_uid: Optional[str] = None
    raw_lines: List[str] = field(default_factory=list, repr=False)
    mod_wsgi_version: Optional[str] = None  # from httpd's "mod_wsgi/X Python/Y configured" banner
    python_xy: Optional[str] = None

    def of(self, *kinds: str) -> List[Event]:
        return [e for e in self.events if e.kind in kinds]


def _evidence(facts: LogFacts, line: int, text: str) -> str:
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{facts.source}:{line}: {text}"


def scan(text: str, source: str = "<log>") -> LogFacts:
    """Recognise the interesting lines of an error log."""
    lines = text.splitlines()
    facts = LogFacts(source=source, lines=len(lines))
    facts.raw_lines = lines
    last_init_pid: Optional[int] = None
    init_at: List[Tuple[int, int]] = []  # (line, pid) of "Initializing Python."
    for number, raw in enumerate(lines, 1):
        if not _HINT.search(raw):
            continue  # most lines of a busy log are about something else: one cheap test
        m = _APACHE.match(raw)
        msg = m.group("msg") if m else raw
        pid = int(m.group("pid")) if m else None
        wp = _WSGI_PID.search(msg)
        if wp:
            pid = int(wp.group(1))
        errno = None
        em = _ERRNO.search(msg)
        if em:
            errno = f"({em.group(1)}){em.group(2).strip()}"
        for kind, rx in _PATTERNS.items():
            mm = rx.search(msg)
            if not mm:
                continue
            if kind == "uwsgi_version" and m:
                continue
            ev = Event(kind, number, raw, tuple(g or "" for g in mm.groups()), pid, errno)
            facts.events.append(ev)
            if kind == "starting":
                gpid, name, uid, gid = int(mm.group(1)), mm.group(2), mm.group(3), mm.group(4)
                g = facts.groups.setdefault(name, {"uid": uid, "gid": gid, "pids": [], "lines": []})
                g["pids"].append(gpid)
                g["lines"].append(number)
                facts.pid_group[gpid] = name
            elif kind == "w6_starting" and pid is not None:
                g = facts.groups.setdefault(mm.group(1), {"uid": mm.group(2), "gid": mm.group(3), "pids": [], "lines": []})
                g["pids"].append(pid)
                g["lines"].append(number)
                facts.pid_group[pid] = mm.group(1)
            elif kind == "w6_home" and pid is not None:
                facts.pid_home[pid] = mm.group(1)
            elif kind == "w6_banner":
                facts.mod_wsgi_version, facts.python_xy = mm.group(1), mm.group(2)
            elif kind == "home":
                facts.pid_home[int(mm.group(1))] = mm.group(2)
            elif kind == "init":
                last_init_pid = int(mm.group(1))
                init_at.append((number, last_init_pid))
            elif kind.startswith("uwsgi"):
                facts.flavour = "uwsgi"
                if kind == "uwsgi_setuid":
                    facts.uwsgi_uid = mm.group(1)
            break
    facts.blocks = pathconfig.parse(lines)
    for b in facts.blocks:
        # CPython's dump has no pid: take the latest "Initializing Python." before it.
        before = [pid for line, pid in init_at if line < b.start_line]
        facts.block_pids[id(b)] = before[-1] if before else None
    return facts


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
    return home


def _norm(path: Optional[str]) -> Optional[str]:
    return os.path.normpath(path) if path else None


def explain(facts: LogFacts, *, check_homes: bool = True, embedder: Any = None,
            default_user: Optional[str] = None) -> Tuple[List[dict], List[Any]]:
    """Findings for the scanned log (one per distinct cause) and the home checks run."""
    server = "uwsgi" if facts.flavour == "uwsgi" else "mod_wsgi"
    setting = "home" if server == "uwsgi" else "python-home"
    found: Dict[Tuple[str, str], dict] = {}

    def add(code: str, subject: str, message: str, evidence: Sequence[str], **kw: Any) -> dict:
        key = (code, subject)
        if key in found:
            f = found[key]
            for e in evidence:
                if e not in f["evidence"] and len(f["evidence"]) < MAX_EVIDENCE:
                    f["evidence"].append(e)
            f["data"]["occurrences"] = f["data"].get("occurrences", 1) + 1
            return f
        f = make_finding(code, message, list(evidence)[:MAX_EVIDENCE], server=server, **kw)
        f["data"] = {"subject": subject, "occurrences": 1}
        if subject.startswith("/"):
            f["data"]["home"] = subject
        found[key] = f
        return f

    ev = lambda e: _evidence(facts, e.line, e.text)  # noqa: E731
    stat_errors: Dict[str, Event] = {}
    for e in facts.of("stat", "notdir", "notacc", "uwsgi_notdir"):
        home = _norm(e.groups[0]) or ""
        stat_errors[home] = e
        if e.kind == "stat":
            if e.errno and e.errno.startswith("(2)"):
                add("python-home-missing", home, f"{setting}={home} does not exist ({e.errno})", [ev(e)])
            else:
                add("python-home-inaccessible", home, f"the daemon user cannot reach {setting}={home}"
                    + (f" ({e.errno})" if e.errno else "") + ": a parent directory is not traversable or the "
                    "directory is not readable", [ev(e)])
        elif e.kind == "notacc":
            add("python-home-inaccessible", home, f"{setting}={home} is not accessible (no search permission) for the "
                "daemon user", [ev(e)])
        else:
            if _BIN_PYTHON.search(home):
                root = os.path.dirname(os.path.dirname(home))
                add("python-home-not-venv-root", home, f"{setting}={home} is an interpreter, not a directory; "
                    f"use {setting}={root}", [ev(e)])
            else:
                add("python-home-missing", home, f"{setting}={home} is not a directory", [ev(e)])

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
            add("pythonhome-from-env", home, f"PYTHONHOME={home} from the server's environment overrides "
                + (f"{setting}={wsgi_home or prog_root}" if (wsgi_home or prog_root) else "the configured home")
                + f": Python looks for its standard library in {b.get('stdlib dir') or home}", evidence,
                severity="error")
            continue
        if not home:
            add("python-startup-fails", f"prog:{prog}", f"Python failed to start (program name {prog!r}, no home): "
                f"{b.exception or b.fatal}", evidence)
            continue
        if _BIN_PYTHON.search(home):
            root = os.path.dirname(os.path.dirname(home))
            add("python-home-not-venv-root", home, f"{setting}={home} is an interpreter, not a directory; "
                f"use {setting}={root}", evidence)
            continue
        m = _LIBDIR.match(home)
        if m:
            add("python-home-not-venv-root", home, f"{setting}={home} points inside a venv or installation "
                f"(lib/pythonX.Y); use {setting}={m.group('root')}", evidence)
            continue
        if home in stat_errors:
            e = stat_errors[home]
            code = "python-home-missing" if (e.errno or "").startswith("(2)") else (
                "python-home-inaccessible" if e.kind in ("stat", "notacc") else "python-home-missing")
            add(code, home, "", evidence)
            continue
        if os.path.isfile(os.path.join(home, "pyvenv.cfg")):
            add("pyvenv-cfg-unreadable", home, f"{setting}={home} is a venv but {server} used it as a Python home "
                f"(Py_SetPythonHome): its pyvenv.cfg was not readable by the daemon user, so no venv was detected",
                evidence + [f"{home}/pyvenv.cfg exists on this machine"])
            continue
        if os.path.isdir(home) and not any(os.path.isfile(os.path.join(home, "lib", d, "os.py"))
                                           for d in _safe_listdir(os.path.join(home, "lib"))):
            add("python-home-not-a-venv", home, f"{setting}={home} has no pyvenv.cfg and no standard library",
                evidence)
            continue
        why = ("mod_wsgi found no readable pyvenv.cfg in it (missing, or not readable by the daemon user), so it "
               "used it as a full installation" if server == "mod_wsgi" and prog in ("python3", "python", "") else
               "the standard library was not found under it")
        add("python-startup-fails", home, f"Python failed to start with {setting}={home}: {why} "
            f"({b.exception or b.fatal})", evidence)
    # Fill empty messages of findings first created from a stat error and then matched by a block.
    for (code, subject), f in found.items():
        if not f["message"]:
            f["message"] = f"{setting}={subject}: Python cannot start"
    if failures:
        restarts = facts.of("died")
        for f in found.values():
            if f["code"] in ("python-home-missing", "python-home-inaccessible", "python-home-not-venv-root",
                             "pyvenv-cfg-unreadable", "python-home-not-a-venv", "python-startup-fails",
                             "pythonhome-from-env") and restarts:
                f["data"]["daemon_restarts"] = len(restarts)
                note = f"{len(restarts)} daemon process restarts in this log (it respawns forever)"
                if note not in f["evidence"]:
                    f["evidence"].append(note)

    # -- delegation ---------------------------------------------------------------------------------
    for e in facts.of("restrict"):
        add("embedded-mode-disabled", e.groups[0], f"{e.groups[0]} is not delegated to a daemon group and embedded "
            "mode is disabled (WSGIRestrictEmbedded On): HTTP 500", [ev(e)])
    for e in facts.of("nogroup"):
        add("daemon-group-undefined", e.groups[0], f"{e.groups[1]} is delegated to process group {e.groups[0]!r}, "
            "which is not declared (or not visible from this VirtualHost): HTTP 500", [ev(e)])
    loads = facts.of("loading")
    embedded = [e for e in loads if e.groups[1] == ""]
    daemon_used = {e.groups[1] for e in loads if e.groups[1]}
    for name, g in facts.groups.items():
        if name not in daemon_used and embedded:
            starts = [_evidence(facts, ln, f"Starting process '{name}' with uid={g['uid']}") for ln in g["lines"][:1]]
            scripts = sorted({e.groups[3] for e in embedded})
            add("daemon-group-unused", name, f"daemon process group {name!r} was started but "
                + ", ".join(scripts) + " loaded in embedded mode (process='') in Apache's own processes",
                starts + [ev(e) for e in embedded[:3]])

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
            add("extension-refuses-interpreter", f"{group6}:{package or module}",
                f"{where} will not import in sub-interpreter {group6!r}, which mod_wsgi created with its own GIL{by}: "
                f"{module or 'its extension'} does not declare multi-interpreter support",
                [ev(own_gil[group6])] + ([ev(context6)] if context6 is not own_gil[group6] else [])
                + ([ev(pth)] if pth else []) + [ev(e)])
            continue
        context = _nearest(loads, e.line)
        app = f" (application group {context.groups[2]!r})" if context else (
            f" (sub-interpreter {group6!r})" if group6 else "")
        add("c-extension-in-subinterpreter", e.groups[0], f"a C extension refused a sub-interpreter{app}: "
            f"{e.groups[0]}", [ev(e)] + ([ev(context)] if context else []) + ([ev(context6)] if context6 else []))
    compiled, runtime = facts.of("compiled"), facts.of("runtime")
    if compiled and runtime:
        c, r = compiled[0], runtime[0]
        add("mod-wsgi-python-patch-mismatch", f"{c.groups[0]}->{r.groups[0]}",
            f"mod_wsgi was compiled for Python {c.groups[0]} but runs with Python {r.groups[0]}", [ev(c), ev(r)])

    # -- configuration errors --------------------------------------------------------------------------
    syntax = facts.of("syntax")
    for e in facts.of("vhost"):
        where = _nearest(syntax, e.line)
        loc = f" ({where.groups[1]}:{where.groups[0]})" if where else ""
        if e.groups[0].lower().startswith("wsgi"):
            add("global-only-directive-in-virtualhost", e.groups[0], f"{e.groups[0]} is inside a <{e.groups[1]}>"
                f"{loc}: Apache refuses to start", ([ev(where)] if where else []) + [ev(e)])
    for e in facts.of("invalid"):
        if e.groups[0] in _MOD_WSGI6_ONLY:
            add("directive-unknown-to-mod-wsgi", e.groups[0], f"{e.groups[0]} is a mod_wsgi 6 directive: the "
                "mod_wsgi loaded is older (or not loaded at all), so httpd refused the configuration", [ev(e)])
            continue
        add("mod-wsgi-not-loaded", "mod_wsgi", f"{e.groups[0]} is used but mod_wsgi is not loaded", [ev(e)])
    for e in facts.of("notfound"):
        add("wsgi-script-unreadable", e.groups[0], f"WSGI script {e.groups[0]} does not exist or cannot be read by "
            "the server user", [ev(e)])

    _explain_mod_wsgi6(facts, add, ev)

    findings = list(found.values())
    checks: List[Any] = []
    if check_homes:
        findings, checks = _cross_check(facts, findings, embedder, server, default_user)
        _name_unreadable_bases(facts, findings, checks, embedder, default_user)
        _locate_daemon_dirs(facts, findings)
        _name_pth_files(findings)
    return findings, checks


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
_CONTEXT = re.compile(r"in (?:daemon process '([^']*)'|(embedded mode)|Apache child process)")
_HOME_QUOTED = re.compile(r"Python home '([^']*)' for (?:daemon process '([^']*)'|embedded mode)")
_SCRIPT = re.compile(r"\[script ([^\]]*)\]")
_NOGROUP6 = re.compile(r"No WSGI daemon process called '([^']*)' has been configured")
_SITE_FILE = re.compile(r'File "(?P<site>[^"]*?/(?:site|dist)-packages)/(?P<pkg>[^/"]+)')
_EXT_MODULE = re.compile(r"module ([\w.]+) does not support loading in subinterpreters")


def _context_of(e: Event, facts: Optional[LogFacts] = None) -> str:
    """"daemon process 'x'" or "embedded mode" for a coded start-up message."""
    m = _CONTEXT.search(e.groups[1] if e.kind == "code" else e.text)
    if not m:
        # A line cut before its context (a log shipper's line limit): the pid's
        # "Starting daemon process" line still says where it ran.
        if facts is not None and e.pid in facts.pid_group:
            return f"daemon process '{facts.pid_group[e.pid]}'"
        return "embedded mode"
    return f"daemon process '{m.group(1)}'" if m.group(1) is not None else "embedded mode"


def _explain_mod_wsgi6(facts: LogFacts, add: Any, ev: Any) -> None:
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
            f = add("embedded-python-fails", f"embedded:{home or ''}", f"Python cannot start in Apache's child processes "
                    f"(embedded mode, {where}): {reason}{lost}; every request handled in embedded mode fails with 500",
                    evidence + use)
        else:
            f = add("python-startup-fails", f"{ctx}:{home or ''}", f"Python cannot start in {ctx} ({where}): {reason}"
                    f"{lost}; the standard library is missing or not readable by the daemon user", evidence)
        f["data"].update({"context": ctx, "python_home": home, "reason": reason})
        if restarts:
            f["data"]["daemon_restarts"] = len(restarts)
    _explain_daemon_setup(facts, coded, add, ev)
    _explain_interpreter_init(facts, coded, add, ev)
    # -- python-home checks (WSGI0100/0101/0102) ---------------------------------------------------
    for code, kind in (("0100", "python-home-inaccessible"), ("0101", "python-home-missing"),
                       ("0102", "python-home-inaccessible")):
        for e in coded.get(code, []):
            m = _HOME_QUOTED.search(e.groups[1])
            home = os.path.normpath(m.group(1)) if m else "?"
            if code == "0100" and e.errno and e.errno.startswith("(2)"):
                kind = "python-home-missing"
            if code == "0101" and _BIN_PYTHON.search(home):
                add("python-home-not-venv-root", home, f"python-home={home} is an interpreter, not a directory; use "
                    f"python-home={os.path.dirname(os.path.dirname(home))}", [ev(e)])
                continue
            add(kind, home, f"python-home={home}: {KNOWN_CODES[code].lower()} for the daemon user", [ev(e)])
    # -- delegation, scripts, versions ---------------------------------------------------------------
    for e in coded.get("0143", []):
        script = _SCRIPT.search(e.text)
        target = script.group(1) if script else "a request"
        add("embedded-mode-disabled", target, f"{target} is not delegated to a daemon group and embedded mode is "
            "disabled (WSGIRestrictEmbedded On): HTTP 500", [ev(e)])
    for e in coded.get("0150", []) + coded.get("0151", []):
        m = _NOGROUP6.search(e.groups[1])
        name = m.group(1) if m else "?"
        add("daemon-group-undefined", name, f"a request is delegated to process group {name!r}, which is not declared "
            "(or not visible from this VirtualHost): HTTP 500", [ev(e)])
    for e in coded.get("0135", []):
        script = _SCRIPT.search(e.text)
        target = script.group(1) if script else e.groups[1]
        add("wsgi-script-unreadable", target, f"WSGI script {target} does not exist or cannot be read by the server "
            "user", [ev(e)])
    for e in coded.get("0099", []):
        m = re.search(r"Compiled for Python/(\S+) but runtime using Python/(\S+?)(?: in |\.$)", e.groups[1])
        if m:
            add("mod-wsgi-python-patch-mismatch", f"{m.group(1)}->{m.group(2)}", f"mod_wsgi was compiled for Python "
                f"{m.group(1)} but runs with Python {m.group(2)}", [ev(e)])
    # -- GIL and free-threading ------------------------------------------------------------------------
    for e in coded.get("0200", []):
        skipped = coded.get("0202", [])
        add("free-threading-unavailable", "WSGIFreeThreading", "WSGIFreeThreading On, but this mod_wsgi's Python is not "
            "a free-threaded build: the GIL stays" + ("; and because mod_wsgi still treats free-threading as active, "
                                                      "it skipped the per-interpreter GIL for "
                                                      + ", ".join(sorted({_interp_of(s) for s in skipped}))
                                                      if skipped else ""),
            [ev(e)] + [ev(s) for s in skipped[:3]])
    if not coded.get("0200"):
        for e in coded.get("0202", []):
            add("per-interpreter-gil-unsupported", _interp_of(e), f"{_interp_of(e)}: WSGIPerInterpreterGIL is skipped "
                "because free-threading is active in the process", [ev(e)])
    for e in coded.get("0198", []):
        add("per-interpreter-gil-unsupported", "WSGIPerInterpreterGIL", "WSGIPerInterpreterGIL is set but this "
            "mod_wsgi's Python is older than 3.12: every sub-interpreter shares the GIL", [ev(e)])


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


def _name_pth_files(findings: List[dict]) -> None:
    """The traceback of a .pth line says only File "<string>": name the .pth files of that python-path entry
    when it exists on this machine (site runs them in name order)."""
    for f in findings:
        entry = (f.get("data") or {}).get("python_path_entry")
        if f["code"] != "interpreter-init-exception" or not entry:
            continue
        pth: List[str] = []
        try:
            with os.scandir(entry) as it:
                for n, d in enumerate(it):
                    if n >= 10000:  # bounded: a python-path entry is not expected to be huge
                        break
                    if d.name.endswith(".pth"):
                        pth.append(d.name)
        except OSError:
            continue
        pth.sort()
        if pth:
            shown = ", ".join(pth[:10]) + (f" and {len(pth) - 10} more" if len(pth) > 10 else "")
            f["message"] += f" — now, on this machine, {entry} holds: {shown}"
            f["data"]["pth_files"] = pth[:10]


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


def _explain_daemon_setup(facts: LogFacts, coded: Dict[str, List[Event]], add: Any, ev: Any) -> None:
    """WSGI0003-0011 (+0025): a daemon process that exits before Python starts and is respawned after a
    delay, forever; one finding per process group and cause."""
    told = set()
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
            f = add("daemon-cannot-start", f"{ctx}:{code}", f"{ctx} cannot {did.format(**args)}{why}: it exits before "
                    "Python starts and is restarted after a delay, forever; requests for it wait and fail. Fix: "
                    + advice.format(**args), evidence)
            f["data"].update({"context": ctx, "wsgi_code": f"WSGI{code}", "attempts": len(same)})
            if args["path"] != "?" and code in ("0003", "0009", "0010"):
                f["data"]["directory"] = args["path"]
            told.update(x.pid for x in same)
    for e in coded.get("0025", []):
        if e.pid in told:
            continue
        ctx = _daemon_of(e, facts)
        f = add("daemon-cannot-start", f"{ctx}:0025", f"{ctx} failed to configure itself (user, group, chroot or "
                "working directory; the line saying which is not in this log) and is restarted after a delay, forever",
                [ev(e)])
        f["data"].update({"context": ctx, "wsgi_code": "WSGI0025"})


_INTERP_NAME = re.compile(r"(main interpreter|sub-interpreter '[^']*')")
_TB_FILE = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+)')
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<value>.*))?$")


def _traceback_after(facts: LogFacts, e: Event) -> Tuple[List[Tuple[int, str]], Optional[str], Optional[str]]:
    """((line number, raw line) of the traceback, its innermost real source file, the exception line)
    logged right after *e* by the same thread."""
    thread = _thread_of(e.text)
    out: List[Tuple[int, str]] = []
    source = exc = None
    for number in range(e.line + 1, min(len(facts.raw_lines), e.line + 200) + 1):
        raw = facts.raw_lines[number - 1]
        if thread and _thread_of(raw) != thread:
            continue
        m = _APACHE.match(raw)
        msg = m.group("msg") if m else raw
        if not out and not msg.startswith("Traceback"):
            if _EXC_LINE.match(msg) and not msg.startswith(" "):  # raised from C: no frames
                return [(number, raw)], None, msg
            break
        if out and (re.search(r"\bWSGI\d{4}: ", msg) or not (msg.startswith(" ") or _EXC_LINE.match(msg))):
            break
        out.append((number, raw))
        fm = _TB_FILE.match(msg)
        if fm and not fm.group("file").startswith("<"):
            source = f"{fm.group('file')} line {fm.group('line')}"
        if len(out) > 1 and not msg.startswith(" ") and _EXC_LINE.match(msg):
            exc = msg
            break
        if len(out) >= 40:
            break
    return out, source, exc


def _explain_interpreter_init(facts: LogFacts, coded: Dict[str, List[Event]], add: Any, ev: Any) -> None:
    """WSGI0188/0189/0091/0095: Python code that mod_wsgi runs while it initialises an interpreter
    raised (a .pth on python-path, a broken 'mod_wsgi' package); WSGI0035/0038/0103/0087: an
    interpreter could not be set up at all, so requests for it fail.  One finding per cause."""
    def near(code: str, e: Event, before: int, after: int) -> List[Event]:
        """*code* events of e's thread at most *before*/*after* of that thread's lines away (other
        processes' lines interleave freely)."""
        t = _thread_of(e.text)
        mine = [x for x in coded.get(code, []) if x.pid == e.pid and x is not e
                and (t is None or _thread_of(x.text) == t) and e.line - 400 <= x.line <= e.line + 400]
        if not mine:
            return []

        def same_thread_between(a: int, b: int) -> int:
            rows = facts.raw_lines[a:b - 1] if facts.raw_lines else []
            return sum(1 for raw in rows if (_thread_of(raw) == t if t else f"[pid {e.pid}" in raw))

        return [x for x in mine if (x.line < e.line and same_thread_between(x.line, e.line) < before)
                or (x.line > e.line and same_thread_between(e.line, x.line) < after)]

    # -- interpreters that could not be set up (WSGI0035, then 0103/0038, then 0087 per request) --------------
    setups: Dict[Tuple[str, str], dict] = {}  # (context, interpreter) -> cause, events, traceback
    used: set = set()
    for e in coded.get("0035", []):
        m = _INTERP_NAME.search(e.groups[1])
        interp = m.group(1) if m else "an interpreter"
        ctx = _context_of(e, facts)
        s = setups.setdefault((ctx, interp), {"cause": None, "events": [], "tb": []})
        s["events"].append(e)
        # mod_wsgi logs the reason just before (WSGI0095) and the pending exception just after (WSGI0188)
        for x in near("0095", e, 3, 0):
            s["events"].append(x)
            used.add(id(x))
            s["cause"] = s["cause"] or f"the 'site' module cannot be imported in {ctx} (so python-path cannot be applied)"
        for x in near("0188", e, 0, 3) + near("0189", e, 0, 3):
            s["events"].append(x)
            used.add(id(x))
            tb, source, exc = _traceback_after(facts, x)
            if exc and not s["cause"]:
                s["cause"] = exc + (f" (in {source})" if source else "")
            elif exc and s["cause"] and exc not in s["cause"]:
                s["cause"] += f": {exc}"
            s["tb"] = s["tb"] or tb
    for code in ("0103", "0038", "0087"):
        for e in coded.get(code, []):
            m = _INTERP_NAME.search(e.groups[1])
            interp = "main interpreter" if code == "0038" else (m.group(1) if m else "an interpreter")
            s = setups.setdefault((_context_of(e, facts), interp), {"cause": None, "events": [], "tb": []})
            s["events"].append(e)
    merged: Dict[Tuple[str, str], dict] = {}
    for (ctx, interp), s in setups.items():
        mm = merged.setdefault((ctx, s["cause"] or ""), {"interps": [], "events": [], "tb": s["tb"]})
        mm["interps"].append(interp)
        mm["events"] += s["events"]
    for (ctx, cause), mm in merged.items():
        events = sorted(mm["events"], key=lambda x: x.line)
        requests = [x for x in events if x.groups[0] == "0087"]
        whole = "main interpreter" in mm["interps"] and any(x.groups[0] == "0038" for x in events)
        names = ", ".join(mm["interps"])
        what = (f"mod_wsgi could not set up {names} of {ctx}: "
                + ("no Python handler works in that process" if whole else "requests for it fail (HTTP 500)"))
        evidence = [ev(x) for x in events if x.groups[0] != "0087"][:5] + [ev(x) for x in requests[:1]]
        evidence += [_evidence(facts, n, raw) for n, raw in mm["tb"][-2:]]
        if len(requests) > 1:
            evidence.append(f"{len(requests)} requests refused in this log")
        f = add("interpreter-setup-fails", f"{ctx}:{cause}", what + (f"; the cause logged: {cause}" if cause else
                                                                     "; the log gives no cause"), evidence)
        f["data"].update({"context": ctx, "interpreters": mm["interps"], "cause": cause or None,
                          "requests_refused": len(requests)})
    # -- exceptions during initialisation that mod_wsgi logs and carries on after ------------------------------
    causes: Dict[Tuple[str, str], dict] = {}
    for e in sorted(coded.get("0188", []) + coded.get("0189", []), key=lambda x: x.line):
        if id(e) in used:
            continue
        m = _INTERP_NAME.search(e.groups[1])
        interp = m.group(1) if m else "an interpreter"
        ctx = _context_of(e, facts)
        tb, source, exc = _traceback_after(facts, e)
        exc = exc or e.groups[1].split(" exception raised", 1)[0]
        # mod_wsgi logs WSGI0091 just before the traceback when site.addsitedir() raised
        path_lines = near("0091", e, 5, 0)
        used.update(id(x) for x in path_lines)
        c = causes.setdefault((ctx, exc), {"where": "", "interps": [], "events": [], "tb": tb, "ignored": True})
        if path_lines and not c["where"]:
            pm = re.search(r"failed for '([^']*)'", path_lines[-1].groups[1])
            c["entry"] = pm.group(1) if pm else None
            c["where"] = (f" while site.addsitedir() processed the python-path entry {pm.group(1) if pm else '?'} "
                          "(a .pth file there; python-path entries from there on were not added)")
        elif source and not c["where"]:
            c["where"] = f" in {source}"
        if interp not in c["interps"]:
            c["interps"].append(interp)
        c["events"] += path_lines[-1:] + [e]
        c["ignored"] = c["ignored"] and e.groups[0] == "0189"
    for (ctx, exc), c in causes.items():
        evidence = [ev(x) for x in c["events"][:4]] + [_evidence(facts, n, raw) for n, raw in c["tb"][-2:]]
        f = add("interpreter-init-exception", f"{ctx}:{exc}", f"{exc} raised while mod_wsgi initialised "
                f"{', '.join(c['interps'])} of {ctx}{c['where']}; mod_wsgi "
                + ("ignored it (SystemExit) and carried on" if c["ignored"] else "logged it and carried on"), evidence)
        f["data"].update({"context": ctx, "exception": exc, "interpreters": c["interps"]})
        if c.get("entry"):
            f["data"]["python_path_entry"] = c["entry"]
    for e in coded.get("0091", []):
        if id(e) not in used:
            ctx = _context_of(e, facts)
            pm = re.search(r"failed for '([^']*)'", e.groups[1])
            f = add("interpreter-init-exception", f"{ctx}:0091", f"site.addsitedir() failed for the python-path "
                    f"entry {pm.group(1) if pm else '?'} in {ctx}: python-path entries from there on were not added",
                    [ev(e)])
            f["data"]["context"] = ctx
    for e in coded.get("0095", []):
        if id(e) not in used:
            ctx = _context_of(e, facts)
            f = add("interpreter-init-exception", f"{ctx}:site", f"the 'site' module cannot be imported in {ctx}: "
                    "python-path (python-path= / WSGIPythonPath) is not applied there", [ev(e)])
            f["data"]["context"] = ctx
    for e in coded.get("0201", []):
        add("free-threading-scope-ignored", "WSGI0201", "WSGIFreeThreading is set inside a <WSGIInterpreterOptions> "
            "block with application-group=: mod_wsgi ignores it there, since free-threading is a property of the "
            "whole process", [ev(e)])


def _interp_of(e: Event) -> str:
    m = re.search(r"for (sub-interpreter '[^']*'|main interpreter)", e.groups[1])
    return m.group(1) if m else "an interpreter"


def _refused_extension(facts: LogFacts, e: Event) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(package, site dir, module) of a "does not support loading in subinterpreters" ImportError,
    from the traceback lines just before it (same pid)."""
    m = _EXT_MODULE.search(e.text)
    module = m.group(1) if m else None
    lines = facts.raw_lines[max(0, e.line - 60):e.line - 1] if facts.raw_lines else []
    thread = _thread_of(e.text)
    if thread:
        lines = [raw for raw in lines if _thread_of(raw) == thread][-30:]
    for raw in reversed(lines):
        fm = _SITE_FILE.search(raw)
        if fm:
            return fm.group("pkg").split(".")[0], fm.group("site"), module
    return (module.split(".")[0].lstrip("_") if module and "." in module else None), None, module


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


_THREAD = re.compile(r"^" + _SYSLOG + r"\[[^\]]*\] \[[\w-]*:\w+\] \[pid (\d+):tid (\d+)\]")


def _thread_of(raw: str) -> Optional[Tuple[str, str]]:
    """(pid, tid) of an Apache error-log line, when its format shows the thread."""
    m = _THREAD.match(raw)
    return (m.group(1), m.group(2)) if m else None


def _nearest(events: List[Event], line: int) -> Optional[Event]:
    before = [e for e in events if e.line <= line]
    return before[-1] if before else None


def homes_in_log(facts: LogFacts) -> List[Tuple[str, Optional[str]]]:
    """(home, uid) pairs the server was configured with, per the log."""
    out: Dict[str, Optional[str]] = {}
    for e in facts.of("home"):
        pid = int(e.groups[0])
        group = facts.pid_group.get(pid)
        uid = facts.groups.get(group, {}).get("uid") if group else None
        out.setdefault(os.path.normpath(e.groups[1]), uid)
    for e in facts.of("w6_home"):
        uid = facts.groups.get(e.groups[1], {}).get("uid") if e.groups[1] else None
        out.setdefault(os.path.normpath(e.groups[0]), uid)
    for e in facts.of("uwsgi_home", "uwsgi_pep405"):
        out.setdefault(os.path.normpath(e.groups[0].strip()), facts.uwsgi_uid)
    return list(out.items())


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


__all__ = ["Event", "LogFacts", "explain", "homes_in_log", "scan"]
