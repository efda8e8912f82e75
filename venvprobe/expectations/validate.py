"""Strict validation of a parsed expectations file into :class:`~venvprobe.expectations.model.Expectations`.

Strict on purpose: a misspelt key in a deploy check would otherwise silently check
nothing.  Every error names the file, the line and, where it can, a hint (closest
valid key, the specifier syntax, ...).
"""

from __future__ import annotations

import difflib
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from venvprobe.expectations.locate import KeyLocator
from venvprobe.expectations.model import (DistributionRules, Expectations, FieldRule, FindingRules, Located, Matcher,
                                          PathPattern, ShadowingRules, SysPathRules, WorkerRules)
from venvprobe.expectations.schema import (FORMAT_VERSION, IDENTITY_FIELDS, INTERPRETER_FIELDS, MATCHER_KEYS, SECTION_KEYS,
                                           SPEC_OPERATORS, TOP_KEYS, WORKER_PARTS, ExpectationsError, Path_)
from venvprobe.vocab import ORIGIN_KINDS, SERVER_KINDS, SEVERITIES
from venvprobe.vocab import REPORT_KEYS as REPORT_SECTIONS


# TOML's name for a parsed value's type; bool before int (a bool is an int in Python).
_TYPE_NAMES = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"),
               (dict, "a table"))


def _type_name(value: Any) -> str:
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)


