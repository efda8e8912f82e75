"""What differs between two reports (``venvprobe diff A B``).

The "works on staging, fails in prod" view for tickets: interpreter fields,
identity, sys.path order, distributions added/removed/changed, shadowing,
findings and environment.  :func:`diff_reports` is pure; values that change
on every request (pids, timestamps, memory) are never compared.
"""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from venvprobe.vocab import section as _section

if TYPE_CHECKING:
    from venvprobe.render.table import Table

DIFF_FORMATS = ("text", "markdown", "json", "html")

# Interpreter fields that depend on how this one process was started, not on
# the deployment.
_VOLATILE_INTERPRETER = {"orig_argv", "argv0"}
_IDENTITY_FIELDS = ("main_interpreter", "interpreter_id")
_PROCESS_FIELDS = ("user", "cwd", "name")


def _flatten(data: Any, prefix: str = "", depth: int = 2) -> Dict[str, Any]:
    """{"home.source": ..., "flags.isolated": ...}: nested dicts become dotted keys."""
    out: Dict[str, Any] = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth > 0:
            out.update(_flatten(value, name + ".", depth - 1))
        else:
            out[name] = value
    return out


def _fields(a: Dict[str, Any], b: Dict[str, Any]) -> List[Dict[str, Any]]:
    missing = object()
    changed = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va != vb:
            changed.append({"field": key, "a": None if va is missing else va, "b": None if vb is missing else vb,
                            "only_in": "a" if vb is missing else "b" if va is missing else None})
    return changed


def _entries(report: dict) -> List[dict]:
    sp = _section(report, "sys_path") or {}
    return [e for e in sp.get("entries") or [] if isinstance(e, dict)]


def _sys_path(a: dict, b: dict) -> Dict[str, Any]:
    ea, eb = _entries(a), _entries(b)
    pa = [str(e.get("path")) for e in ea]
    pb = [str(e.get("path")) for e in eb]
    kind = lambda e: (e.get("origin") or {}).get("kind")  # noqa: E731
    lines: List[Dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, pa, pb, autojunk=False).get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                lines.append({"op": "=", "path": pa[i], "a_index": i, "b_index": j, "origin": kind(eb[j])})
            continue
        for i in range(i1, i2):
            lines.append({"op": "-", "path": pa[i], "a_index": i, "b_index": None, "origin": kind(ea[i])})
        for j in range(j1, j2):
            lines.append({"op": "+", "path": pb[j], "a_index": None, "b_index": j, "origin": kind(eb[j])})
    # An entry removed in one place and added in another was moved.
    moved = {line["path"] for line in lines if line["op"] == "-"} & {line["path"] for line in lines if line["op"] == "+"}
    for line in lines:
        if line["path"] in moved and line["op"] in "+-":
            line["moved"] = True
    origins_changed = [
        {"path": pa[i], "a": kind(ea[i]), "b": kind(eb[pb.index(pa[i])])}
        for i in range(len(pa)) if pa[i] in pb and kind(ea[i]) != kind(eb[pb.index(pa[i])])
    ]
    return {"same": pa == pb and not origins_changed, "lines": lines, "moved": sorted(moved),
            "origins_changed": origins_changed}


def _dist_index(report: dict) -> Dict[str, dict]:
    from venvprobe.views import winning_distributions

    entries = {e.get("index"): e for e in _entries(report)}
    out = {}
    for key, dist in winning_distributions(report).items():
        entry = entries.get(dist.get("location_index")) or {}
        out[key] = {"name": dist.get("name"), "version": dist.get("version"), "location": dist.get("location"),
                    "origin": (entry.get("origin") or {}).get("kind")}
    return out


def _distributions(a: dict, b: dict) -> Dict[str, Any]:
    da, db = _dist_index(a), _dist_index(b)
    added = [db[k] for k in sorted(set(db) - set(da))]
    removed = [da[k] for k in sorted(set(da) - set(db))]
    changed = []
    for key in sorted(set(da) & set(db)):
        x, y = da[key], db[key]
        # Absolute locations differ between hosts with different venv paths;
        # what matters is the version and which kind of entry provides it.
        if x["version"] != y["version"] or x["origin"] != y["origin"]:
            changed.append({"name": y["name"], "a_version": x["version"], "b_version": y["version"],
                            "a_location": x["location"], "b_location": y["location"],
                            "a_origin": x["origin"], "b_origin": y["origin"]})
    return {"added": added, "removed": removed, "changed": changed}


