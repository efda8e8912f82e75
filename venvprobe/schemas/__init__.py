"""JSON Schemas (draft 2020-12) of venvprobe's JSON documents, built from the code's own vocabulary.

This module is the one source of truth: the ``*.schema.json`` files next to
it are generated from :func:`build` (``python -m venvprobe.schemas --write``, see ``__main__.py``)
and shipped in the package; ``tests/test_json_schemas.py`` fails when a file
and the code disagree.  The names, versions and enumerations come from the
modules that produce the documents (``collect``, ``rules``, ``compare``,
``diff``), so a new severity or server kind changes the schema with them.

Documents:

- ``report``: ``venvprobe report -f json``, the probe's JSON page, ``fetch``;
  open (readers ignore keys they do not know, docs/report-schema.md), and
  every section may be ``{"error": "..."}`` when it could not be collected;
- ``identity``: the probe's ``/identity?format=json``;
- ``compare``: ``venvprobe compare -f json``;
- ``diff``: ``venvprobe diff -f json``.

Readers get a schema with :func:`load`; :func:`path` gives the file.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict

NAMES = ("report", "identity", "compare", "diff")
_BASE_URI = "https://venvprobe.invalid/schemas/"
_HERE = os.path.dirname(os.path.abspath(__file__))

S = Dict[str, Any]


def _t(*types: str) -> S:
    return {"type": list(types) if len(types) > 1 else types[0]}


STR, INT, BOOL, NUM = _t("string"), _t("integer"), _t("boolean"), _t("number")
NSTR, NINT, NBOOL, NNUM = _t("string", "null"), _t("integer", "null"), _t("boolean", "null"), _t("number", "null")


def _obj(props: S, required: tuple = (), closed: bool = False) -> S:
    out: S = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    return out


def _arr(items: S) -> S:
    return {"type": "array", "items": items}


def _section(ref: str) -> S:
    """A report section, or the marker of one that could not be collected."""
    return {"anyOf": [{"$ref": f"#/$defs/{ref}"}, {"$ref": "#/$defs/section_error"}]}


def _vocabulary() -> S:
    from venvprobe.vocab import IDENTITY_SCHEMA_NAME, SCHEMA_NAME, SCHEMA_VERSION, SERVER_KINDS, SEVERITIES

    return {"name": SCHEMA_NAME, "version": SCHEMA_VERSION, "identity_name": IDENTITY_SCHEMA_NAME,
            "severities": list(SEVERITIES), "server_kinds": list(SERVER_KINDS)}


def _report_defs(v: S, name: str) -> S:
    """The ``$defs`` shared by the report and the identity document (schema *name* in the header)."""
    return {
        "section_error": _obj({"error": STR}, ("error",), closed=True),
        "schema_header": _obj({"name": {"const": name},
                               "version": {"type": "integer", "minimum": 1, "maximum": v["version"]}},
                              ("name", "version")),
        "timestamp": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
        "version_xyz": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
        "server": _obj({
            "kind": {"enum": v["server_kinds"]},
            "version": NSTR, "process_group": NSTR, "application_group": NSTR,
            "mode": {"enum": ["daemon", "embedded", None]}, "main_interpreter_group": NBOOL,
            "maximum_processes": NINT, "threads_per_process": NINT, "server_version": NSTR,
            "worker_id": NINT, "numproc": NINT, "mule_id": NINT, "options": {"type": ["object", "string"]},
            "worker_pid": NINT, "arbiter_pid": NINT, "worker_class": NSTR,
        }, ("kind",)),
        "identity": _obj({
            "pid": INT, "ppid": NINT, "interpreter_id": NINT, "main_interpreter": NBOOL,
            "interpreter_id_source": NSTR, "server": {"$ref": "#/$defs/server"},
            "third_party_extensions": _arr(STR), "wsgi_script_modules": _arr(STR),
        }, ("pid", "server")),
    }


def _report(v: S) -> S:
    defs = _report_defs(v, v["name"])
    pyvenv_cfg = {"anyOf": [{"type": "null"}, _obj({
        "path": STR, "readable": BOOL, "home": NSTR, "home_exists": NBOOL, "version": NSTR,
        "include_system_site_packages": {"type": ["boolean", "string", "null"]}, "creator": NSTR,
        "creator_version": NSTR, "executable": NSTR, "command": NSTR, "values": _t("object")}, ("path",))]}
    defs.update({
        "interpreter": _obj({
            "executable": NSTR, "real_executable": NSTR, "base_executable": NSTR,
            "version": {"$ref": "#/$defs/version_xyz"}, "version_full": STR, "version_info": _arr(_t("integer", "string")),
            "implementation": STR, "cache_tag": NSTR, "soabi": NSTR, "abiflags": NSTR, "platform": STR,
            "prefix": STR, "exec_prefix": STR, "base_prefix": STR, "base_exec_prefix": STR,
            "base_prefix_real": NSTR, "platlibdir": NSTR, "in_venv": BOOL, "real_prefix": NSTR,
            "has_real_prefix": BOOL, "home": _t("object"), "pyvenv_cfg": pyvenv_cfg,
            "sysconfig_paths": _t("object"), "install_dirs_exist": _t("object"), "site_packages": _arr(STR),
            "sysconfig_scheme": NSTR, "user_site": _t("object"), "flags": _t("object"),
            "python_env": _t("object"), "python_env_ignored": _t("boolean", "object", "array"), "build": _t("object"),
            "mapped_objects": _t("array", "object", "null"), "filesystem_encoding": STR,
        }, ("executable", "version", "implementation", "prefix", "base_prefix", "in_venv")),
        "origin": _obj({"kind": {"type": "string", "pattern": "^[a-z][a-z_]*$"}, "detail": NSTR,
                        "pth_file": NSTR, "line": NINT, "venv_root": NSTR, "via": NSTR}, ("kind",)),
        "sys_path_entry": _obj({
            "index": INT, "path": {}, "abs_path": NSTR, "real_path": NSTR, "exists": BOOL, "is_dir": BOOL,
            "is_zip": BOOL, "readable": BOOL, "error": NSTR, "entries": NINT, "truncated_listing": BOOL,
            "duplicate_of": NINT, "non_utf8": BOOL, "origin": {"$ref": "#/$defs/origin"},
            "other_python_site": _t("object"),
        }, ("index", "path", "origin")),
        "sys_path": _obj({"entries": _arr({"$ref": "#/$defs/sys_path_entry"}),
                          "pth_files": _arr(_obj({"file": STR, "dir": NSTR, "error": NSTR,
                                                  "lines": _arr(_t("object"))}, ("file",))),
                          "editable_finders": _arr(_t("object"))}, ("entries",)),
        "distribution": _obj({
            "name": NSTR, "version": NSTR, "metadata_missing": BOOL, "location": NSTR, "location_index": NINT,
            "metadata_path": NSTR, "format": NSTR, "installer": NSTR, "editable": NBOOL, "direct_url": NSTR,
            "top_level": _arr(STR), "record_files": NINT, "missing_files": _arr(STR), "error": NSTR,
        }, ("name", "version", "location")),
        "shadowed": _obj({"modules": _arr(_obj({"name": STR, "kind": STR}, ("name", "kind"))),
                          "distributions": _arr(_obj({"name": STR, "winner": _t("object"),
                                                      "losers": _arr(_t("object"))}, ("name", "winner", "losers")))}),
        "modules": _obj({"count": INT, "process_start": NNUM,
                         "top_level": _arr(_obj({"name": STR, "file": NSTR, "modified_after_start": BOOL,
                                                 "file_missing": BOOL}, ("name",))),
                         "extensions": _arr(_t("object")), "wsgi_scripts": _arr(_t("object"))}),
        "process": _obj({"source": STR, "pid": INT, "ppid": NINT, "name": NSTR, "user": NSTR,
                         "uids": _t("array", "null"), "gids": _t("array", "null"), "create_time": NNUM,
                         "threads": NINT, "rss": NINT, "cwd": NSTR, "cmdline": _t("array", "null"),
                         "parents": _arr(_obj({"pid": INT, "name": NSTR}, ("pid",))),
                         "psutil_error": NSTR}, ("pid",)),
        "environment": _obj({"variables": {"type": "object", "additionalProperties": NSTR},
                             "policy": {}}, ("variables",)),
        "finding": _obj({
            "code": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "severity": {"enum": v["severities"]},
            "title": STR, "message": STR, "evidence": _arr(STR), "fix": STR, "data": _t("object"),
        }, ("code", "severity", "title", "message")),
    })
    return {
        "$defs": defs,
        "type": "object",
        "required": ["schema", "generated_at"],
        "properties": {
            "schema": {"$ref": "#/$defs/schema_header"},
            "generated_at": {"$ref": "#/$defs/timestamp"},
            "collector": _obj({"python": STR, "in_process": BOOL, "removed_sys_path_0": {}}),
            "interpreter": _section("interpreter"),
            "identity": _section("identity"),
            "sys_path": _section("sys_path"),
            "distributions": {"anyOf": [_arr({"$ref": "#/$defs/distribution"}), {"$ref": "#/$defs/section_error"}]},
            "shadowed": _section("shadowed"),
            "modules": _section("modules"),
            "process": _section("process"),
            "environment": _section("environment"),
            "findings": _arr({"$ref": "#/$defs/finding"}),
            # Only in part of a report (a probe sub-resource such as /findings): the sections it holds.
            "sections": _arr(STR),
            "redacted": _obj({"secrets": BOOL, "users": BOOL, "method": STR}, ("secrets",)),
            "probe": _obj({"mount": {"enum": ["wsgi-script", "middleware", "blueprint", "serve", "probe-script"]},
                           "version": STR, "own_scripts": _arr(STR),
                           "stdlib_shadowed": _arr(_obj({"module": STR, "file": NSTR}, ("module",)))}, ("mount",)),
        },
    }


def _identity(v: S) -> S:
    return {
        "$defs": _report_defs(v, v["identity_name"]),
        "type": "object",
        "required": ["schema", "generated_at", "identity", "interpreter", "probe"],
        "properties": {
            "schema": {"$ref": "#/$defs/schema_header"},
            "generated_at": {"$ref": "#/$defs/timestamp"},
            "identity": {"$ref": "#/$defs/identity"},
            "interpreter": _obj({"version": {"$ref": "#/$defs/version_xyz"}, "prefix": STR, "base_prefix": STR,
                                 "in_venv": BOOL, "executable": NSTR},
                                ("version", "prefix", "base_prefix", "in_venv", "executable")),
            "probe": _obj({"mount": STR}, ("mount",)),
        },
    }


def _compare(v: S) -> S:
    from venvprobe.results import EXIT_COULD_NOT_CHECK, EXIT_MET, EXIT_NOT_MET, FAIL, PASS, SKIP

    check = _obj({"check": STR, "section": STR, "expected": STR, "actual": STR, "status": {"enum": [PASS, FAIL, SKIP]},
                  "line": NINT, "detail": STR, "workers": _arr(STR)},
                 ("check", "section", "expected", "actual", "status", "line", "detail", "workers"), closed=True)
    target = _obj({
        "target": STR, "status": {"enum": [PASS, FAIL, "error"]}, "error": NSTR,
        "samples": {"type": "integer", "minimum": 1}, "workers": _arr(STR), "notes": _arr(STR),
        "counts": _obj({PASS: INT, FAIL: INT, SKIP: INT}, (PASS, FAIL, SKIP), closed=True),
        "seconds": {"type": ["number", "null"], "minimum": 0}, "checked_at": {"anyOf": [{"type": "null"}, STR]},
        "checks": _arr(check),
    }, ("target", "status", "error", "samples", "workers", "notes", "counts", "checks"), closed=True)
    return {
        "type": "object",
        "required": ["expectations", "exit_code", "status", "targets", "summary"],
        "additionalProperties": False,
        "properties": {
            "expectations": STR,
            "exit_code": {"enum": [EXIT_MET, EXIT_NOT_MET, EXIT_COULD_NOT_CHECK]},
            "status": {"enum": ["met", "not met", "could not check"]},
            "targets": _arr(target),
            "summary": _arr(_obj({"check": STR, "not_met_on": _arr(STR)}, ("check", "not_met_on"), closed=True)),
        },
    }


def _diff(v: S) -> S:
    change = _obj({"field": STR, "a": {}, "b": {}, "only_in": {"enum": ["a", "b", None]}},
                  ("field", "a", "b", "only_in"), closed=True)
    dist = _obj({"name": NSTR, "version": NSTR, "location": NSTR, "origin": NSTR},
                ("name", "version", "location", "origin"), closed=True)
    finding = _obj({"code": {}, "severity": {}, "message": {}}, ("code", "severity", "message"), closed=True)
    line = _obj({"op": {"enum": ["=", "-", "+"]}, "path": STR, "a_index": NINT, "b_index": NINT, "origin": NSTR,
                 "moved": BOOL}, ("op", "path", "a_index", "b_index", "origin"), closed=True)
    return {
        "type": "object",
        "required": ["interpreter", "identity", "sys_path", "distributions", "shadowed", "findings",
                     "environment", "same", "a", "b"],
        "additionalProperties": False,
        "properties": {
            "a": STR, "b": STR, "same": BOOL,
            "interpreter": _arr(change), "identity": _arr(change), "environment": _arr(change),
            "sys_path": _obj({"same": BOOL, "lines": _arr(line), "moved": _arr(STR),
                              "origins_changed": _arr(_obj({"path": STR, "a": NSTR, "b": NSTR},
                                                           ("path", "a", "b"), closed=True))},
                             ("same", "lines", "moved", "origins_changed"), closed=True),
            "distributions": _obj({
                "added": _arr(dist), "removed": _arr(dist),
                "changed": _arr(_obj({k: NSTR for k in ("name", "a_version", "b_version", "a_location", "b_location",
                                                         "a_origin", "b_origin")},
                                     ("name", "a_version", "b_version", "a_origin", "b_origin"), closed=True)),
            }, ("added", "removed", "changed"), closed=True),
            "shadowed": _obj({"added": _arr(STR), "removed": _arr(STR)}, ("added", "removed"), closed=True),
            "findings": _obj({"added": _arr(finding), "removed": _arr(finding)}, ("added", "removed"), closed=True),
        },
    }


_TITLES = {
    "report": "venvprobe report",
    "identity": "venvprobe probe identity document (/identity?format=json)",
    "compare": "venvprobe compare results (compare --format json)",
    "diff": "venvprobe diff of two reports (diff --format json)",
}


def build(name: str) -> S:
    """The schema *name* (one of :data:`NAMES`) as a dict, from the code's current vocabulary."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}; one of: {', '.join(NAMES)}")
    v = _vocabulary()
    body = {"report": _report, "identity": _identity, "compare": _compare, "diff": _diff}[name](v)
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_BASE_URI}{name}-v{v['version']}.schema.json", "title": _TITLES[name]}
    return {**head, **body}


def text(name: str) -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(build(name), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def path(name: str) -> str:
    """The shipped file of schema *name*."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}")
    return os.path.join(_HERE, f"{name}.schema.json")


def load(name: str) -> S:
    """The shipped schema *name*, parsed."""
    with open(path(name), encoding="utf-8") as handle:
        return json.load(handle)


def write_all() -> None:
    """Regenerate the shipped files (after a change to this module or to the vocabulary)."""
    for name in NAMES:
        with open(path(name), "w", encoding="utf-8") as handle:
            handle.write(text(name))

