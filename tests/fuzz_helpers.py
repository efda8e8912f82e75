"""Drive every consumer of a report, an expectations file, a config or a log with one input.

Used by the fuzzing suite (tests/test_fuzz.py) and to replay the crash
inputs kept under tests/data/fuzz/.  A *refusal* (the one-line error the
CLI prints with exit 2) is a correct answer; any other exception is a crash.
"""

from __future__ import annotations

import copy
import random
import json
import sys
from pathlib import Path
from typing import Any, List

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data" / "fuzz"

KEY = b"k" * 32


class Refused(Exception):
    """The input was refused with a one-line error: the right answer for bad input."""


def _refusals():
    from venvprobe.commands import UsageError
    from venvprobe.expectations import ExpectationsError
    from venvprobe.fleet import FetchError
    from venvprobe.offline.apache_config import ConfigError
    from venvprobe.offline.uwsgi_config import IniError

    return (UsageError, ExpectationsError, FetchError, ConfigError, IniError)


def load_report_text(text: str) -> dict:
    """What `report --input`, diff, compare and snapshot do with a report file's text."""
    from venvprobe.fleet.targets import _parse_report_text

    try:
        return _parse_report_text(text, "<fuzz>")
    except _refusals() as exc:
        raise Refused(str(exc)) from None


def exercise_report(report: Any, other: dict) -> None:
    """Every reader of a loaded report: analyze, render (all formats), diff, compare, snapshot, redact, fleet."""
    from venvprobe.analyze import analyze
    from venvprobe.compare import compare_workers, TargetOutcome
    from venvprobe.render.checks import render as render_compare
    from venvprobe.diff import diff_reports, render_diff, summary_line
    from venvprobe.expectations import loads
    from venvprobe.workers import distinct_workers, fingerprint, worker_differences
    from venvprobe.probe.metrics import render_metrics
    from venvprobe.redact import redact_report
    from venvprobe.render import FORMATS, SECTIONS, render, summary_counts
    from venvprobe.snapshot import snapshot

    try:
        report = load_report_text(json.dumps(report))
    except Refused:
        return
    report = copy.deepcopy(report)
    report["findings"] = analyze(report)
    for fmt in FORMATS:
        render(report, fmt)
    for section in SECTIONS:
        render(report, "text", [section])
    summary_counts(report)
    render_metrics(report)
    for a, b in ((report, other), (other, report)):
        d = diff_reports(a, b)
        summary_line(d)
        for fmt in ("text", "markdown", "json"):
            render_diff(d, fmt, "a", "b")
    expectations = loads(snapshot(other, "<fuzz>"), "<snapshot>")
    outcome = TargetOutcome("<fuzz>", results=compare_workers(expectations, [report, other]))
    for fmt in ("table", "json", "junit", "tap"):
        render_compare([outcome], fmt, "<fuzz>")
    loads(snapshot(report, "<fuzz>"), "<snapshot of fuzz>")
    redact_report(report, key=KEY)
    redact_report(report, key=KEY, users=True)
    workers = distinct_workers([report, other])
    worker_differences(workers)
    fingerprint(report)


def exercise_expectations(text: str, report: dict) -> None:
    """Load an expectations file's text and check a real report against it."""
    from venvprobe.compare import compare_workers, TargetOutcome
    from venvprobe.render.checks import render as render_compare
    from venvprobe.expectations import loads

    try:
        expectations = loads(text, "<fuzz>")
    except _refusals():
        return
    outcome = TargetOutcome("<fuzz>", results=compare_workers(expectations, [report]))
    for fmt in ("table", "json", "junit", "tap"):
        render_compare([outcome], fmt, "<fuzz>")


def run_cli(args: List[str]) -> int:
    """The CLI in-process: a refusal is exit 2 with one line; anything raised is a crash."""
    import contextlib
    import io

    from venvprobe._cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(args))
    lines = err.getvalue().splitlines()
    if code == 2:
        assert len(lines) == 1, lines
    return code


OFFLINE = ["--no-homes", "--no-predict", "--no-confirm", "--fail-on", "never"]


def exercise_apache(text: str, directory: Path) -> None:
    """check-apache on one configuration file, every format (no programs run)."""
    conf = directory / "fuzz.conf"
    conf.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["check-apache", str(conf), *OFFLINE, "--envvars", str(directory / "no-envvars"),
                 "--format", fmt, "-o", str(directory / "out")])


