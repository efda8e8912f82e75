"""Where reports come from: probe URLs, saved files, stdin and interpreters (``python:PATH``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

from venvprobe.errors import InputError
from venvprobe.fleet.http import fetch_report, is_url
from venvprobe.fleet.options import FetchError, FetchOptions


@dataclass(frozen=True)
class Target:
    """Where a report comes from: kind is "url", "file", "stdin" or "python"."""

    kind: str
    value: str

    @property
    def label(self) -> str:
        return {"stdin": "<stdin>", "python": f"python:{self.value}"}.get(self.kind, self.value)


def parse_targets(positional: Sequence[str], pythons: Sequence[str] = ()) -> List[Target]:
    """Targets from the command line: URLs, files, ``-``, ``python:PATH`` and ``--python`` interpreters."""
    targets = []
    for value in positional:
        if value.startswith("python:"):
            targets.append(Target("python", value[len("python:"):]))
        elif is_url(value):
            targets.append(Target("url", value))
        elif value == "-":
            targets.append(Target("stdin", value))
        else:
            targets.append(Target("file", value))
    targets += [Target("python", p) for p in pythons]
    if sum(t.kind == "stdin" for t in targets) > 1:
        raise FetchError("'-' (stdin) can be given only once")
    return targets


def _parse_report_text(text: str, source: str) -> dict:
    """report_shape.load_report_text, failing as a FetchError (a target that cannot be had)."""
    from venvprobe.report_shape import load_report_text

    try:
        return load_report_text(text, source)
    except InputError as exc:
        raise FetchError(str(exc)) from None


def load_target(target: Target, options: FetchOptions, stdin_text: Optional[str] = None) -> dict:
    """One report from *target* (FetchError when it cannot be had), secrets masked by value."""
    from venvprobe.redact import scrub_report

    return scrub_report(_load_target(target, options, stdin_text))


def _load_target(target: Target, options: FetchOptions, stdin_text: Optional[str] = None) -> dict:
    if target.kind == "url":
        return fetch_report(target.value, options)
    if target.kind == "stdin":
        return _parse_report_text(stdin_text or "", "<stdin>")
    if target.kind == "file":
        from venvprobe.safeio import read_text

        try:
            text = read_text(target.value, "report", limit=options.max_bytes)
        except InputError as exc:
            raise FetchError(str(exc)) from None
        return _parse_report_text(text, target.value)
    if target.kind == "python":
        from venvprobe.report import CollectError, collect_foreign

        try:
            return collect_foreign(target.value, timeout=options.python_timeout)
        except CollectError as exc:
            raise FetchError(str(exc).splitlines()[0] if str(exc) else "collection failed") from None
    raise FetchError(f"unknown target kind {target.kind!r}")


__all__ = ["Target", "load_target", "parse_targets"]
