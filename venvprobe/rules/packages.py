"""Distributions and modules: shadowed copies, duplicate metadata, stale installs, the standard library
shadowed, namespace packages split or poisoned.

The rules (``RULES``) and their live checks, which are pure functions of the report: they never read
the machine they run on (so a saved report gives the same findings) and also run inside the inspected
interpreter (see :mod:`venvprobe.rules`: standard library only, Python 3.8 syntax, no I/O).
"""

from __future__ import annotations

import posixpath

from venvprobe.rules.base import Analysis, Rule, asked_for_system_site, canonical_name, live_check, mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (this module also runs inside the target)
    from typing import Any, Dict, List, Optional, Set


@live_check("distributions")
def _check_distributions(a: Analysis) -> None:
    for d in a.section("distributions") or []:
        if not isinstance(d, dict):
            continue
        missing = d.get("missing_files") or []
        tops = d.get("top_level") or []
        if missing and tops and set(tops) <= {m.split(".")[0] for m in missing}:
            a.add("distribution-files-missing",
                  f"{d.get('name')} {d.get('version')} in {d.get('location')}: metadata present but its files are gone "
                  f"({', '.join(missing[:5])})",
                  [f"{d.get('metadata_path')}/RECORD lists {', '.join(missing[:10])}"])


@live_check()
def _check_duplicate_metadata(a: Analysis) -> None:
    """Two metadata directories of one distribution in one directory (an install over another, --target)."""
    groups: Dict[tuple, List[dict]] = {}
    # The distributions of one sys.path entry share one location string: normalised once per entry.
    normed: Dict[str, str] = {}
    for d in a.section("distributions") or []:
        if d.get("format") in ("egg-link",) or not d.get("name"):
            continue
        raw = str(d.get("location") or "")
        location = normed.get(raw)
        if location is None:
            location = normed[raw] = posixpath.normpath(raw)
        groups.setdefault((location, canonical_name(d.get("name"))), []).append(d)
    for (location, _), copies in sorted(groups.items()):
        if len(copies) < 2:
            continue
        versions = ", ".join(f"{c.get('version')} ({posixpath.basename(str(c.get('metadata_path')))})" for c in copies)
        # Same version twice (Debian ships .egg-info beside .dist-info): untidy, not wrong.
        differ = len({c.get("version") for c in copies}) > 1
        a.add("duplicate-distribution-metadata",
              f"{copies[0].get('name')} has {len(copies)} metadata directories in {location}: {versions}; "
              "importlib.metadata and pip report only one of them, the files on disk may be from either",
              [str(c.get("metadata_path")) for c in copies], severity=None if differ else "info",
              data={"name": copies[0].get("name"), "versions": [c.get("version") for c in copies]})


@live_check("shadowed")
def _check_shadowed(a: Analysis) -> None:
    shadowed = a.section("shadowed") or {}
    covered: Set[str] = set()
    dists = a.section("distributions") or []
    kinds = {e.get("index"): (e.get("origin") or {}).get("kind") for e in a.entries}
    for item in shadowed.get("distributions") or []:
        win, losers = item.get("winner") or {}, item.get("losers") or []
        lose_text = "; ".join(f"{l.get('version')} at sys.path[{l.get('location_index')}] {l.get('location')}" for l in losers)
        # A venv made with --system-site-packages overriding a base package is what it is for.
        overrides_base = kinds.get(win.get("location_index")) == "venv_site" and asked_for_system_site(a.interp) \
            and all(kinds.get(l.get("location_index")) == "base_site" for l in losers)
        a.add("shadowed-distribution",
              f"{item.get('name')}: {win.get('version')} at sys.path[{win.get('location_index')}] {win.get('location')} wins over {lose_text}"
              + (" (the venv overrides the base installation, as configured)" if overrides_base else ""),
              [f"{win.get('metadata_path')}"] + [l.get("metadata_path") for l in losers],
              severity="warning" if item.get("versions_differ") and not overrides_base else "info",
              data={"name": item.get("name"), "winner": win.get("version"), "losers": [l.get("version") for l in losers]})
        for d in dists:
            if isinstance(d, dict) and canonical_name(d.get("name")) == canonical_name(item.get("name")):
                covered.update(d.get("top_level") or [])
    for item in shadowed.get("modules") or []:
        name = item.get("name")
        kind = item.get("kind")
        winner = item.get("winner") or {}
        losers = item.get("losers") or []
        if kind == "namespace_split":
            a.add("namespace-split",
                  f"namespace package {name} is split across {len(item.get('portions') or [])} sys.path entries",
                  [p.get("path") for p in item.get("portions") or []])
            continue
        if kind == "namespace_poisoned":
            a.add("namespace-poisoned",
                  f"{winner.get('path')} is a regular package and hides the namespace portions of {name}",
                  [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers])
            continue
        if item.get("stdlib"):
            if item.get("winner_is_stdlib"):
                a.add("stdlib-backport-ignored",
                      f"{name} in {', '.join(l.get('entry') for l in losers)} is never used: the standard library's {name} wins",
                      [f"wins: {winner.get('path')}"] + [f"ignored: {l.get('path')}" for l in losers])
            else:
                loaded = item.get("loaded_file")
                a.add("stdlib-shadowed",
                      f"standard-library module {name} is shadowed by {winner.get('path')} (sys.path[{winner.get('index')}])"
                      + (f"; currently loaded from {loaded}" if loaded else ""),
                      [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers])
            continue
        if name in covered:
            continue
        # A file no distribution installed hiding an installed package (a
        # scratch requests.py) breaks imports: a warning.  Two unowned copies,
        # or two distributions providing one name, stay info.
        stray = name not in _PACKAGING_LEFTOVERS and not _owned(name, winner.get("index"), dists) \
            and any(_owned(name, l.get("index"), dists) for l in losers)
        hidden_by = [_owner(name, l.get("index"), dists) for l in losers]
        a.add("shadowed-module",
              f"{name}: {winner.get('path')} (sys.path[{winner.get('index')}]) hides "
              + ", ".join(f"{l.get('path')} (sys.path[{l.get('index')}])" for l in losers)
              + (f"; the hidden copy is the installed distribution {', '.join(h for h in hidden_by if h)}" if stray else ""),
              [f"wins: {winner.get('path')}"] + [f"hidden: {l.get('path')}" for l in losers],
              severity="warning" if stray else None)


