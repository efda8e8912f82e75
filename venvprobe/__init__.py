"""venvprobe: which Python, venv and sys.path did this WSGI app really get?

The pipeline is visible in the module names:

- :mod:`venvprobe.collect` collects facts (standard library only; also runs
  inside foreign interpreters),
- :mod:`venvprobe.analyze` turns a report into findings (a pure function),
- :mod:`venvprobe.render` prints a report as text, Markdown, JSON or HTML,
- :mod:`venvprobe.compare` checks a report against an expectations file.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "build_report", "VenvprobeError"]


class VenvprobeError(Exception):
    """Could not check: ``str(exc)`` is one line for the user; the CLI exits 2.

    The family is described in :mod:`venvprobe.errors`; the base lives here so
    the CLI's start-up path (:mod:`venvprobe._quick`) has it without loading
    another module.
    """


def build_report(options=None):
    """Collect and analyse a report of the interpreter this code runs in."""
    from venvprobe.report import build_report as _build

    return _build(options)
