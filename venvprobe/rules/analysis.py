"""The analysis itself: a check that could not run on a report (``analysis-error``).

:func:`record_failure` is the runner's own "check" (:mod:`venvprobe.analyze` calls it when a live
check raises on malformed data), so the one code the runner emits is declared like any other.  It never
hides a failure: the message names the check and the exception.  Runs inside the inspected
interpreter too (see :mod:`venvprobe.rules`): standard library only, Python 3.8 syntax, no I/O.
"""

from __future__ import annotations

from venvprobe.rules.base import Analysis, Rule

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (this module also runs inside the target)
    from typing import Callable


def record_failure(a: Analysis, check: Callable[[Analysis], None], exc: Exception) -> None:
    """A check tripped over malformed or partial report data: say so instead of failing the whole analysis."""
    a.add("analysis-error", f"{check.__name__.lstrip('_')}: {type(exc).__name__}: {exc}", [])


RULES = (
    Rule("analysis-error", "info",
         "A check could not run on this report",
         "The report holds data this version of venvprobe did not expect (hand-edited, truncated, or written by "
         "another version): the other checks ran. If the report is venvprobe's own, please report the message as "
         "a bug.",
         checks=(record_failure,)),
)
