"""Structural validation of a report read from outside (file, stdin, URL).

A report is data from another host, maybe hand-edited, maybe hostile.  Every
reader (analyze, render, diff, compare, snapshot, redact, fleet) walks it
with ``.get()`` and loops; a list where an object belongs, or a number where
a path belongs, used to end in an AttributeError or TypeError traceback.
:func:`check_shape` checks the types of every field those readers use, once,
where the report enters, and names the first wrong one in one line.

Rules (docs/report-schema.md): ``null`` is accepted anywhere (a field that
could not be collected); unknown keys are ignored (newer collectors add
keys); a section may be ``{"error": "..."}`` instead of its content.

Spec language: ``"s"`` string, ``"i"`` integer, ``"n"`` number, ``"b"``
boolean, ``"x"`` any scalar, ``"*"`` anything; ``{...}`` an object with
these fields, ``{"*": spec}`` an object whose every value matches spec,
``[spec]`` an array of spec.
"""

from __future__ import annotations

from venvprobe.errors import InputError, VenvprobeError

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing import: `report --python X` (the fast path) imports this module
    from typing import Any, List, Optional, Tuple

__all__ = ["ShapeError", "check_shape", "check_report", "load_report_text", "SPEC"]


class ShapeError(VenvprobeError, ValueError):
    """The first field whose type is wrong, as one line."""


_PROVIDER = {"index": "i", "entry": "s", "kind": "s", "path": "s"}
_DIST_COPY = {"version": "s", "location": "s", "location_index": "i", "metadata_path": "s", "editable": "x"}
_FINDER = {"module": "s", "file": "s", "mapping": {"*": "s"}, "pth_file": "s"}
_PYVENV = {"path": "s", "readable": "b", "home": "s", "home_exists": "b", "version": "s",
           "include_system_site_packages": "x", "creator": "s", "creator_version": "s", "executable": "s",
           "command": "s", "values": {"*": "s"}, "error": "s"}

