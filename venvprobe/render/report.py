"""A report as tables, and in each format (text, Markdown, JSON, HTML).

Every human format is built from the same list of :class:`Table` views
(:func:`report_tables`), so text, Markdown and HTML always show the same
facts in the same order: findings first, then the sections.
"""

from __future__ import annotations

from venvprobe.analyze import summarize
from venvprobe.render import FORMATS, SECTIONS
from venvprobe.render.table import Table, format_value
from venvprobe.render.table import kv as _kv_table
from venvprobe.vocab import VIEW_SECTION
from venvprobe.vocab import section as _section
from venvprobe.vocab import section_error as _section_error

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Dict, List, Optional, Sequence


def report_tables(report: dict, sections: Optional[Sequence[str]] = None) -> List[Table]:
    """The tables that make up a rendered report, restricted to *sections*."""
    wanted = set(sections or SECTIONS)
    tables: List[Table] = []
    builders = [
        ("findings", _findings_tables),
        ("identity", _identity_tables),
        ("interpreter", _interpreter_tables),
        ("path", _path_tables),
        ("shadowed", _shadowed_tables),
        ("distributions", _distribution_tables),
        ("modules", _module_tables),
        ("process", _process_tables),
        ("environment", _environment_tables),
    ]
    for name, builder in builders:
        if name not in wanted:
            continue
        source = VIEW_SECTION.get(name, name)
        error = _section_error(report, source)
        if error:
            tables.append(Table(name, name, ("error",), [(error,)], "this section could not be collected"))
            continue
        try:
            tables.extend(builder(report))
        except Exception as exc:  # a malformed (e.g. hand-edited) report must still render
            tables.append(Table(name, name, ("error",), [(f"cannot render: {type(exc).__name__}: {exc}",)]))
    return tables


def _findings_tables(report: dict) -> List[Table]:
    findings = report.get("findings") or []
    counts = summarize(findings)
    rows = [(f.get("severity"), f.get("code"), f.get("message"), f.get("fix")) for f in findings]
    from venvprobe.render.text import counts_line

    note = counts_line(counts) if findings else "no findings"
    return [Table("findings", "Findings", ("severity", "code", "what", "fix"), rows, note, prose=(2, 3))]


def _identity_tables(report: dict) -> List[Table]:
    ident = _section(report, "identity") or {}
    server = ident.get("server") or {}
    pairs = [
        ("pid", ident.get("pid")),
        ("interpreter id", ident.get("interpreter_id")),
        ("main interpreter", ident.get("main_interpreter")),
    ]
    config = ident.get("interpreter_config") if isinstance(ident.get("interpreter_config"), dict) else {}
    if config:
        pairs.append(("GIL", f"{config.get('gil')} ({config.get('gil_source')})" if config.get("gil_source")
                      else config.get("gil")))
        pairs.append(("free-threaded build", config.get("free_threaded_build")))
        pairs.append(("checks extensions (PEP 489/684)", config.get("check_multi_interp_extensions")))
        if isinstance(config.get("config"), dict):
            pairs.append(("interpreter config", ", ".join(f"{k}={v}" for k, v in config["config"].items())
                          + f" ({config.get('config_source')})"))
    support = ident.get("extension_support")
    support = support if isinstance(support, dict) else {}
    if support.get("checked"):
        refused = [m for m in support.get("modules") or [] if isinstance(m, dict) and m.get("refused")]
        pairs.append(("extensions refused here", ", ".join(str(m.get("file")) for m in refused) or "none"))
    pairs.append(("server", server.get("kind")))
    for key, value in server.items():
        if key not in ("kind", "options"):
            if key == "application_group" and value == "":
                value = "%{GLOBAL} (the main interpreter)"
            pairs.append((f"server.{key}", value))
    pairs.append(("third-party C extensions", ident.get("third_party_extensions")))
    pairs.append(("WSGI script modules", ident.get("wsgi_script_modules")))
    probe = report.get("probe") or {}
    if probe:
        pairs.append(("probe mounted as", probe.get("mount")))
    return [_kv_table("identity", "Identity", pairs)]


