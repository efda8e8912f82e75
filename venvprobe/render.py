"""Render a report as plain text, Markdown, JSON or HTML: the *render* stage.

Every human format is built from the same list of :class:`Table` views
(:func:`report_tables`), so text, Markdown and HTML always show the same
facts in the same order: findings first, then the sections.
"""

from __future__ import annotations

from venvprobe.analyze import summarize
from venvprobe.textsafe import escape_controls, md_cell, md_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Dict, Iterable, List, Optional, Sequence

FORMATS = ("text", "markdown", "json", "html")
SECTIONS = ("findings", "interpreter", "identity", "path", "shadowed", "distributions", "modules", "process", "environment")


class Table:
    """One titled table (or key/value list) of a rendered report.

    ``wrap`` (plain text only) wraps these columns (None = never) so a
    finding's message and fix stay readable in an 80-160 column terminal.
    A plain class: ``dataclasses`` costs every CLI start ~9 ms.
    """

    __slots__ = ("section", "title", "headers", "rows", "note", "wrap")

    def __init__(self, section: str, title: str, headers: Sequence[str], rows: Optional[List[Sequence[Any]]] = None,
                 note: str = "", wrap: Optional[Sequence[Optional[int]]] = None):
        self.section = section
        self.title = title
        self.headers = headers
        self.rows = rows if rows is not None else []
        self.note = note
        self.wrap = wrap


def _kv(section: str, title: str, pairs: Iterable[tuple], note: str = "") -> Table:
    return Table(section, title, ("field", "value"), [(k, format_value(v)) for k, v in pairs], note)


