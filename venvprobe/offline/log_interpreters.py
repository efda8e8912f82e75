"""``explain-log`` for mod_wsgi 6's interpreter set-up and initialisation messages.

WSGI0035/0038/0103/0087 (an interpreter that cannot be set up: its requests fail) and
WSGI0188/0189/0091/0095 (code run at initialisation raised: a .pth file, a package imported at
start-up), tied together by the thread's own lines and the traceback logged after them.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from venvprobe.offline.log_scan import _APACHE, Event, LogFacts, _context_of, _evidence, _thread_of
from venvprobe.rules.registry import Findings

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


def _explain_interpreter_init(facts: LogFacts, coded: Dict[str, List[Event]], sink: Findings, ev: Any) -> None:
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
        f = sink.add("interpreter-setup-fails", what + (f"; the cause logged: {cause}" if cause else
                                                                          "; the log gives no cause"), evidence, subject=f"{ctx}:{cause}")
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
        f = sink.add("interpreter-init-exception", f"{exc} raised while mod_wsgi initialised "
                     f"{', '.join(c['interps'])} of {ctx}{c['where']}; mod_wsgi "
                     + ("ignored it (SystemExit) and carried on" if c["ignored"] else "logged it and carried on"), evidence, subject=f"{ctx}:{exc}")
        f["data"].update({"context": ctx, "exception": exc, "interpreters": c["interps"]})
        if c.get("entry"):
            f["data"]["python_path_entry"] = c["entry"]
    for e in coded.get("0091", []):
        if id(e) not in used:
            ctx = _context_of(e, facts)
            pm = re.search(r"failed for '([^']*)'", e.groups[1])
            f = sink.add("interpreter-init-exception", f"site.addsitedir() failed for the python-path "
                         f"entry {pm.group(1) if pm else '?'} in {ctx}: python-path entries from there on were not added",
                         [ev(e)], subject=f"{ctx}:0091")
            f["data"]["context"] = ctx
    for e in coded.get("0095", []):
        if id(e) not in used:
            ctx = _context_of(e, facts)
            f = sink.add("interpreter-init-exception", f"the 'site' module cannot be imported in {ctx}: "
                         "python-path (python-path= / WSGIPythonPath) is not applied there", [ev(e)], subject=f"{ctx}:site")
            f["data"]["context"] = ctx
    for e in coded.get("0201", []):
        sink.add("free-threading-scope-ignored", "WSGIFreeThreading is set inside a <WSGIInterpreterOptions> "
                 "block with application-group=: mod_wsgi ignores it there, since free-threading is a property of the "
                 "whole process", [ev(e)], subject="WSGI0201")


def _interp_of(e: Event) -> str:
    m = re.search(r"for (sub-interpreter '[^']*'|main interpreter)", e.groups[1])
    return m.group(1) if m else "an interpreter"