# The Interpreter table's rows: a label and where the value is in the section (None: derived in
# _interpreter_tables).
_INTERPRETER_ROWS = (
    ("version", ("version",)),
    ("implementation", None),
    ("executable", ("executable",)),
    ("real executable (process)", ("real_executable",)),
    ("prefix", ("prefix",)),
    ("exec_prefix", ("exec_prefix",)),
    ("base_prefix", ("base_prefix",)),
    ("base_exec_prefix", ("base_exec_prefix",)),
    ("in venv", ("in_venv",)),
    ("home (PYTHONHOME)", ("home", "env_PYTHONHOME")),
    ("home (initialised with)", ("home", "initialised_with")),
    ("pyvenv.cfg", ("pyvenv_cfg", "path")),
    ("venv home / version", None),
    ("include-system-site-packages", ("pyvenv_cfg", "include_system_site_packages")),
    ("venv creator", None),
    ("sys.real_prefix (activate_this)", ("real_prefix",)),
    ("user site enabled", ("user_site", "ENABLE_USER_SITE")),
    ("USER_SITE", ("user_site", "USER_SITE")),
    ("flags", ("flags",)),
    ("shared libpython", ("build", "shared_libpython")),
    ("LDLIBRARY", ("build", "ldlibrary")),
    ("mapped objects", ("mapped_objects",)),
)


def _at(node: Any, path: Sequence[str]) -> Any:
    """The value at *path*; a missing or empty level reads as {} (a malformed one still raises)."""
    for key in path[:-1]:
        node = node.get(key) or {}
    return node.get(path[-1])


def _interpreter_tables(report: dict) -> List[Table]:
    it = _section(report, "interpreter") or {}
    cfg = it.get("pyvenv_cfg") or {}
    derived = {
        "implementation": f"{it.get('implementation')} ({it.get('cache_tag')}, {it.get('soabi')})",
        "venv home / version": f"{cfg.get('home')} / {cfg.get('version')}" if cfg else None,
        "venv creator": f"{cfg.get('creator')} {cfg.get('creator_version') or ''}".strip() if cfg else None,
    }
    pairs = [(label, derived[label] if path is None else _at(it, path)) for label, path in _INTERPRETER_ROWS]
    for key, value in (it.get("sysconfig_paths") or {}).items():
        pairs.append((f"sysconfig {key}", value))
    return [_kv_table("interpreter", "Interpreter", pairs)]


def _path_tables(report: dict) -> List[Table]:
    sp = _section(report, "sys_path") or {}
    rows = []
    for e in sp.get("entries") or []:
        flags = []
        if not e.get("exists"):
            flags.append("missing")
        elif not e.get("readable"):
            flags.append("unreadable")
        if e.get("is_zip"):
            flags.append("zip")
        if e.get("duplicate_of") is not None:
            flags.append(f"dup of {e['duplicate_of']}")
        if e.get("non_utf8"):
            flags.append("non-utf8")
        origin = e.get("origin") or {}
        rows.append((e.get("index"), " ".join(flags) or "ok", origin.get("kind"), origin.get("detail"), e.get("path")))
    return [Table("path", "sys.path (in order)", ("index", "state", "origin", "where it came from", "path"), rows,
                  prose=(3,))]


def _shadowed_tables(report: dict) -> List[Table]:
    sh = _section(report, "shadowed") or {}
    drows = []
    for d in sh.get("distributions") or []:
        win = d.get("winner") or {}
        losers = d.get("losers") or []
        drows.append((d.get("name"), f"{win.get('version')} @ [{win.get('location_index')}] {win.get('location')}",
                      "; ".join(f"{l.get('version')} @ [{l.get('location_index')}] {l.get('location')}" for l in losers)))
    mrows: List[tuple] = []
    for m in sh.get("modules") or []:
        win = m.get("winner") or {}
        if m.get("kind") == "namespace_split":
            mrows.append((m.get("name"), "namespace (merged)", "; ".join(p.get("path", "") for p in m.get("portions") or []), m.get("loaded_file")))
            continue
        mrows.append((m.get("name") + (" (stdlib)" if m.get("stdlib") else ""), win.get("path"),
                      "; ".join(l.get("path", "") for l in m.get("losers") or []), m.get("loaded_file")))
    return [
        Table("shadowed", "Shadowed distributions (first on sys.path wins)", ("name", "used (found first)",
              "hidden behind it"), drows, "" if drows else "none"),
        Table("shadowed", "Shadowed modules and packages", ("name", "used (found first)", "hidden behind it",
              "actually loaded from"), mrows, "" if mrows else "none"),
    ]