# Top-level names badly packaged distributions install by mistake: an app's
# own tests/ hiding one of those hides nothing anybody imports.
_PACKAGING_LEFTOVERS = frozenset(("tests", "test", "testing", "docs", "doc", "examples", "example",
                                  "benchmarks", "scripts", "build", "src"))


def _owner(name: Optional[str], index: Any, dists: List[dict]) -> Optional[str]:
    """"<dist> <version>" of the distribution at sys.path[index] that installed top-level *name*."""
    for d in dists:
        if isinstance(d, dict) and index is not None and d.get("location_index") == index \
                and name in (d.get("top_level") or []):
            return f"{d.get('name')} {d.get('version')}"
    return None


def _owned(name: Optional[str], index: Any, dists: List[dict]) -> bool:
    return _owner(name, index, dists) is not None


@live_check()
def _check_probe_stdlib(a: Analysis) -> None:
    """Standard-library modules the probe found on its own path coming from the app's files.

    They explain sections the collector lost (the ``shadowed`` table itself
    may be one), and catch names ``sys.stdlib_module_names`` leaves out
    (``_xxsubinterpreters``, ``_sysconfigdata_*``).
    """
    probe = mapping(a.report.get("probe"))
    items = probe.get("stdlib_shadowed")
    if not isinstance(items, list):
        return
    named = [f.get("message") or "" for f in a.findings if f.get("code") == "stdlib-shadowed"]
    for item in items:
        if not isinstance(item, dict) or not item.get("file"):
            continue
        path = str(item["file"])
        # A shadowing package is named by its directory in the shadowed table's finding.
        package = posixpath.dirname(path) + " (" if posixpath.basename(path).startswith("__init__.") else None
        if any(path in message or (package and package in message) for message in named):
            continue
        a.add("stdlib-shadowed",
              f"standard-library module {item.get('module')} is shadowed by {path}, found by the probe, "
              "which needs it", [f"wins: {path}"])


RULES = (
    Rule("distribution-files-missing", "warning",
         "A distribution's metadata remains but the files its RECORD lists are gone",
         "Reinstall or uninstall the distribution: `pip list` shows it but it cannot be imported.",
         checks=(_check_distributions,)),
    Rule("duplicate-distribution-metadata", "warning",
         "One directory holds two metadata directories of the same distribution",
         "Remove the stale .dist-info/.egg-info (or reinstall with --upgrade into a clean --target directory): "
         "importlib.metadata and pip show only one of them, while the files may be from the other.",
         checks=(_check_duplicate_metadata,)),
    Rule("shadowed-distribution", "warning",
         "A distribution is installed in more than one sys.path entry",
         "Uninstall the copy that should not be used; the first on sys.path wins and pip only shows that one.",
         checks=(_check_shadowed,)),
    Rule("shadowed-module", "info",
         "A top-level module or package is provided by more than one sys.path entry",
         "Remove the copy that should not be used, or reorder sys.path.",
         checks=(_check_shadowed,)),
    Rule("stdlib-shadowed", "error",
         "A standard-library module is shadowed by a file outside the standard library",
         "Rename or remove the local file (a local random.py, an old backport) that hides the standard module.",
         checks=(_check_shadowed, _check_probe_stdlib)),
    Rule("stdlib-backport-ignored", "info",
         "A backport of a standard-library module is installed but never used",
         "Uninstall the backport: the standard library's copy always wins.",
         checks=(_check_shadowed,)),
    Rule("namespace-split", "info",
         "A namespace package is split across several sys.path entries",
         "Fine when intended; make sure every portion comes from the same environment.",
         checks=(_check_shadowed,)),
    Rule("namespace-poisoned", "error",
         "A regular package (__init__.py) hides the portions of a namespace package",
         "Remove the stray __init__.py or the old non-namespace distribution; the other portions are invisible.",
         checks=(_check_shadowed,)),
)