def _shadowed(a: dict, b: dict) -> Dict[str, Any]:
    from venvprobe.views import shadowed_names

    sa = dict(shadowed_names(a) or [])
    sb = dict(shadowed_names(b) or [])
    return {"added": [sb[k] for k in sorted(set(sb) - set(sa))], "removed": [sa[k] for k in sorted(set(sa) - set(sb))]}


def _findings(a: dict, b: dict) -> Dict[str, Any]:
    def index(report: dict) -> Dict[str, dict]:
        out: Dict[str, dict] = {}
        for f in report.get("findings") or []:
            if isinstance(f, dict):
                out.setdefault(str(f.get("code")), {"code": f.get("code"), "severity": f.get("severity"),
                                                    "message": f.get("message")})
        return out

    fa, fb = index(a), index(b)
    return {"added": [fb[c] for c in sorted(set(fb) - set(fa))], "removed": [fa[c] for c in sorted(set(fa) - set(fb))]}


def diff_reports(a: dict, b: dict) -> Dict[str, Any]:
    """Everything that differs between report *a* and report *b*, by section.

    ``result["same"]`` is True when nothing compared differs.
    """
    interp_a = {k: v for k, v in _flatten(_section(a, "interpreter") or {}).items() if k.split(".")[0] not in _VOLATILE_INTERPRETER}
    interp_b = {k: v for k, v in _flatten(_section(b, "interpreter") or {}).items() if k.split(".")[0] not in _VOLATILE_INTERPRETER}

    def identity(report: dict) -> Dict[str, Any]:
        ident = _section(report, "identity") or {}
        proc = _section(report, "process") or {}
        out = {k: ident.get(k) for k in _IDENTITY_FIELDS}
        server = ident.get("server") if isinstance(ident.get("server"), dict) else None
        server = server or {}
        # worker_pid/arbiter_pid change with every restart.
        out.update({f"server.{k}": v for k, v in server.items() if k not in ("worker_pid", "arbiter_pid", "worker_id")})
        out.update({f"process.{k}": proc.get(k) for k in _PROCESS_FIELDS})
        return out

    env_a = ((_section(a, "environment") or {}).get("variables") or {})
    env_b = ((_section(b, "environment") or {}).get("variables") or {})
    result: Dict[str, Any] = {
        "interpreter": _fields(interp_a, interp_b),
        "identity": _fields(identity(a), identity(b)),
        "sys_path": _sys_path(a, b),
        "distributions": _distributions(a, b),
        "shadowed": _shadowed(a, b),
        "findings": _findings(a, b),
        "environment": _fields(env_a if isinstance(env_a, dict) else {}, env_b if isinstance(env_b, dict) else {}),
    }
    result["same"] = not (
        result["interpreter"] or result["identity"] or not result["sys_path"]["same"]
        or any(result["distributions"].values()) or any(result["shadowed"].values())
        or any(result["findings"].values()) or result["environment"]
    )
    return result


# ---------------------------------------------------------------------------
# rendering