def _distribution_tables(report: dict) -> List[Table]:
    dists = _section(report, "distributions") or []
    rows = [(d.get("name"), d.get("version"), d.get("location_index"),
             ", ".join(x for x in (d.get("installer"), "editable" if d.get("editable") else None) if x) or None,
             d.get("location")) for d in dists if isinstance(d, dict)]
    rows.sort(key=lambda r: (str(r[0]).lower(), r[2] if r[2] is not None else 0))
    return [Table("distributions", f"Installed distributions ({len(rows)})",
                  ("name", "version", "sys.path entry", "installed by", "location"), rows,
                  "sys.path entry: the index in sys.path of the location it was found in")]


def _module_tables(report: dict) -> List[Table]:
    mods = _section(report, "modules") or {}
    ext = [(x.get("module"), x.get("file")) for x in mods.get("extensions") or []]
    scripts = [(s.get("module"), s.get("file")) for s in mods.get("wsgi_scripts") or []]
    tables = [Table("modules", f"C extensions loaded ({len(ext)})", ("module", "file"), ext)]
    tables.append(Table("modules", "WSGI scripts in this interpreter", ("module", "file"), scripts, "" if scripts else "none"))
    return tables


def _process_tables(report: dict) -> List[Table]:
    p = _section(report, "process") or {}
    parents = " <- ".join(f"{x.get('name')}({x.get('pid')})" for x in p.get("parents") or []) or None
    pairs = [("pid", p.get("pid")), ("name", p.get("name")), ("user", p.get("user")), ("uids", p.get("uids")),
             ("gids", p.get("gids")), ("parents", parents), ("threads", p.get("threads")),
             ("memory (RSS)", _mib(p.get("rss"))), ("cwd", p.get("cwd")), ("cmdline", " ".join(p.get("cmdline") or []) or None),
             ("source", p.get("source"))]
    if p.get("psutil_error"):
        pairs.append(("psutil failed", p.get("psutil_error")))  # the report went on from /proc
    return [_kv_table("process", "Process", pairs)]


def _mib(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value / 1048576:.1f} MiB"
    return value


def _environment_tables(report: dict) -> List[Table]:
    env = _section(report, "environment") or {}
    rows = sorted((env.get("variables") or {}).items())
    return [Table("environment", "Environment (allowlisted, secrets masked)", ("name", "value"), rows)]


# ---------------------------------------------------------------------------
# formats: one table model, drawn as text, Markdown or HTML


def _facts(report: dict) -> List[tuple]:
    """What identifies the reported interpreter, for the header of every format."""
    it = _section(report, "interpreter") or {}
    ident = _section(report, "identity") or {}
    server = ident.get("server") or {}
    kind = server.get("kind") if isinstance(server, dict) else None
    if kind == "mod_wsgi" and isinstance(server, dict) and server.get("mode"):
        kind = f"mod_wsgi ({server.get('mode')} mode)"
    return [("Python", it.get("version")), ("prefix", it.get("prefix")), ("server", kind),
            ("pid", ident.get("pid")), ("interpreter", ident.get("interpreter_id")),
            ("generated", report.get("generated_at"))]


def _counts(report: dict) -> Dict[str, int]:
    return summarize([f for f in report.get("findings") or [] if isinstance(f, dict)])


