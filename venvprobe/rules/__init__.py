"""Finding rules as data.

Every finding venvprobe can report is a :class:`~venvprobe.rules.base.Rule`
declared in one rule module of this package: its stable code, default
severity, title, general fix, fix per server kind, and the checks that emit it
-- live checks (functions of a report, written beside the rule) and offline
checks (``check-apache``... in :mod:`venvprobe.offline`, which have the parsed
configuration or log and emit the code through the findings sink).

- :mod:`venvprobe.rules.base`: what a rule is; what a live check works with.
- :mod:`venvprobe.rules.registry`: every rule by code, the live checks in
  order, and :class:`~venvprobe.rules.registry.Findings`, the one findings
  sink (makes the record, fills the fix for the server kind, dedups by
  subject, caps evidence, refuses a code the emitting check did not declare).
- the rule modules listed in :data:`MODULES`, one per topic.
- :mod:`venvprobe.rules.doc`: writes ``docs/findings.md`` from the registry.

This ``__init__`` imports nothing: the CLI's fast path reads :data:`SHIPPED`
without paying for the registry.  Rule modules, ``base`` and ``registry`` also
run inside the inspected interpreter (``report --python X``): standard library
only, Python 3.8 syntax, no I/O.  CONTRIBUTING.md has the recipe for a new
finding.
"""

# The rule modules, in the order their live checks run.
MODULES = ("interpreter", "sys_path", "packages", "interpreters", "home", "mod_wsgi", "analysis")

# What the live analysis needs inside the target interpreter, in the order to
# execute them there (a module after everything it imports).  Whoever ships the
# analysis (venvprobe/_quick.py) ships exactly these.
SHIPPED = (("venvprobe.vocab", "venvprobe.rules", "venvprobe.rules.base")
           + tuple("venvprobe.rules." + name for name in MODULES)
           + ("venvprobe.rules.registry", "venvprobe.analyze"))