class Validator:
    """Turns the parsed TOML of one file into :class:`Expectations`, or raises the first ExpectationsError."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.locator = KeyLocator(text)

    # -- errors ---------------------------------------------------------------

    def fail(self, path: Path_, message: str, hint: Optional[str] = None) -> "ExpectationsError":
        return ExpectationsError(message, self.source, self.locator.line_of(path), hint)

    def line(self, path: Path_) -> Optional[int]:
        return self.locator.line_of(path)

    def unknown(self, path: Path_, key: str, allowed: Sequence[str], what: str) -> "ExpectationsError":
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
        return self.fail(path + (key,), f"unknown key {key!r} in {what}", hint)

    def expect(self, path: Path_, value: Any, kind: type, what: str) -> Any:
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            names = {str: "a string", bool: "true or false", int: "an integer", list: "an array", dict: "a table"}
            raise self.fail(path, f"{_dotted(path)} must be {names.get(kind, kind.__name__)}, not {_type_name(value)}",
                            what or None)
        return value

    # -- whole file -------------------------------------------------------------

    def build(self, data: Dict[str, Any]) -> Expectations:
        for key in data:
            if key not in TOP_KEYS:
                if key in REPORT_SECTIONS:
                    raise self.fail((key,), f"[{key}] is a report section with no rules of its own",
                                    f'check single fields with [fields] "{key}.<field>" = ...')
                raise self.unknown((), key, TOP_KEYS, "the top level")
        exp = Expectations(source=self.source)
        if "version" in data:
            version = self.expect(("version",), data["version"], int, "the expectations format version, e.g. version = 1")
            if version > FORMAT_VERSION or version < 1:
                raise self.fail(("version",), f"expectations format version {version} is not supported "
                                f"(this venvprobe reads version {FORMAT_VERSION})",
                                "upgrade venvprobe" if version > FORMAT_VERSION else "use version = 1")
            exp.version = version
        if "description" in data:
            exp.description = self.expect(("description",), data["description"], str, "")
        for name, table in (("interpreter", INTERPRETER_FIELDS), ("identity", IDENTITY_FIELDS)):
            if name in data:
                section = self.expect((name,), data[name], dict, f"write it as a table: [{name}]")
                for key, value in section.items():
                    if key not in table:
                        raise self.unknown((name,), key, list(table), f"[{name}]")
                    spec = table[key]
                    matcher = self.matcher((name, key), value, spec.kind)
                    exp.fields.append(FieldRule(f"{name}.{key}", spec.path, matcher, self.line((name, key)),
                                                alias_global=(key == "application_group")))
        if "fields" in data:
            section = self.expect(("fields",), data["fields"], dict, 'e.g. [fields] "interpreter.prefix" = "/srv/venv"')
            for keys, value in self.flatten(section, ("fields",)):
                dotted = ".".join(str(k) for k in keys)
                parts: Tuple[Union[str, int], ...] = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
                if parts[0] not in REPORT_SECTIONS:
                    raise self.fail(("fields",) + keys, f"{dotted!r} does not start with a report section",
                                    "sections: " + ", ".join(REPORT_SECTIONS))
                matcher = self.matcher(("fields",) + keys, value, "any")
                exp.fields.append(FieldRule(dotted, parts, matcher, self.line(("fields",) + keys)))
        if "sys_path" in data:
            exp.sys_path = self.sys_path(self.section(data, "sys_path"))
        if "distributions" in data:
            exp.distributions = self.distributions(self.section(data, "distributions"))
        if "shadowing" in data:
            exp.shadowing = self.shadowing(self.section(data, "shadowing"))
        if "findings" in data:
            exp.findings = self.findings(self.section(data, "findings"))
        if "workers" in data:
            exp.workers = self.workers(self.section(data, "workers"))
        return exp

    def section(self, data: Dict[str, Any], name: str) -> Dict[str, Any]:
        section = self.expect((name,), data[name], dict, f"write it as a table: [{name}]")
        allowed = SECTION_KEYS[name]
        for key in section:
            if key not in allowed:
                raise self.unknown((name,), key, allowed, f"[{name}]")
        return section

    def flatten(self, table: Dict[str, Any], path: Path_) -> List[Tuple[Tuple[str, ...], Any]]:
        """[fields] keys may be dotted without quotes (then TOML nests them): undo that,
        but keep inline tables that are matchers."""
        out: List[Tuple[Tuple[str, ...], Any]] = []
        for key, value in table.items():
            if isinstance(value, dict) and not (set(value) & set(MATCHER_KEYS)):
                out.extend(((key,) + sub, v) for sub, v in self.flatten(value, path + (key,)))
            else:
                out.append(((key,), value))
        return out

    # -- value matchers -----------------------------------------------------------

    def matcher(self, path: Path_, value: Any, kind: str) -> Matcher:
        if isinstance(value, dict):
            if not value:
                raise self.fail(path, f"{_dotted(path)} is an empty table", "give one of: " + ", ".join(MATCHER_KEYS))
            for key in value:
                if key not in MATCHER_KEYS:
                    raise self.unknown(path, key, MATCHER_KEYS, f"the rule for {_dotted(path)}")
            equals: Tuple[Any, ...] = ()
            globs: Tuple[str, ...] = ()
            version = None
            one_of: Tuple[Any, ...] = ()
            if "equals" in value:
                self.scalar(path + ("equals",), value["equals"], kind)
                equals = (value["equals"],)
            if "glob" in value:
                raw = value["glob"]
                items = raw if isinstance(raw, list) else [raw]
                if not items or not all(isinstance(g, str) and g for g in items):
                    raise self.fail(path + ("glob",), f"{_dotted(path)}.glob must be a non-empty string or array of strings",
                                    'e.g. glob = "/srv/*/venv"')
                if kind in ("bool", "int"):
                    raise self.fail(path + ("glob",), f"{_dotted(path)} is not a string: a glob cannot match it")
                globs = tuple(items)
            if "version" in value:
                version = self.specifier(path + ("version",), value["version"])
            if "one_of" in value:
                items = value["one_of"]
                if not isinstance(items, list) or not items:
                    raise self.fail(path + ("one_of",), f"{_dotted(path)}.one_of must be a non-empty array",
                                    'e.g. one_of = ["mod_wsgi", "uwsgi"]')
                for item in items:
                    self.scalar(path + ("one_of",), item, kind)
                one_of = tuple(items)
            matcher = Matcher(equals, globs, version, one_of, "one_of" in value)
        else:
            self.scalar(path, value, kind)
            if isinstance(value, str) and kind == "version" and value.startswith(SPEC_OPERATORS):
                raise self.fail(path, f"{_dotted(path)} = {value!r} compares for equality",
                                f'for a PEP 440 specifier write {{ version = "{value}" }}')
            if isinstance(value, str) and kind == "path" and any(c in value for c in "*?["):
                raise self.fail(path, f"{_dotted(path)} = {value!r} compares for equality",
                                f'for a pattern write {{ glob = "{value}" }}')
            matcher = Matcher(equals=(value,))
        if kind == "str" and path[-1] == "server":
            for item in matcher.one_of + matcher.equals:
                if item not in SERVER_KINDS:
                    raise self.fail(path, f"unknown server kind {item!r}", "server kinds: " + ", ".join(SERVER_KINDS))
        return matcher

    def scalar(self, path: Path_, value: Any, kind: str) -> None:
        if kind == "any":
            if isinstance(value, dict):
                raise self.fail(path, f"{_dotted(path)}: a table is not a value to compare",
                                "use equals / glob / version / one_of")
            return
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(path, f"{_dotted(path)} must be true or false, not {_type_name(value)}")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(path, f"{_dotted(path)} must be an integer, not {_type_name(value)}")
        elif not isinstance(value, str):
            hint = None
            if isinstance(value, list):
                hint = "for several allowed values write { one_of = [...] }"
            elif isinstance(value, (int, float)) and kind == "version":
                hint = f'versions are strings: "{value}"'
            raise self.fail(path, f"{_dotted(path)} must be a string, not {_type_name(value)}", hint)

    def specifier(self, path: Path_, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"{_dotted(path)} must be a PEP 440 specifier string, not {_type_name(value)}",
                            'e.g. ">=2.2,<3" or "==1.4.*"' + (f' or "=={value}"' if isinstance(value, (int, float)) else ""))
        text = value.strip()
        if text in ("", "*"):
            return ""
        try:
            SpecifierSet(text)
        except InvalidSpecifier:
            hint = 'PEP 440 specifiers look like ">=2.2,<3", "==1.4.*" or "~=3.11.0"'
            if text[:1].isdigit():
                hint = f'did you mean "=={text}"? ' + hint
            raise self.fail(path, f"{_dotted(path)}: {value!r} is not a valid version specifier", hint) from None
        return text

    # -- sections -------------------------------------------------------------------

    def pattern(self, path: Path_, value: Any) -> PathPattern:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"{_dotted(path)}: a sys.path pattern must be a non-empty string, not {_type_name(value)}",
                            'a glob such as "/srv/app/venv/lib/python3*/site-packages" or "origin:venv_site"')
        pat = PathPattern(value)
        if pat.origin is not None and pat.origin not in ORIGIN_KINDS:
            close = difflib.get_close_matches(pat.origin, ORIGIN_KINDS, n=1)
            raise self.fail(path, f"unknown sys.path origin {pat.origin!r}",
                            (f"did you mean 'origin:{close[0]}'? " if close else "") + "origins: " + ", ".join(ORIGIN_KINDS))
        return pat

    def pattern_list(self, path: Path_, value: Any) -> List[Located]:
        if isinstance(value, str):
            value = [value]
        self.expect(path, value, list, 'e.g. ["/srv/app/*", "origin:user_site"]')
        line = self.line(path)
        return [Located(self.pattern(path, item), line) for item in value]

    def sys_path(self, section: Dict[str, Any]) -> SysPathRules:
        rules = SysPathRules()
        if "first" in section:
            rules.first = Located(self.pattern(("sys_path", "first"), section["first"]), self.line(("sys_path", "first")))
        if "before" in section:
            path = ("sys_path", "before")
            value = section["before"]
            hint = 'an array of [A, B] pairs: before = [["origin:venv_site", "origin:base_site"]]'
            if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
                value = [value]  # one pair written without the outer brackets
            self.expect(path, value, list, hint)
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.fail(path, "sys_path.before must hold [A, B] pairs", hint)
                rules.before.append(Located((self.pattern(path, pair[0]), self.pattern(path, pair[1])), self.line(path)))
        if "include" in section:
            rules.include = self.pattern_list(("sys_path", "include"), section["include"])
        if "exclude" in section:
            rules.exclude = self.pattern_list(("sys_path", "exclude"), section["exclude"])
        return rules

    def distributions(self, section: Dict[str, Any]) -> DistributionRules:
        rules = DistributionRules()
        if "require" in section:
            path = ("distributions", "require")
            value = section["require"]
            if isinstance(value, list):
                raise self.fail(path, "distributions.require must be a table of name = specifier",
                                'require = { flask = ">=2.2", requests = "" }  ("" = any version)')
            self.expect(path, value, dict, 'require = { flask = ">=2.2" }')
            for name, spec in value.items():
                key = canonicalize_name(name)
                if key in rules.require:
                    raise self.fail(path + (name,), f"distribution {name!r} is listed twice (names compare normalised)")
                rules.require[key] = Located((name, self.specifier(path + (name,), spec)), self.line(path + (name,)))
        if "forbid" in section:
            path = ("distributions", "forbid")
            value = section["forbid"]
            self.expect(path, value, list, 'forbid = ["pycrypto", "enum34"]')
            for name in value:
                if not isinstance(name, str) or not name:
                    raise self.fail(path, "distributions.forbid must list distribution names (strings)")
                if canonicalize_name(name) in rules.require:
                    raise self.fail(path, f"{name!r} is both required and forbidden")
                rules.forbid.append(Located(name, self.line(path)))
        if "only_from_venv" in section:
            path = ("distributions", "only_from_venv")
            value = self.expect(path, section["only_from_venv"], bool,
                                "only_from_venv = true: no module imported from site-packages outside the venv")
            rules.only_from_venv = Located(value, self.line(path))
        return rules

    def reasons(self, path: Path_, value: Any, key: str) -> Dict[str, Located]:
        hint = f'an array of tables: allow = [{{ {key} = "...", reason = "why this is acceptable" }}]'
        self.expect(path, value, list, hint)
        out: Dict[str, Located] = {}
        for index, item in enumerate(value):
            where = path + (index,)
            if isinstance(item, str):
                raise self.fail(path, f"{_dotted(path)}: {item!r} needs a reason", hint)
            if not isinstance(item, dict):
                raise self.fail(where, f"{_dotted(path)} items must be tables, not {_type_name(item)}", hint)
            for k in item:
                if k not in (key, "reason"):
                    raise self.unknown(where, k, (key, "reason"), f"{_dotted(path)} item")
            name = item.get(key)
            reason = item.get("reason")
            if not isinstance(name, str) or not name:
                raise self.fail(where, f"{_dotted(path)} item without a {key!r}", hint)
            if not isinstance(reason, str) or not reason.strip():
                raise self.fail(where, f"{_dotted(path)}: {name!r} has no reason",
                                "say why it is acceptable: reviewers read this")
            out[name] = Located(reason.strip(), self.line(where))
        return out

    def shadowing(self, section: Dict[str, Any]) -> ShadowingRules:
        rules = ShadowingRules(line=self.line(("shadowing",)))
        if "allow" in section:
            # Exact names: a module (demo_app) and a distribution (demo-app)
            # may both be listed; compare matches either way.
            rules.allow = self.reasons(("shadowing", "allow"), section["allow"], "name")
        return rules

    def code(self, path: Path_, code: Any) -> str:
        from venvprobe.rules.registry import RULES

        if not isinstance(code, str):
            raise self.fail(path, f"finding codes are strings, not {_type_name(code)}")
        known = set(RULES)
        if code not in known:
            close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.6)
            raise self.fail(path, f"unknown finding code {code!r}",
                            f"did you mean {close[0]!r}?" if close else "codes are listed in docs/findings.md")
        return code

    def findings(self, section: Dict[str, Any]) -> FindingRules:
        rules = FindingRules()
        if "max" in section:
            path = ("findings", "max")
            value = self.expect(path, section["max"], dict, "max = { error = 0, warning = 2 }")
            for severity, count in value.items():
                if severity not in SEVERITIES:
                    raise self.unknown(path, severity, SEVERITIES, "findings.max")
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise self.fail(path + (severity,), f"findings.max.{severity} must be a count (0 or more)")
                rules.max[severity] = Located(count, self.line(path + (severity,)))
        if "allow" in section:
            path = ("findings", "allow")
            allowed = self.reasons(path, section["allow"], "code")
            for index, code in enumerate(allowed):
                self.code(path + (index,), code)
            rules.allow = allowed
        if "forbid" in section:
            path = ("findings", "forbid")
            value = self.expect(path, section["forbid"], list, 'forbid = ["stdlib-shadowed"]')
            for code in value:
                self.code(path, code)
                if code in rules.allow:
                    raise self.fail(path, f"{code!r} is both allowed and forbidden")
                rules.forbid.append(Located(code, self.line(path)))
        return rules

    def workers(self, section: Dict[str, Any]) -> WorkerRules:
        rules = WorkerRules()
        if "identical" in section:
            path = ("workers", "identical")
            rules.identical = Located(self.expect(path, section["identical"], bool, "identical = true"), self.line(path))
        if "ignore" in section:
            path = ("workers", "ignore")
            value = self.expect(path, section["ignore"], list, 'ignore = ["findings"]')
            for part in value:
                if part not in WORKER_PARTS:
                    raise self.unknown(path, str(part), WORKER_PARTS, "workers.ignore")
            rules.ignore = tuple(value)
        return rules


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