def _wanted_findings(report: dict, sections: Optional[Sequence[str]]) -> bool:
    return "findings" in set(sections or SECTIONS)


def _findings_list(report: dict) -> List[dict]:
    return [f for f in report.get("findings") or [] if isinstance(f, dict)]


def render_text(report: dict, sections: Optional[Sequence[str]] = None, markdown: bool = False,
                width: Optional[int] = None) -> str:
    """Plain text sized to *width* columns (None: no limit), or Markdown with ``markdown=True``."""
    if markdown:
        return render_markdown(report, sections)
    from venvprobe.render import text as textfmt

    facts = [(k, v) for k, v in _facts(report) if v not in (None, "")]
    out = textfmt.wrap("venvprobe report — " + ", ".join(f"{k} {format_value(v)}" for k, v in facts
                                                        if k in ("Python", "server", "pid")),
                       width, indent="    ", first_indent="")
    for key in ("prefix", "interpreter", "generated"):
        value = dict(facts).get(key)
        if value not in (None, ""):
            out += textfmt.wrap(f"{key}: {format_value(value)}", width, indent="    ", first_indent="")
    out.append("")
    tables = report_tables(report, sections)
    if _wanted_findings(report, sections):
        out += textfmt.findings_section(_findings_list(report), _counts(report), width)
        out.append("")
    out += textfmt.tables([t for t in tables if t.section != "findings" or t.headers == ("error",)], width)
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """Markdown for a ticket: a summary line first, paths and values in code spans, long tables folded."""
    from venvprobe.render import markdown as mdfmt
    from venvprobe.render.text import summary_line

    counts = _counts(report)
    out = ["# " + mdfmt.text(summary_line(counts, "report")), ""]
    out += [f"- {mdfmt.text(k)}: {mdfmt.code(format_value(v))}" for k, v in _facts(report) if v not in (None, "")]
    out.append("")
    tables = report_tables(report, sections)
    if _wanted_findings(report, sections):
        out += mdfmt.findings(_findings_list(report), counts)
    out += mdfmt.tables([t for t in tables if t.section != "findings" or t.headers == ("error",)])
    return "\n".join(out).rstrip("\n") + "\n"


def render_json(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """JSON rendering (the report itself, or the chosen sections of it)."""
    from venvprobe.render.json import report as report_json

    return report_json(report, sections)


def render_html(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """A self-contained HTML page (no external CSS, JS or fonts); every value escaped."""
    from venvprobe.render.html import document

    tables = [t for t in report_tables(report, sections) if t.section != "findings" or t.headers == ("error",)]
    findings = _findings_list(report) if _wanted_findings(report, sections) else None
    facts = [(k, format_value(v)) for k, v in _facts(report)]
    return document("venvprobe report", facts, _counts(report), findings, tables)


def render(report: dict, fmt: str = "text", sections: Optional[Sequence[str]] = None,
           width: Optional[int] = None, stdlib_only: bool = True) -> str:
    """Render *report* in *fmt* (one of :data:`FORMATS`); text is fitted to *width* columns (None: no limit).

    Every format is drawn with the standard library only (the probe's request
    path needs that); *stdlib_only* is accepted for callers that ask for it.
    """
    if fmt == "text":
        return render_text(report, sections, width=width)
    if fmt == "markdown":
        return render_markdown(report, sections)
    if fmt == "json":
        return render_json(report, sections)
    if fmt == "html":
        return render_html(report, sections)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def summary_counts(report: dict) -> Dict[str, int]:
    """Counts used by the metrics endpoint and the one-line summaries."""
    sh, sp, dists = report.get("shadowed"), report.get("sys_path"), report.get("distributions")
    sh = sh if isinstance(sh, dict) else {}
    sp = sp if isinstance(sp, dict) else {}
    dists = dists if isinstance(dists, list) else []
    return {
        "distributions": len(dists),
        "sys_path_entries": len(sp.get("entries") or []),
        "shadowed_modules": len(sh.get("modules") or []),
        "shadowed_distributions": len(sh.get("distributions") or []),
    }