def format_value(value: Any) -> str:
    """One table cell as text: None as "-", booleans as yes/no, lists and dicts joined."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) if value else "-"
    return str(value)


def _section(report: dict, name: str) -> Any:
    return report.get(name) if isinstance(report.get(name), (dict, list)) else None


def _section_error(report: dict, name: str) -> Optional[str]:
    value = report.get(name)
    if isinstance(value, dict) and "error" in value and len(value) == 1:
        return str(value["error"])
    return None


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
        source = {"path": "sys_path"}.get(name, name)
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
    note = f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info"
    if not findings:
        note = "no findings"
    return [Table("findings", "Findings", ("severity", "code", "what", "fix"), rows, note, wrap=(None, None, 72, 56))]


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
    support = ident.get("extension_support") if isinstance(ident.get("extension_support"), dict) else {}
    if support.get("checked"):
        refused = [m for m in support.get("modules") or [] if isinstance(m, dict) and m.get("refused")]
        pairs.append(("extensions refused here", ", ".join(str(m.get("file")) for m in refused) or "none"))
    pairs.append(("server", server.get("kind")))
    for key, value in server.items():
        if key not in ("kind", "options"):
            pairs.append((f"server.{key}", value))
    pairs.append(("third-party C extensions", ident.get("third_party_extensions")))
    pairs.append(("WSGI script modules", ident.get("wsgi_script_modules")))
    probe = report.get("probe") or {}
    if probe:
        pairs.append(("probe mounted as", probe.get("mount")))
    return [_kv("identity", "Identity", pairs)]


def _interpreter_tables(report: dict) -> List[Table]:
    it = _section(report, "interpreter") or {}
    cfg = it.get("pyvenv_cfg") or {}
    home = it.get("home") or {}
    user = it.get("user_site") or {}
    build = it.get("build") or {}
    pairs = [
        ("version", it.get("version")),
        ("implementation", f"{it.get('implementation')} ({it.get('cache_tag')}, {it.get('soabi')})"),
        ("executable", it.get("executable")),
        ("real executable (process)", it.get("real_executable")),
        ("prefix", it.get("prefix")),
        ("exec_prefix", it.get("exec_prefix")),
        ("base_prefix", it.get("base_prefix")),
        ("base_exec_prefix", it.get("base_exec_prefix")),
        ("in venv", it.get("in_venv")),
        ("home (PYTHONHOME)", home.get("env_PYTHONHOME")),
        ("home (initialised with)", home.get("initialised_with")),
        ("pyvenv.cfg", cfg.get("path") if cfg else None),
        ("venv home / version", f"{cfg.get('home')} / {cfg.get('version')}" if cfg else None),
        ("include-system-site-packages", cfg.get("include_system_site_packages") if cfg else None),
        ("venv creator", f"{cfg.get('creator')} {cfg.get('creator_version') or ''}".strip() if cfg else None),
        ("sys.real_prefix (activate_this)", it.get("real_prefix")),
        ("user site enabled", user.get("ENABLE_USER_SITE")),
        ("USER_SITE", user.get("USER_SITE")),
        ("flags", it.get("flags")),
        ("shared libpython", build.get("shared_libpython")),
        ("LDLIBRARY", build.get("ldlibrary")),
        ("mapped objects", it.get("mapped_objects")),
    ]
    for key, value in (it.get("sysconfig_paths") or {}).items():
        pairs.append((f"sysconfig {key}", value))
    return [_kv("interpreter", "Interpreter", pairs)]


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
        rows.append((e.get("index"), e.get("path"), origin.get("kind"), " ".join(flags) or "ok", origin.get("detail")))
    return [Table("path", "sys.path (in order)", ("#", "path", "origin", "state", "where it came from"), rows)]


def _shadowed_tables(report: dict) -> List[Table]:
    sh = _section(report, "shadowed") or {}
    drows = []
    for d in sh.get("distributions") or []:
        win = d.get("winner") or {}
        losers = d.get("losers") or []
        drows.append((d.get("name"), f"{win.get('version')} @ [{win.get('location_index')}] {win.get('location')}",
                      "; ".join(f"{l.get('version')} @ [{l.get('location_index')}] {l.get('location')}" for l in losers)))
    mrows = []
    for m in sh.get("modules") or []:
        win = m.get("winner") or {}
        if m.get("kind") == "namespace_split":
            mrows.append((m.get("name"), "namespace (merged)", "; ".join(p.get("path", "") for p in m.get("portions") or []), m.get("loaded_file")))
            continue
        mrows.append((m.get("name") + (" (stdlib)" if m.get("stdlib") else ""), win.get("path"),
                      "; ".join(l.get("path", "") for l in m.get("losers") or []), m.get("loaded_file")))
    return [
        Table("shadowed", "Shadowed distributions (first on sys.path wins)", ("name", "wins", "hidden"), drows,
              "" if drows else "none"),
        Table("shadowed", "Shadowed modules and packages", ("name", "wins", "hidden", "loaded from"), mrows,
              "" if mrows else "none"),
    ]


def _distribution_tables(report: dict) -> List[Table]:
    dists = _section(report, "distributions") or []
    rows = [(d.get("name"), d.get("version"), d.get("location_index"), d.get("location"), d.get("installer"),
             "editable" if d.get("editable") else "") for d in dists if isinstance(d, dict)]
    rows.sort(key=lambda r: (str(r[0]).lower(), r[2] if r[2] is not None else 0))
    return [Table("distributions", f"Installed distributions ({len(rows)})",
                  ("name", "version", "#", "location", "installer", "editable"), rows)]


def _module_tables(report: dict) -> List[Table]:
    mods = _section(report, "modules") or {}
    ext = [(x.get("module"), x.get("file")) for x in mods.get("extensions") or []]
    scripts = [(s.get("module"), s.get("file")) for s in mods.get("wsgi_scripts") or []]
    tables = [Table("modules", f"C extensions loaded ({len(ext)})", ("module", "file"), ext)]
    tables.append(Table("modules", "WSGI scripts in this interpreter", ("module", "file"), scripts, "" if scripts else "none"))
    return tables


def _process_tables(report: dict) -> List[Table]:
    p = _section(report, "process") or {}
    parents = " <- ".join(f"{x.get('name')}({x.get('pid')})" for x in p.get("parents") or [])
    pairs = [("pid", p.get("pid")), ("name", p.get("name")), ("user", p.get("user")), ("uids", p.get("uids")),
             ("gids", p.get("gids")), ("parents", parents), ("threads", p.get("threads")),
             ("rss", p.get("rss")), ("cwd", p.get("cwd")), ("cmdline", " ".join(p.get("cmdline") or [])),
             ("source", p.get("source"))]
    if p.get("psutil_error"):
        pairs.append(("psutil failed", p.get("psutil_error")))  # the report went on from /proc
    return [_kv("process", "Process", pairs)]


def _environment_tables(report: dict) -> List[Table]:
    env = _section(report, "environment") or {}
    rows = sorted((env.get("variables") or {}).items())
    return [Table("environment", "Environment (allowlisted, secrets masked)", ("name", "value"), rows)]


# ---------------------------------------------------------------------------
# formats


def _header_line(report: dict) -> str:
    it = _section(report, "interpreter") or {}
    ident = _section(report, "identity") or {}
    server = (ident.get("server") or {}).get("kind")
    return (f"venvprobe report — Python {it.get('version')} at {it.get('prefix')} — pid {ident.get('pid')}, "
            f"interpreter {ident.get('interpreter_id')}, server {server} — {report.get('generated_at')}")


def render_text(report: dict, sections: Optional[Sequence[str]] = None, markdown: bool = False,
                stdlib_only: bool = False) -> str:
    """Plain-text (tabulate) or Markdown rendering; *stdlib_only* (the probe) lays tables out without tabulate."""
    if stdlib_only:
        tabulate = _plain_table
    else:
        try:
            # tabulate (with wcwidth) costs ~40 ms to import: only text formats pay it.
            from tabulate import tabulate
        except Exception:  # broken here (too old, or a shadowed stdlib module under it): the report goes on
            tabulate = _plain_table

    fmt = "github" if markdown else "simple"
    safe = md_text if markdown else escape_controls
    out = [("# " if markdown else "") + safe(_header_line(report)), ""]
    for table in report_tables(report, sections):
        out.append(("## " if markdown else "== ") + safe(table.title) + ("" if markdown else " =="))
        if table.note:
            out.append(("_" + safe(table.note) + "_") if markdown else safe(table.note))
        if table.rows:
            rows = [[format_cell(c, markdown) for c in row] for row in table.rows]
            extra = {"maxcolwidths": list(table.wrap)} if table.wrap and not markdown else {}
            out.append(tabulate(rows, headers=list(table.headers), tablefmt=fmt, disable_numparse=True, **extra))
        out.append("")
    return "\n".join(out)


def _wrap(text: str, width: Optional[int]) -> List[str]:
    """Word-wrap one cell to *width* columns (``textwrap`` imports ``re``)."""
    if not width or width < 1:
        return text.split("\n")
    lines: List[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            while len(word) > width:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _plain_table(rows: List[List[str]], headers: List[str], tablefmt: str = "simple",
                 disable_numparse: bool = True, maxcolwidths: Optional[List[Optional[int]]] = None) -> str:
    """tabulate's "simple" and "github" layouts in the standard library, for the probe's request path."""
    count = len(headers)
    widths_wanted = list(maxcolwidths or []) + [None] * count
    cells = [[_wrap(str(c), widths_wanted[i]) for i, c in enumerate(row)] for row in rows]
    github = tablefmt == "github"
    widths = [len(h) + (0 if github else 2) for h in headers]
    for row in cells:
        for i, lines in enumerate(row[:count]):
            widths[i] = max([widths[i]] + [len(line) for line in lines])
    if github:
        widths = [max(w, 3) for w in widths]

        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

        out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    else:

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(values, widths))

        out = [line(headers), "  ".join("-" * w for w in widths)]
    for row in cells:
        height = max([len(lines) for lines in row] or [1])
        for n in range(height):
            out.append(line([lines[n] if n < len(lines) else "" for lines in row]))
    return "\n".join(out)


def format_cell(value: Any, markdown: bool) -> str:
    """A cell for a text or Markdown table: controls made visible, Markdown markup escaped."""
    # Values come from the inspected host: a package name or path may carry
    # ESC sequences, bidi overrides, newlines, `[x](javascript:...)` or HTML.
    return md_cell(format_value(value)) if markdown else escape_controls(format_value(value))


def render_json(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """JSON rendering (the report itself, or the chosen sections of it)."""
    from venvprobe._collect import dumps

    if sections:
        keys = {"path": "sys_path"}
        data = {"schema": report.get("schema"), "generated_at": report.get("generated_at")}
        ident = report.get("identity")
        if isinstance(ident, dict):
            data["identity"] = ident
        for s in sections:
            key = keys.get(s, s)
            if key in report:
                data[key] = report[key]
        # Part of a report says so: `report --input`, compare, diff and
        # snapshot refuse it instead of analysing sections that are not there.
        data["sections"] = [k for k in data if k not in ("schema", "generated_at")]
        return dumps(data)
    # Compact, by CPython's C encoder without ``import json`` (which imports
    # ``re``); pipe through jq for people.
    return dumps(report)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.9em;width:100%}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top;word-break:break-all}
th{background:#f3f3f3}.error td:first-child{background:#fdd;font-weight:bold}
.warning td:first-child{background:#ffe9b3}.info td:first-child{background:#e3f0ff}
.note{color:#555;font-style:italic}code{font-family:ui-monospace,monospace}
"""