def _v(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    from venvprobe.render.table import format_value

    return format_value(value)


def _tables(d: Dict[str, Any], a_name: str, b_name: str) -> List["Table"]:
    """A table for every section that differs."""
    from venvprobe.render.table import Table

    out: List[Table] = []
    for section, title in (("interpreter", "Interpreter"), ("identity", "Identity")):
        if d[section]:
            out.append(Table(section, title, ("field", a_name, b_name),
                             [(c["field"], _v(c["a"]), _v(c["b"])) for c in d[section]]))
    sp = d["sys_path"]
    if not sp["same"]:
        rows: List[Sequence[Any]] = []
        for line in sp["lines"]:
            mark = {"=": "same", "-": f"only {a_name}", "+": f"only {b_name}"}[line["op"]] + (" (moved)" if line.get("moved") else "")
            rows.append((mark, _v(line["a_index"]), _v(line["b_index"]), _v(line["origin"]), line["path"]))
        for change in sp["origins_changed"]:
            rows.append(("origin changed", "", "", f"{change['a']} -> {change['b']}", change["path"]))
        out.append(Table("sys_path", "sys.path order", ("change", f"index in {a_name}", f"index in {b_name}", "origin", "path"),
                         rows, prose=(0,)))
    dists = d["distributions"]
    if any(dists.values()):
        rows = [("added", x["name"], "-", _v(x["version"]), _v(x["origin"])) for x in dists["added"]]
        rows += [("removed", x["name"], _v(x["version"]), "-", _v(x["origin"])) for x in dists["removed"]]
        rows += [("changed", x["name"], _v(x["a_version"]), _v(x["b_version"]),
                  _v(x["a_origin"]) if x["a_origin"] == x["b_origin"] else f"{x['a_origin']} -> {x['b_origin']}")
                 for x in dists["changed"]]
        out.append(Table("distributions", "Distributions",
                         ("change", "name", f"version in {a_name}", f"version in {b_name}", "from (sys.path origin)"), rows,
                         prose=(0,)))
    if any(d["shadowed"].values()):
        rows = [("only in " + b_name, x) for x in d["shadowed"]["added"]] + [("only in " + a_name, x) for x in d["shadowed"]["removed"]]
        out.append(Table("shadowed", "Shadowing", ("where", "shadowed name"), rows, prose=(0,)))
    if any(d["findings"].values()):
        rows = [("only in " + b_name, f["severity"], f["code"], f["message"]) for f in d["findings"]["added"]]
        rows += [("only in " + a_name, f["severity"], f["code"], f["message"]) for f in d["findings"]["removed"]]
        out.append(Table("findings", "Findings", ("where", "severity", "code", "message"), rows, prose=(0, 3)))
    if d["environment"]:
        out.append(Table("environment", "Environment", ("variable", a_name, b_name),
                         [(c["field"], _v(c["a"]), _v(c["b"])) for c in d["environment"]]))
    return out


_SAME = "No differences (pids, timestamps and other per-process values are not compared)."


def render_diff(d: Dict[str, Any], fmt: str = "text", a_name: str = "A", b_name: str = "B",
                width: Optional[int] = None) -> str:
    """The diff as text (fitted to *width* columns, None: no limit), Markdown (for tickets), HTML or JSON."""
    if fmt == "json":
        from venvprobe.render import json as json_format

        return json_format.document(dict(d, a=a_name, b=b_name))
    summary = f"A and B {summary_line(d)}" if not d["same"] else "A and B do not differ"
    if fmt == "markdown":
        from venvprobe.render import markdown as mdfmt

        out = [f"# venvprobe diff: {mdfmt.text(summary)}", "", f"- A: {mdfmt.code(a_name)}", f"- B: {mdfmt.code(b_name)}", ""]
        if d["same"]:
            out.append(mdfmt.text(_SAME))
        out += mdfmt.tables(_tables(d, "A", "B"), level=3)
        return "\n".join(out).rstrip("\n") + "\n"
    if fmt == "html":
        from venvprobe.render import html

        tables = _tables(d, "A", "B")
        return html.document("venvprobe diff", [("A", a_name), ("B", b_name), ("result", summary)], None, None, tables)
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(DIFF_FORMATS)}")
    from venvprobe.render import text as textfmt

    out = textfmt.wrap(f"venvprobe diff: {summary}", width, indent="    ", first_indent="")
    out += textfmt.wrap(f"A = {a_name}", width, indent="    ", first_indent="")
    out += textfmt.wrap(f"B = {b_name}", width, indent="    ", first_indent="")
    out.append("")
    if d["same"]:
        out += textfmt.wrap(_SAME, width)
    out += textfmt.tables(_tables(d, "A", "B"), width)
    return "\n".join(out).rstrip("\n") + "\n"


def summary_line(d: Dict[str, Any]) -> Optional[str]:
    """One line naming the sections that differ, None when the reports match."""
    parts = []
    if d["interpreter"]:
        parts.append(f"{len(d['interpreter'])} interpreter fields")
    if d["identity"]:
        parts.append(f"{len(d['identity'])} identity fields")
    if not d["sys_path"]["same"]:
        parts.append("sys.path")
    n = sum(len(v) for v in d["distributions"].values())
    if n:
        parts.append(f"{n} distributions")
    if any(d["shadowed"].values()):
        parts.append("shadowing")
    if any(d["findings"].values()):
        parts.append("findings")
    if d["environment"]:
        parts.append(f"{len(d['environment'])} environment variables")
    return ("differ: " + ", ".join(parts)) if parts else None


__all__ = ["diff_reports", "render_diff", "summary_line", "DIFF_FORMATS"]
