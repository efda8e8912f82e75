"""compare's results as TAP version 13 (and valid TAP 14), for CI systems and prove-like readers."""

from __future__ import annotations

import json
from typing import Any, List, Sequence

from venvprobe.results import PASS, SKIP, TargetOutcome


def _yaml_str(text: Any) -> str:
    # JSON strings are valid YAML scalars and need no further escaping rules.
    return json.dumps(str(text), ensure_ascii=False)


def tap_escape(text: Any) -> str:
    """A TAP description or directive reason: one line, ``\\`` and ``#`` escaped (TAP 14).

    An unescaped ``#`` starts a directive, so a target or check holding
    ``# SKIP`` would otherwise turn a failure into a skip.
    """
    from venvprobe.render.safe import escape_controls

    # ESC, bidi marks and C1 controls made visible too: TAP is read on terminals.
    one_line = escape_controls(" ".join(str(text).splitlines())) or "-"
    return one_line.replace("\\", "\\\\").replace("#", "\\#")


def render_tap(outcomes: Sequence[TargetOutcome], source: str = "") -> str:
    """TAP version 13 (and valid TAP 14): one test point per check and per unreadable target.

    Failures carry a YAML diagnostics block with the exact, unescaped target
    and check, what was expected and what was found.
    """
    points: List[str] = []
    for o in outcomes:
        if o.error:
            points.append(f"not ok {{n}} - {tap_escape(o.target + ': report can be read')}\n  ---\n"
                          f"  target: {_yaml_str(o.target)}\n  message: {_yaml_str(o.error)}\n"
                          f"  severity: could-not-check\n  ...")
        for r in o.results:
            name = tap_escape(f"{o.target}: {r.check}")
            if r.status == SKIP:
                points.append(f"ok {{n}} - {name} # SKIP {tap_escape(r.detail or r.actual)}")
            elif r.status == PASS:
                points.append(f"ok {{n}} - {name}")
            else:
                block = [f"  target: {_yaml_str(o.target)}", f"  check: {_yaml_str(r.check)}",
                         f"  expected: {_yaml_str(r.expected)}", f"  actual: {_yaml_str(r.actual)}"]
                if r.detail:
                    block.append(f"  detail: {_yaml_str(r.detail)}")
                if r.workers:
                    block.append(f"  workers: {_yaml_str(', '.join(r.workers))}")
                if r.line:
                    block.append(f"  at: {_yaml_str(f'{source}:{r.line}')}")
                points.append(f"not ok {{n}} - {name}\n  ---\n" + "\n".join(block) + "\n  ...")
    lines = ["TAP version 13", f"1..{len(points)}"]
    lines += [p.replace("{n}", str(i), 1) for i, p in enumerate(points, 1)]
    return "\n".join(lines) + "\n"


__all__ = ["render_tap", "tap_escape"]
