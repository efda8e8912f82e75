"""The rules an expectations file holds: immutable plain data, so compare() is a pure function of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from venvprobe.expectations.globs import glob_to_regex, strip_slash
from venvprobe.expectations.schema import FORMAT_VERSION, Path_


@dataclass(frozen=True)
class Matcher:
    """One value rule: all of the given tests must hold (usually just one is given)."""

    equals: Tuple[Any, ...] = ()  # () = not given; (value,) otherwise
    globs: Tuple[str, ...] = ()
    version: Optional[str] = None
    one_of: Tuple[Any, ...] = ()
    has_one_of: bool = False

    def matches(self, actual: Any) -> bool:
        """True when *actual* (a value from a report) satisfies every test of this matcher."""
        if self.equals and not _equal(self.equals[0], actual):
            return False
        if self.globs:
            if not isinstance(actual, str):
                return False
            value = strip_slash(actual)
            if not any(glob_to_regex(strip_slash(g)).match(value) for g in self.globs):
                return False
        if self.version is not None and not version_matches(self.version, actual):
            return False
        if self.has_one_of and not any(_equal(v, actual) for v in self.one_of):
            return False
        return True

    def describe(self) -> str:
        """The rule as a reader would say it (used as "expected" in output)."""
        parts = []
        if self.equals:
            parts.append(show(self.equals[0]))
        if self.globs:
            parts.append("matches " + " or ".join(self.globs))
        if self.version is not None:
            parts.append("version " + self.version)
        if self.has_one_of:
            parts.append("one of " + ", ".join(show(v) for v in self.one_of))
        return " and ".join(parts) or "anything"


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, str) and isinstance(actual, str) and expected.startswith("/"):
        return strip_slash(expected) == strip_slash(actual)
    return bool(expected == actual)


def version_matches(spec: str, actual: Any) -> bool:
    """PEP 440 containment; non-PEP 440 versions only match ``===`` (arbitrary equality)."""
    if actual is None:
        return False
    spec_set = SpecifierSet(spec)
    text = str(actual)
    try:
        Version(text)
    except InvalidVersion:
        return bool(spec_set) and all(s.operator == "===" and s.version == text for s in spec_set)
    return spec_set.contains(text, prereleases=True)


def show(value: Any) -> str:
    """Short display of a value for tables ("" shown as quotes, None as -)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    return str(value)


@dataclass(frozen=True)
class FieldRule:
    """``key = MATCHER`` in [interpreter], [identity] or [fields]."""

    check: str  # id shown in output, e.g. "interpreter.prefix"
    path: Path_  # where in the report
    matcher: Matcher
    line: Optional[int] = None
    alias_global: bool = False  # mod_wsgi application group: "%{GLOBAL}" means ""


@dataclass(frozen=True)
class PathPattern:
    """A sys.path selector: a glob, or ``origin:KIND`` (how the collector explains the entry)."""

    text: str

    @property
    def origin(self) -> Optional[str]:
        return self.text[len("origin:"):] if self.text.startswith("origin:") else None

    def matches(self, entry: dict) -> bool:
        """True when the sys.path *entry* (report data) is selected by this pattern."""
        origin = self.origin
        if origin is not None:
            return (entry.get("origin") or {}).get("kind") == origin
        regex = glob_to_regex(strip_slash(self.text))
        for key in ("path", "abs_path", "real_path"):
            value = entry.get(key)
            if isinstance(value, str) and regex.match(strip_slash(value)):
                return True
        return False


@dataclass(frozen=True)
class Located:
    """A value with the line it was written on."""

    value: Any
    line: Optional[int] = None


@dataclass
class SysPathRules:
    first: Optional[Located] = None  # PathPattern
    before: List[Located] = field(default_factory=list)  # (PathPattern, PathPattern)
    include: List[Located] = field(default_factory=list)
    exclude: List[Located] = field(default_factory=list)


@dataclass
class DistributionRules:
    require: Dict[str, Located] = field(default_factory=dict)  # canonical name -> (display name, spec)
    forbid: List[Located] = field(default_factory=list)  # display names
    only_from_venv: Optional[Located] = None


@dataclass
class ShadowingRules:
    allow: Dict[str, Located] = field(default_factory=dict)  # module or distribution name -> reason
    line: Optional[int] = None


@dataclass
class FindingRules:
    max: Dict[str, Located] = field(default_factory=dict)
    allow: Dict[str, Located] = field(default_factory=dict)  # code -> reason
    forbid: List[Located] = field(default_factory=list)


@dataclass
class WorkerRules:
    identical: Optional[Located] = None
    ignore: Tuple[str, ...] = ()


@dataclass
class Expectations:
    """A validated expectations file, ready for :func:`venvprobe.compare.compare`."""

    source: str = "<expectations>"
    version: int = FORMAT_VERSION
    description: str = ""
    fields: List[FieldRule] = field(default_factory=list)
    sys_path: SysPathRules = field(default_factory=SysPathRules)
    distributions: DistributionRules = field(default_factory=DistributionRules)
    shadowing: Optional[ShadowingRules] = None
    findings: FindingRules = field(default_factory=FindingRules)
    workers: WorkerRules = field(default_factory=WorkerRules)