SPEC: dict = {
    "schema": {"name": "s", "version": "i"},
    "generated_at": "s",
    "collector": {"python": "s", "in_process": "b", "removed_sys_path_0": "x",
                  "skipped": [{"what": "s", "detail": "s", "count": "i"}]},
    "interpreter": {
        "executable": "s", "real_executable": "s", "base_executable": "s", "argv0": "s", "orig_argv": ["s"],
        "version": "s", "version_full": "s", "version_info": ["x"], "implementation": "s", "cache_tag": "s",
        "soabi": "s", "abiflags": "s", "platform": "s", "prefix": "s", "exec_prefix": "s", "base_prefix": "s",
        "base_exec_prefix": "s", "base_prefix_real": "s", "platlibdir": "s", "in_venv": "b", "real_prefix": "s",
        "has_real_prefix": "b",
        "home": {"env_PYTHONHOME": "s", "initialised_with": "s", "program_name_home": "s", "source": "s",
                 "error": "s"},
        "pyvenv_cfg": _PYVENV,
        "sysconfig_paths": {"*": "s"}, "install_dirs_exist": {"*": "x"}, "site_packages": ["s"],
        "sysconfig_scheme": "s",
        "user_site": {"ENABLE_USER_SITE": "x", "USER_SITE": "s", "USER_BASE": "s", "HOME": "s",
                      "USER_SITE_exists": "b"},
        "flags": {"*": "x"}, "python_env": {"*": "s"}, "python_env_ignored": "x",
        "build": {"shared_libpython": "x", "ldlibrary": "s", "libdir": "s", "configured_prefix": "s",
                  "maxunicode": "i", "multiarch": "s"},
        "mapped_objects": ["s"], "filesystem_encoding": "s",
    },
    "identity": {
        "pid": "i", "ppid": "i", "interpreter_id": "x", "main_interpreter": "x", "interpreter_id_source": "s",
        "server": {"kind": "s", "version": "x", "process_group": "s", "application_group": "s", "mode": "s",
                   "worker_id": "x", "worker_pid": "x", "arbiter_pid": "x", "options": "*", "detail": "s",
                   "*": "*"},
        "third_party_extensions": ["s"], "wsgi_script_modules": ["s"],
    },
    "sys_path": {
        "entries": [{"index": "i", "path": "s", "abs_path": "s", "real_path": "s", "exists": "b", "is_dir": "b",
                     "is_zip": "b", "readable": "b", "error": "s", "entries": "i", "duplicate_of": "i",
                     "non_utf8": "b", "truncated_listing": "b",
                     "origin": {"kind": "s", "detail": "s", "pth_file": "s", "line": "i", "venv_root": "s",
                                "pyvenv_cfg": _PYVENV, "*": "*"}}],
        "pth_files": [{"file": "s", "dir": "s", "error": "s", "skipped_lines": "i",
                       "lines": [{"line": "i", "kind": "s", "text": "s", "target": "s", "exists": "b",
                                  "on_sys_path": "b", "editable_finder": _FINDER}]}],
        "editable_finders": [_FINDER],
    },
    "distributions": [{"name": "s", "version": "s", "location": "s", "location_index": "i", "metadata_path": "s",
                       "format": "s", "installer": "s", "editable": "x", "direct_url": "s", "editable_pth": "s",
                       "editable_mode": "s", "editable_paths": ["s"], "editable_mapping": {"*": "s"},
                       "editable_target": "s", "top_level": ["s"], "record_files": "i", "missing_files": ["s"],
                       "metadata_missing": "b", "error": "s"}],
    "shadowed": {
        "modules": [{"name": "s", "kind": "s", "winner": _PROVIDER, "losers": [_PROVIDER], "portions": [_PROVIDER],
                     "stdlib": "b", "winner_is_stdlib": "b", "loaded_file": "s"}],
        "distributions": [{"name": "s", "winner": _DIST_COPY, "losers": [_DIST_COPY], "versions_differ": "b",
                           "top_level": ["s"], "loaded": {"*": {"file": "s", "copy_index": "i"}}}],
    },
    "modules": {
        "count": "i", "process_start": "n",
        "top_level": [{"name": "s", "file": "s", "resolves_to": "s", "matches_sys_path": "b",
                       "modified_after_start": "b", "mtime": "n", "file_missing": "b"}],
        "extensions": [{"module": "s", "file": "s"}],
        "wsgi_scripts": [{"module": "s", "file": "s"}],
    },
    "process": {"source": "s", "pid": "i", "ppid": "i", "name": "s", "user": "s", "uids": ["i"], "gids": ["i"],
                "create_time": "n", "threads": "i", "rss": "i", "cwd": "s", "cmdline": ["s"],
                "parents": [{"pid": "i", "name": "s"}]},
    "environment": {"variables": {"*": "s"}, "policy": "s"},
    "findings": [{"severity": "s", "code": "s", "title": "s", "message": "s", "fix": "s", "evidence": ["s"],
                  "data": "*"}],
    "redacted": {"secrets": "b", "users": "b", "method": "s"},
    "probe": {"mount": "s", "version": "s", "own_scripts": ["s"], "stdlib_shadowed": [{"module": "s", "file": "s"}]},
}

_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number"}
_WANT = {"s": "a string", "i": "an integer", "n": "a number", "b": "a boolean", "x": "a plain value (not an "
         "array or object)"}


def _is(value: Any, code: str) -> bool:
    if code == "s":
        return isinstance(value, str)
    if code == "i":
        return isinstance(value, int) and not isinstance(value, bool)
    if code == "n":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if code == "b":
        return isinstance(value, bool)
    if code == "x":
        return not isinstance(value, (dict, list))
    return True


