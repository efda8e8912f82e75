"""Write an expectations file from a known-good report (``venvprobe snapshot``).

The snapshot pins what should not drift between deploys: the prefix and
Python major.minor, whether a venv is used, the server's group names, every
visible distribution with ``==``, the sys.path shape, and "no shadowing or
findings beyond what exists now" (each existing one allowed with a reason
placeholder for a person to fill in).  It is meant to be trimmed by hand.

Invariant (tested with hypothesis): ``compare(loads(snapshot(r)), r)`` has no
failing check, and changing any pinned field of ``r`` makes one fail.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from venvprobe.expectations import FORMAT_VERSION, GLOBAL_GROUP
from venvprobe.render.safe import escape_controls
from venvprobe.tomlwrite import toml_key, toml_string, toml_value  # the one TOML writer (re-exported)
from venvprobe.views import modules_outside_venv, shadowed_names, winning_distributions
from venvprobe.vocab import WSGI_SERVERS as _SERVERS
from venvprobe.vocab import section as _section

REASON_PLACEHOLDER = "TODO: say why this is acceptable (written by venvprobe snapshot)"
# sys.path origins that are almost always a mistake in a deployment: if the
# known-good report has none, the snapshot says there must be none.
_UNWANTED_ORIGINS = ("user_site", "pythonpath", "base_site")


def glob_escape(path: str) -> str:
    """A glob that matches *path* literally (``*?[`` in brackets; a leading ``origin:`` disguised)."""
    escaped = re.sub(r"([*?\[])", r"[\1]", path)
    if escaped.startswith("origin:"):
        escaped = "[o]" + escaped[1:]
    return escaped


def equals(value: str, kind: str) -> str:
    """TOML for "equal to *value*": a plain string, or ``{ equals = ... }`` where a plain one would be a pattern."""
    return _equals(value, kind)


def _equals(value: str, kind: str) -> str:
    # A plain string that looks like a pattern or specifier is rejected by the
    # loader (it would mean equality); spell equality out for those.
    if (kind == "path" and any(c in value for c in "*?[")) or (kind == "version" and value.startswith(("=", "<", ">", "!", "~"))):
        return "{ equals = " + toml_string(value) + " }"
    return toml_string(value)


def pin_spec(version: Any) -> str:
    """``==V`` for a PEP 440 version, ``===V`` for anything else, "" when unusable."""
    if not isinstance(version, str) or not version:
        return ""
    try:
        Version(version)
        spec = f"=={version}"
    except InvalidVersion:
        spec = f"==={version}"
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        return ""
    return spec


def snapshot(report: dict, source: str = "", distributions: bool = True) -> str:
    """Expectations TOML pinning *report*'s current state; *source* is named in the header."""
    interp = _section(report, "interpreter") or {}
    ident = _section(report, "identity") or {}
    raw_server = ident.get("server")
    server: Dict[str, Any] = raw_server if isinstance(raw_server, dict) else {}
    kind = server.get("kind")
    in_server = kind in _SERVERS
    sp = _section(report, "sys_path") or {}
    entries = [e for e in (sp.get("entries") or []) if isinstance(e, dict)]
    origins = [(e.get("origin") or {}).get("kind") for e in entries]

    lines: List[str] = [
        "# venvprobe expectations written by `venvprobe snapshot`"
        + (f" from {escape_controls(source)}" if source else "") + ".",  # a comment holds no controls
        f"# Report of {escape_controls(report.get('generated_at') or 'unknown time')}, "
        f"server: {escape_controls(kind or 'unknown')}.",
        "# It pins the state of that known-good report: trim what may drift, and replace",
        "# every TODO reason.  Reference: docs/expectations.md.  Check with:",
        "#   venvprobe compare THIS_FILE https://host/_venvprobe/",
        f"version = {FORMAT_VERSION}",
        "description = " + toml_string(f"snapshot of {source}" if source else "snapshot"),
        "",
    ]

    # -- interpreter
    pins: List[str] = []
    version = interp.get("version")
    if isinstance(version, str) and version.count(".") >= 1:
        pins.append("python = " + _equals(".".join(version.split(".")[:2]), "version"))
    if isinstance(interp.get("implementation"), str):
        pins.append("implementation = " + toml_string(interp["implementation"]))
    for key in ("prefix", "base_prefix"):
        if isinstance(interp.get(key), str):
            pins.append(f"{key} = " + _equals(interp[key], "path"))
    if pins:
        lines += ["[interpreter]"] + pins + [""]

    # -- identity
    pins = []
    if isinstance(interp.get("in_venv"), bool):
        pins.append("in_venv = " + toml_value(interp["in_venv"]))
    if in_server:
        if isinstance(ident.get("main_interpreter"), bool):
            pins.append("main_interpreter = " + toml_value(ident["main_interpreter"]))
        pins.append("server = " + toml_string(str(kind)))
        if kind == "mod_wsgi":
            for key in ("mode", "process_group"):
                if isinstance(server.get(key), str):
                    pins.append(f"{key} = " + toml_string(server[key]))
            group = server.get("application_group")
            if isinstance(group, str):
                pins.append("application_group = " + toml_string(GLOBAL_GROUP if group == "" else group))
        user = (_section(report, "process") or {}).get("user")
        if isinstance(user, str):
            pins.append("user = " + toml_string(user))
    else:
        pins.append(f"# server = \"mod_wsgi\"   # not pinned: this report was collected outside a server ({escape_controls(str(kind))})")
    lines += ["[identity]"] + pins + [""]

    # -- sys.path shape
    if entries:
        pins = []
        venv_paths = [str(e["path"]) for e in entries
                      if (e.get("origin") or {}).get("kind") in ("venv_site", "runtime_venv_site") and isinstance(e.get("path"), str)]
        if venv_paths:
            pins.append("include = " + toml_value([glob_escape(p) for p in dict.fromkeys(venv_paths)]))
        venv_kinds = [k for k in ("venv_site", "runtime_venv_site") if k in origins]
        if venv_kinds and "base_site" in origins:
            first_base = origins.index("base_site")
            if all(origins.index(k) < first_base for k in venv_kinds):
                pins.append("before = " + toml_value([[f"origin:{k}", "origin:base_site"] for k in venv_kinds]))
        absent = [f"origin:{k}" for k in _UNWANTED_ORIGINS if k not in origins]
        if absent:
            pins.append("exclude = " + toml_value(absent))
        if pins:
            lines += ["[sys_path]"] + pins + [""]

    # -- distributions
    if distributions and isinstance(_section(report, "distributions"), list):
        lines.append("[distributions]")
        outside = modules_outside_venv(report)
        venv_in_use = bool(interp.get("in_venv")) or "runtime_venv_site" in origins
        if venv_in_use and outside == []:
            lines.append("only_from_venv = true")
        lines += ["", "[distributions.require]",
                  "# what import finds first for each name; \"\" = any version"]
        for _, dist in sorted(winning_distributions(report).items()):
            lines.append(f"{toml_key(dist['name'])} = " + toml_string(pin_spec(dist.get("version"))))
        lines.append("")

    # -- shadowing
    found = shadowed_names(report)
    if found is not None:
        lines.append("[shadowing]")
        names = sorted({n for n, _ in found if n})  # an empty name cannot be allowed (nor shadow)
        if names:
            lines.append("allow = [")
            lines += [f"  {{ name = {toml_string(n)}, reason = {toml_string(REASON_PLACEHOLDER)} }}," for n in names]
            lines.append("]")
        else:
            lines.append("allow = []")
        lines.append("")

    # -- findings
    findings = report.get("findings")
    if isinstance(findings, list):
        from venvprobe.rules.registry import RULES

        known = set(RULES)
        codes = sorted({str(f.get("code")) for f in findings if isinstance(f, dict) and f.get("code") in known})
        counts: Dict[str, int] = {"error": 0, "warning": 0, "info": 0}
        for f in findings:
            if isinstance(f, dict) and f.get("code") not in known and f.get("severity") in counts:
                counts[str(f["severity"])] += 1  # codes this venvprobe cannot name: counted, not allowed
        lines.append("[findings]")
        lines.append("max = { " + ", ".join(f"{k} = {v}" for k, v in counts.items()) + " }  # not counting allowed codes")
        if codes:
            lines.append("allow = [")
            lines += [f"  {{ code = {toml_string(c)}, reason = {toml_string(REASON_PLACEHOLDER)} }}," for c in codes]
            lines.append("]")
        lines.append("")

    lines += ["[workers]", "identical = true  # with --samples N: every worker behind a URL reports the same", ""]
    return "\n".join(lines)


def pinned_placeholders(text: str) -> int:
    """How many reasons in *text* are still the snapshot's placeholder."""
    return text.count(REASON_PLACEHOLDER)


__all__ = ["snapshot", "toml_string", "toml_key", "toml_value", "glob_escape", "pin_spec", "REASON_PLACEHOLDER",
           "pinned_placeholders"]
