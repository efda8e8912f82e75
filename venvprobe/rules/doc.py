"""Write the finding tables of ``docs/findings.md`` from the registry.

``python -m venvprobe.rules.doc --write`` replaces what lies between the two
marker lines below in ``docs/findings.md`` (the prose around them is written by
hand); ``tests/test_rules.py`` fails when the file and the registry disagree.
Not shipped into inspected interpreters: nothing live imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

from venvprobe.rules import MODULES
from venvprobe.rules.base import BOTH, LIVE, Rule
from venvprobe.rules.registry import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "findings.md"
BEGIN = "<!-- generated from venvprobe/rules/ by `python -m venvprobe.rules.doc --write`: edit the rules, not this -->"
END = "<!-- end of the generated part -->"

# How each server kind is written in prose.
_SERVER_NAMES = {"mod_wsgi": "mod_wsgi", "uwsgi": "uWSGI", "gunicorn": "gunicorn", "waitress": "waitress"}


def _cell(text: str) -> str:
    """Table-cell text: a pipe would end the cell, a <venv> placeholder would read as an HTML tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _where(r: Rule) -> str:
    names = []
    if r.scope in (LIVE, BOTH):
        names.append("`report`, the probe")
    names += [f"`{name}`" for name in r.offline]
    return ", ".join(names)


def _fix(r: Rule) -> str:
    parts = [_cell(r.fix)]
    parts += [f"**{_SERVER_NAMES.get(kind, kind)}:** {_cell(text)}" for kind, text in r.fixes.items()]
    return "<br>".join(parts)


def tables() -> str:
    """The generated part: one table per rule module, in the registry's order."""
    from importlib import import_module

    out: List[str] = []
    for name in MODULES:
        module = import_module(f"venvprobe.rules.{name}")
        heading = (module.__doc__ or name).strip().splitlines()[0].split(":")[0].rstrip(".")
        out += [f"### {heading}", "", "| code | severity | reported by | what | fix |", "| --- | --- | --- | --- | --- |"]
        for r in module.RULES:
            out.append(f"| `{r.code}` | {r.severity} | {_where(r)} | {_cell(r.title)} | {_fix(r)} |")
        out.append("")
    assert sum(len(import_module(f"venvprobe.rules.{n}").RULES) for n in MODULES) == len(RULES)
    return "\n".join(out)


def render(current: str) -> str:
    """*current* (the text of docs/findings.md) with its generated part brought up to date."""
    head, sep, rest = current.partition(BEGIN + "\n")
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"{DOC} has lost its marker lines ({BEGIN!r} ... {END!r})")
    return head + BEGIN + "\n\n" + tables() + "\n" + END + tail


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["--write"]:
        sys.stderr.write("usage: python -m venvprobe.rules.doc --write\n")
        return 2
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
