"""Scan an Apache/mod_wsgi or uWSGI error log into :class:`LogFacts` for ``explain-log``.

Every line is matched once against the patterns below (Apache's prefix, also behind a journald or
syslog prefix); CPython's "Python path configuration:" dumps are cut out as blocks
(:mod:`venvprobe.offline.pathconfig`).  No findings here: :mod:`venvprobe.offline.error_log` judges.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

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


def _norm(path: Optional[str]) -> Optional[str]:
    return os.path.normpath(path) if path else None


_SITE_FILE = re.compile(r'File "(?P<site>[^"]*?/(?:site|dist)-packages)/(?P<pkg>[^/"]+)')


_EXT_MODULE = re.compile(r"module ([\w.]+) does not support loading in subinterpreters")


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


_CONTEXT = re.compile(r"in (?:daemon process '([^']*)'|(embedded mode)|Apache child process)")


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


_BIN_PYTHON = re.compile(r"/(?:bin|Scripts)/python[\d.]*$")
