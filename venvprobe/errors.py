"""One base class for every error venvprobe reports to its user.

A :class:`VenvprobeError` means "could not check": bad input, an unreadable
file, an unreachable target.  Its ``str()`` is the whole message, one line,
ready for the user.  The CLI catches the base once (:mod:`venvprobe._cli`):
``venvprobe COMMAND: MESSAGE`` on stderr, exit code 2, never a traceback.  So
library code raises its own subclass and lets it travel; it translates one
error into another only to add context (a file name, a target) or to keep a
per-target error inside a fleet run.

The subclasses live beside the code that raises them:

==========================  ==================================================
``UsageError``              here: a bad option or argument on the command line
``InputError``              here (re-exported by :mod:`venvprobe.safeio`): a
                            file, stdin or report that cannot be read or is not
                            a (whole, well-formed, readable) venvprobe report
``CollectError``            :mod:`venvprobe._quick` (re-exported by
                            :mod:`venvprobe.report`): the target interpreter
                            produced no report
``FetchError``              :mod:`venvprobe.fleet.options` (re-exported by
                            :mod:`venvprobe.fleet`): a target could not be had
``ExpectationsError``       :mod:`venvprobe.expectations`: ``file:line: ...``
``ShapeError``              :mod:`venvprobe.report_shape` (also a ValueError)
``ConfigError``             :mod:`venvprobe.offline.apache.reader` (re-exported
                            by :mod:`venvprobe.offline.apache_config`)
``IniError``                :mod:`venvprobe.offline.uwsgi_config`
``EmbedError``              :mod:`venvprobe.offline.embed`
``ElfError``                :mod:`venvprobe.offline.elf`
``UnknownUser``             :mod:`venvprobe.offline.access` (also a LookupError)
==========================  ==================================================

The base itself is defined in ``venvprobe/__init__.py``, which every entry
point has loaded anyway (the fast CLI path counts every module it imports).
Standard library only: the probe imports this.
"""

from venvprobe import VenvprobeError

__all__ = ["VenvprobeError", "UsageError", "InputError"]


class UsageError(VenvprobeError):
    """Bad input on the command line (option, argument)."""


class InputError(VenvprobeError):
    """An input (file, stdin, report) cannot be read, or is not what it must be."""