def _escape_html(text: str) -> str:
    """``html.escape`` (quote=True) without ``import html`` (which imports ``re``)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def render_html(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """A self-contained HTML page (no external CSS, JS or fonts); every value escaped."""
    e = _escape_html
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>venvprobe</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(_header_line(report))}</h1>",
    ]
    for table in report_tables(report, sections):
        parts.append(f"<h2>{e(table.title)}</h2>")
        if table.note:
            parts.append(f"<p class=\"note\">{e(table.note)}</p>")
        if not table.rows:
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in table.headers) + "</tr></thead><tbody>")
        for row in table.rows:
            css = ""
            if table.section == "findings" and row and row[0] in ("error", "warning", "info"):
                css = f" class=\"{e(str(row[0]))}\""
            parts.append(f"<tr{css}>" + "".join(f"<td>{e(format_value(c))}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render(report: dict, fmt: str = "text", sections: Optional[Sequence[str]] = None,
           stdlib_only: bool = False) -> str:
    """Render *report* in *fmt* (one of :data:`FORMATS`); *stdlib_only*: without tabulate (the probe)."""
    if fmt == "text":
        return render_text(report, sections, stdlib_only=stdlib_only)
    if fmt == "markdown":
        return render_text(report, sections, markdown=True, stdlib_only=stdlib_only)
    if fmt == "json":
        return render_json(report, sections)
    if fmt == "html":
        return render_html(report, sections)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def summary_counts(report: dict) -> Dict[str, int]:
    """Counts used by the metrics endpoint and the one-line summaries."""
    sh = report.get("shadowed") if isinstance(report.get("shadowed"), dict) else {}
    sp = report.get("sys_path") if isinstance(report.get("sys_path"), dict) else {}
    dists = report.get("distributions") if isinstance(report.get("distributions"), list) else []
    return {
        "distributions": len(dists),
        "sys_path_entries": len(sp.get("entries") or []),
        "shadowed_modules": len(sh.get("modules") or []),
        "shadowed_distributions": len(sh.get("distributions") or []),
    }