def exercise_uwsgi(text: str, directory: Path) -> None:
    ini = directory / "fuzz.ini"
    ini.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["check-uwsgi", str(ini), *OFFLINE, "--format", fmt, "-o", str(directory / "out")])


def exercise_log(text: str, directory: Path) -> None:
    log = directory / "fuzz.log"
    log.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "markdown", "json"):
        run_cli(["explain-log", str(log), "--no-check-homes", "--fail-on", "never", "--format", fmt,
                 "-o", str(directory / "out")])


def crash_signature(exc: BaseException) -> str:
    """Exception type and the innermost venvprobe frame: one crash, however it was reached."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "venvprobe" in f.filename and "tests" not in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return f"{type(exc).__name__} in {where}"


# ---------------------------------------------------------------------------
# generators: each takes a random.Random (hypothesis' st.randoms() in the
# tests, so failures shrink and replay; a seeded Random in scripts)

_HOSTILE_TEXT = ["", "x", "/", "/srv/app", "..", "${A}", "%d", "\x1b[2J", "\u202e", "\x00", "a\nb", "[x](javascript:1)",
                 "<img src=x onerror=1>", "é", "\udcff", "*", "**", "[z-a]", "[", "]", "{", "}", '"', "'", "\\", "=",
                 "#", ";", " ", "\t", "~", "!", "|", "9" * 40, "-1", "0", "true", "nan"]
_JSON_VALUES = [None, True, False, 0, -1, 10 ** 30, 1.5, "", "x", "/", [], [1], ["a"], [None], [[]], [{}], {},
                {"a": 1}, {"error": 1}, {"error": "x"}, {"path": 1}, {"name": []}, {"kind": {}}, {"index": "0"}]


def _text(rnd: random.Random) -> str:
    parts = [rnd.choice(_HOSTILE_TEXT) for _ in range(rnd.randint(0, 3))]
    return "".join(parts)


def _json_value(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if roll < 0.5 or depth > 2:
        return copy.deepcopy(rnd.choice(_JSON_VALUES)) if rnd.random() < 0.7 else _text(rnd)
    if roll < 0.75:
        return [_json_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {_text(rnd) or "k": _json_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def _paths(obj: Any, prefix: tuple = ()) -> List[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            out += _paths(v, prefix + (i,))
    return out


def mutate_report(base: dict, rnd: random.Random) -> dict:
    """*base* with 1-4 fields replaced by values of other types, removed, or given hostile text."""
    report = copy.deepcopy(base)
    paths = _paths(report)[1:]
    for _ in range(rnd.randint(1, 4)):
        path = rnd.choice(paths)
        parent = report
        try:
            for key in path[:-1]:
                parent = parent[key]
            if rnd.random() < 0.15 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = _json_value(rnd)
        except (KeyError, IndexError, TypeError):
            continue
    return report


def report_text(base: dict, rnd: random.Random) -> str:
    """A report file's text: mostly a mutated report, sometimes a damaged one."""
    text = json.dumps(mutate_report(base, rnd), ensure_ascii=rnd.random() < 0.5)
    if rnd.random() < 0.2:
        cut = rnd.randint(0, len(text))
        text = text[:cut] + rnd.choice(["", "]", "}", "\"", "[" * 2000, "\x00", "\udcff"]) + text[cut + 1:]
    return text


_EXP_KEYS = {
    "interpreter": ["python", "prefix", "base_prefix", "version", "executable", "in_venv", "home", "implementation"],
    "identity": ["in_venv", "server", "mode", "process_group", "application_group", "main_interpreter", "user"],
    "sys_path": ["first", "before", "include", "exclude"],
    "distributions": ["forbid", "only_from_venv", "require"],
    "shadowing": ["allow"],
    "findings": ["max", "allow", "forbid"],
    "workers": ["identical", "ignore"],
    "fields": ["interpreter.prefix", "sys_path.entries", "x"],
}
_TOML_VALUES = ['"3.11"', '"/srv/*/venv"', '"/srv/[z-a]"', '"/' + "*a" * 30 + '*b"', "true", "1", "-1", "1.5",
                '{ glob = "/srv/**" }', '{ glob = "[z-a]" }', '{ glob = ["/a", 1] }', '{ version = ">=3.11" }',
                '{ version = "!!" }', '{ one_of = [] }', '{ equals = [] }', '{ nope = 1 }', "[]", '[["a", "b"]]',
                '[["origin:venv_site"]]', '[1, "a"]', '[{ name = "six", reason = "r" }]', '[{ name = "" }]',
                '["six"]', '{ error = 0, warning = "x" }', '{ x = { y = { z = 1 } } }', '""', '"origin:pth"',
                "1979-05-27T07:32:00Z", '"\\u202e"', '{ django = ">=4" }', '"' + "a" * 300 + '"']