def _got(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _where(path: Tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "the report"


def check_shape(report: dict, spec: Optional[dict] = None) -> None:
    """ShapeError naming the first field of *report* whose type does not match the schema."""
    spec = SPEC if spec is None else spec
    # An explicit stack: a hostile report must not turn validation into a RecursionError.
    # Each entry is (value, spec, parent entry, key, is a section); a field's path is
    # built from the parent links only for the error message (building it for every
    # field was most of the cost: a report of 2,000 distributions has ~25,000 fields).
    stack: List[Tuple[Any, Any, Any, Any, bool]] = [(report, spec, None, None, True)]
    pop, push = stack.pop, stack.append
    while stack:
        entry = pop()
        value, want = entry[0], entry[1]
        if value is None or want == "*":
            continue
        if want.__class__ is str:
            if not _is(value, want):
                raise _wrong_type(_path(entry), want, value)
            continue
        if want.__class__ is list:
            if entry[4] and isinstance(value, dict) and set(value) == {"error"}:
                continue  # a section that could not be collected
            if not isinstance(value, list):
                raise ShapeError(f"field {_where(_path(entry))} should be an array, not {_got(value)}")
            item = want[0]
            if item.__class__ is str:
                # Leaves only: checked here, in order, without a stack entry each.
                if item != "*":
                    for i, v in enumerate(value):
                        if v is not None and not _is(v, item):
                            raise _wrong_type(_path(entry) + (i,), item, v)
                continue
            for i in range(len(value) - 1, -1, -1):
                push((value[i], item, entry, i, False))
            continue
        if not isinstance(value, dict):
            raise ShapeError(f"field {_where(_path(entry))} should be an object, not {_got(value)}")
        if entry[4] and set(value) == {"error"}:
            if not isinstance(value["error"], (str, type(None))):
                raise ShapeError(f"field {_where(_path(entry) + ('error',))} should be a string, "
                                 f"not {_got(value['error'])}")
            continue
        every = want.get("*")
        top = entry[2] is None
        get = want.get
        # Leaf fields are checked here, in order, up to the first field that holds more;
        # that one and the rest go on the stack, so the first wrong field is still the
        # first in document order.
        rest = None
        for key, v in value.items():
            sub = get(key, every)
            if sub is None:
                continue
            if rest is None and sub.__class__ is str:
                if v is not None and sub != "*" and not _is(v, sub):
                    raise _wrong_type(_path(entry) + (key,), sub, v)
                continue
            if rest is None:
                rest = []
            rest.append((v, sub, entry, key, top))
        if rest:
            rest.reverse()
            stack.extend(rest)


def _wrong_type(path: Tuple[Any, ...], want: str, value: Any) -> ShapeError:
    return ShapeError(f"field {_where(path)} should be {_WANT[want]}, not {_got(value)}")


def _path(entry: Tuple[Any, Any, Any, Any, bool]) -> Tuple[Any, ...]:
    """The keys and indexes leading to a stack entry of :func:`check_shape`."""
    keys = []
    while entry[2] is not None:
        keys.append(entry[3])
        entry = entry[2]
    return tuple(reversed(keys))


def load_report_text(text: str, source: str) -> dict:
    """A report from the JSON *text* read from *source*, checked by :func:`check_report` (InputError)."""
    from venvprobe.safeio import loads_json

    try:
        report = loads_json(text)
    except ValueError as exc:
        raise InputError(f"{source!r} is not JSON ({exc})") from None
    return check_report(report, source)


def check_report(report: object, source: str) -> dict:
    """*report* when it is a whole venvprobe report this version reads; else InputError naming *source*."""
    from venvprobe.vocab import ERROR_SCHEMA_NAME, HEALTH_SCHEMA_NAME, IDENTITY_SCHEMA_NAME, SCHEMA_NAME, SCHEMA_VERSION

    if not isinstance(report, dict) or not isinstance(report.get("schema"), dict):
        raise InputError(f"{source!r} is not a venvprobe report (no schema header)")
    schema = report["schema"]
    if schema.get("name") == IDENTITY_SCHEMA_NAME:
        raise InputError(f"{source!r} is the probe's /identity (which process answered), not a report: "
                         "fetch the probe's root URL (.../_venvprobe/) instead")
    if schema.get("name") == HEALTH_SCHEMA_NAME:
        raise InputError(f"{source!r} is the probe's /health (pass or fail by severity), not a report: "
                         "fetch the probe's root URL (.../_venvprobe/) instead")
    if schema.get("name") == ERROR_SCHEMA_NAME:
        raise InputError(f"{source!r} is the probe's error answer, not a report: {str(report.get('message'))[:300]}")
    if schema.get("name") != SCHEMA_NAME:
        raise InputError(f"{source!r} is not a venvprobe report (schema {schema.get('name')!r})")
    version = schema.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise InputError(
            f"{source!r} uses report schema version {version!r}; this venvprobe reads up to {SCHEMA_VERSION}: upgrade venvprobe"
        )
    try:
        check_shape(report)
    except ShapeError as exc:
        raise InputError(f"{source!r} is not a well-formed venvprobe report: {exc}") from None
    # A section sub-resource (/findings, /path...) or `report --section` holds
    # part of a report; analysing it would invent findings from what is absent.
    # Saved before sub-resources said so, such a document lacks the
    # interpreter or the sys.path section, which every report has.
    held = report.get("sections")
    if held is not None or "interpreter" not in report or "sys_path" not in report:
        if not isinstance(held, list):
            held = [k for k in report if k not in ("schema", "generated_at")]
        what = ", ".join(str(k) for k in held[:10]) or "nothing"
        raise InputError(f"{source!r} is part of a report (it holds: {what}), from a probe sub-resource such as "
                         "/findings or from `report --section`: fetch the probe's root URL (.../_venvprobe/) "
                         "or save `venvprobe report -f json` without --section")
    return report