def expectations_text(rnd: random.Random) -> str:
    """An expectations file: known tables and keys with values of every kind, sometimes damaged."""
    lines = ["version = 1"] if rnd.random() < 0.8 else [rnd.choice(["version = 2", 'version = "1"', "", "description = 1"])]
    if rnd.random() < 0.02:
        lines.append("x = " + "[" * 3000 + "]" * 3000)
    for _ in range(rnd.randint(1, 5)):
        table = rnd.choice(list(_EXP_KEYS) + ["distributions.require", "nope", "interpreter.x"])
        lines.append(f"[{table}]")
        for _ in range(rnd.randint(0, 4)):
            key = rnd.choice(_EXP_KEYS.get(table, ["django", "x"]))
            lines.append(f"{key} = {rnd.choice(_TOML_VALUES)}")
    text = "\n".join(lines) + "\n"
    if rnd.random() < 0.2:
        cut = rnd.randint(0, len(text))
        text = text[:cut] + rnd.choice(["[", "]", "=", "\"", "{", "\n[[x]]\n", "\x00"]) + text[cut:]
    return text


_APACHE_DIRECTIVES = [
    "WSGIScriptAlias {url} {path}", "WSGIScriptAlias", "WSGIScriptAliasMatch ^/(.*) {path}",
    "WSGIScriptAlias {url} {path} process-group={name} application-group={name}",
    "WSGIDaemonProcess {name} python-home={path} python-path={path}:{path} user={text} threads=x processes=-1",
    "WSGIDaemonProcess {name} {text}", "WSGIDaemonProcess", "WSGIProcessGroup {name}", "WSGIApplicationGroup {text}",
    "WSGIPythonHome {path}", "WSGIPythonPath {path}", "WSGIRestrictEmbedded {text}", "WSGIPythonHome",
    "WSGIInterpreterOptions {text}", "WSGIFreeThreading {text}", "WSGIPerInterpreterGIL {text}",
    "Define {name} {text}", "Define {name}", "Define A ${{A}}${{A}}", "UnDefine {name}", "ServerName {text}",
    "ServerRoot {path}", "User {text}", "LoadModule wsgi_module {path}", "Include {path}",
    "IncludeOptional {dir}/*.conf", "IncludeOptional {dir}/[z-a]*", "Alias {url} {path}", "{text}",
    "<VirtualHost {text}>", "</VirtualHost>", "<IfModule {name}>", "<IfModule !{name}>", "</IfModule>",
    "<IfDefine {name}>", "</IfDefine>", "<Directory {path}>", "<Directory ~ {text}>", "</Directory>",
    "<DirectoryMatch {text}>", "</DirectoryMatch>", "<Location {url}>", "</Location>", "<Files {text}>",
    "</Files>", "<Else>", "</Else>", "<Macro {name}>", "</Macro>", "Use {name}", "\\", "#{text}",
]


def apache_text(rnd: random.Random, directory: Path) -> str:
    """A configuration: directives (and broken ones) with hostile arguments, some nesting, includes."""
    def fill(template: str) -> str:
        return template.format(
            url=rnd.choice(["/", "/app", "", "/a b", "/%{x}", _text(rnd)]),
            path=rnd.choice(["/srv/app/app.wsgi", str(directory / "fuzz.conf"), str(directory), "relative.wsgi",
                             "/nonexistent/" + _text(rnd), "${A}", '"/srv/q u"', _text(rnd)]),
            name=rnd.choice(["app", "A", "wsgi_module", "mod_wsgi.c", "", _text(rnd)]),
            dir=str(directory), text=_text(rnd))
    lines = [fill(rnd.choice(_APACHE_DIRECTIVES)) for _ in range(rnd.randint(1, 25))]
    roll = rnd.random()
    if roll < 0.03:  # deep nesting: a RecursionError before sections were capped
        depth = rnd.choice([150, 3000])
        lines = ["<IfModule !x>"] * depth + lines + ["</IfModule>"] * depth
    elif roll < 0.06:  # a Define that doubles itself
        lines = ["Define A x"] + ["Define A ${A}${A}"] * rnd.choice([20, 40]) + ["WSGIPythonHome ${A}"] + lines
    return "\n".join(lines) + "\n"


_UWSGI_KEYS = ["module", "wsgi", "wsgi-file", "file", "mount", "home", "virtualenv", "venv", "pyhome", "h",
               "pythonpath", "python-path", "pp", "plugin", "plugins", "plugins-dir", "single-interpreter", "i",
               "uid", "gid", "env", "chdir", "master", "processes", "enable-threads", "lazy-apps", "x"]


def uwsgi_text(rnd: random.Random) -> str:
    lines = []
    for _ in range(rnd.randint(1, 20)):
        roll = rnd.random()
        if roll < 0.15:
            lines.append(rnd.choice(["[uwsgi]", "[other]", "[", "[uwsgi", "[]"]))
        elif roll < 0.2:
            lines.append(rnd.choice(["; c", "# c", "", _text(rnd)]))
        else:
            value = rnd.choice(["app", "/srv/app", "%d/app.py", "%p", "%%", "/a=/b.py", "=", "/x=", "A=1", "A",
                                "true", "python3", "python3,http", "", _text(rnd), "@(exec://x)", "$(HOME)"])
            lines.append(f"{rnd.choice(_UWSGI_KEYS)}{rnd.choice([' = ', '=', ' '])}{value}")
    if rnd.random() < 0.8:
        lines.insert(0, "[uwsgi]")
    return "\n".join(lines) + "\n"


def _log_corpus() -> List[str]:
    lines: List[str] = []
    for path in sorted((REPO / "tests" / "data" / "offline").glob("*.log")):
        lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


_LOG_LINES: List[str] = []


def log_text(rnd: random.Random) -> str:
    """Lines of real mod_wsgi/uWSGI logs, shuffled, cut and spliced with hostile text."""
    if not _LOG_LINES:
        _LOG_LINES.extend(_log_corpus())
    out = []
    for _ in range(rnd.randint(1, 30)):
        line = rnd.choice(_LOG_LINES)
        roll = rnd.random()
        if roll < 0.2:
            cut = rnd.randint(0, len(line))
            line = line[:cut] + _text(rnd) + line[cut:]
        elif roll < 0.3:
            line = line[: rnd.randint(0, len(line))]
        out.append(line.replace("@ROOT@", rnd.choice(["/srv", "", _text(rnd)])))
    return "\n".join(out) + "\n"


def small_base_report() -> dict:
    """A real report of this interpreter, trimmed to a few items per list, plus shadowing of both kinds."""
    from venvprobe.analyze import analyze
    from venvprobe.report import collect_foreign

    base = collect_foreign(sys.executable)
    base["distributions"] = base["distributions"][:4]
    sp = base["sys_path"]
    sp["entries"] = sp["entries"][:6]
    sp["pth_files"] = (sp.get("pth_files") or [])[:2]
    mods = base["modules"]
    mods["top_level"] = (mods.get("top_level") or [])[:4]
    mods["extensions"] = (mods.get("extensions") or [])[:3]
    base["shadowed"] = {
        "modules": [
            {"name": "six", "kind": "module", "stdlib": False, "loaded_file": "/a/six.py",
             "winner": {"index": 1, "entry": "/a", "kind": "module", "path": "/a/six.py"},
             "losers": [{"index": 2, "entry": "/b", "kind": "module", "path": "/b/six.py"}]},
            {"name": "ns", "kind": "namespace_split", "portions": [{"index": 1, "entry": "/a", "path": "/a/ns"}]}],
        "distributions": [
            {"name": "six", "versions_differ": True, "top_level": ["six"],
             "winner": {"version": "1", "location": "/a", "location_index": 1},
             "losers": [{"version": "2", "location": "/b", "location_index": 2}],
             "loaded": {"six": {"file": "/a/six.py", "copy_index": 0}}}],
    }
    base["findings"] = analyze(base)
    return base
