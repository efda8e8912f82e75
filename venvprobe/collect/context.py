"""The facts several sections share, each computed once, on first use.

Before the split, ``distributions`` and ``shadowed`` read state that only
``sys_path()`` set, an order written nowhere.  Here every shared fact is a
method of :class:`Context` that computes it when first asked and keeps it
(or the exception it raised, so a broken fact fails each section that needs
it with the same error instead of being recomputed):

- ``paths()``: ``sysconfig.get_paths()``, once per interpreter;
- ``real(path)`` and ``listing(path)``: one realpath and one scandir per entry;
- ``entries()``: the distinct directories of sys.path, in order;
- ``pth()``: every .pth file parsed (never executed), see :mod:`.pth`;
- ``distributions()``: the distributions section, see :mod:`.distributions`;
- ``providers()``: who provides each top-level name, see :mod:`.shadowing`;
- ``server()``: which server this process runs under, see :mod:`.identity`.

The dependencies between them go one way: pth < distributions < sys_path's
editable .pth files; listings < providers < shadowed and modules.
"""

import os
import sys

from venvprobe.collect.common import _cwd, _realpath
from venvprobe.collect.listing import _list_entry
from venvprobe.collect.masking import Masker

# Per interpreter (module state): sysconfig.get_paths() cannot change under us.
_SYSCONFIG_PATHS = []  # type: list[dict]


class Context(object):
    """Shared state of one collection.

    ``options``: ``redact_key`` (str, key for secret marks), ``use_psutil``
    (bool; off when run inside a foreign interpreter, where psutil would be
    one of the inspected packages), ``foreign`` (run by ``report --python``),
    ``skip`` (section names not to collect).
    """

    def __init__(self, options=None):
        self.options = dict(options or {})
        self.foreign = bool(self.options.get("foreign"))
        self.masker = Masker(self.options.get("redact_key"))
        self.skipped = []
        self._listings = {}
        self._reals = {}
        self._sysconfig_paths = None
        self._once = {}

    def skip(self, what, detail):
        """Record something left out of the report because of a cap (said once per kind)."""
        for item in self.skipped:
            if item["what"] == what:
                item["count"] += 1
                return
        self.skipped.append({"what": what, "detail": detail, "count": 1})

    def _computed(self, name, compute):
        done = self._once.get(name)
        if done is None:
            try:
                done = (True, compute(self))
            except Exception as exc:
                done = (False, exc)
            self._once[name] = done
        if not done[0]:
            raise done[1]
        return done[1]

    # -- facts -------------------------------------------------------------------

    def paths(self):
        """sysconfig.get_paths() (or {"error": ...}), expanded once per interpreter (~80 us a call)."""
        if self._sysconfig_paths is None and _SYSCONFIG_PATHS:
            self._sysconfig_paths = dict(_SYSCONFIG_PATHS[0])
        if self._sysconfig_paths is None:
            import sysconfig

            try:
                self._sysconfig_paths = dict(sysconfig.get_paths())
                _SYSCONFIG_PATHS[:] = [dict(self._sysconfig_paths)]
            except Exception as exc:
                self._sysconfig_paths = {"error": str(exc)}
        return self._sysconfig_paths

    def real(self, path):
        """realpath of a sys.path entry, once per collection."""
        real = self._reals.get(path)
        if real is None:
            real = self._reals[path] = _realpath(path)
        return real

    def listing(self, path):
        listing = self._listings.get(path)
        if listing is None:
            listing = self._listings[path] = _list_entry(path)
        return listing

    def entries(self):
        """[(index, raw, entry, listing)] for each distinct directory on sys.path, first occurrence first.

        Identity by real path: a repeated or symlinked entry holds the same
        files again, it neither hides them nor adds a second copy.
        """
        return self._computed("entries", _distinct_entries)

    def pth(self):
        """The parsed .pth files (a :class:`venvprobe.collect.pth.PthScan`)."""
        from venvprobe.collect import pth

        return self._computed("pth", pth.scan)

    def pth_or_none(self):
        """:meth:`pth`, or None when it failed (the sys_path section reports that error)."""
        try:
            return self.pth()
        except Exception:
            return None

    def distributions(self):
        from venvprobe.collect import distributions

        return self._computed("distributions", distributions.collect)

    def providers(self):
        from venvprobe.collect import shadowing

        return self._computed("providers", shadowing.providers)

    def server(self):
        from venvprobe.collect import identity

        return self._computed("server", identity.server_of)


def _distinct_entries(ctx):
    out = []
    seen = set()
    for index, raw in enumerate(list(sys.path)):
        if not isinstance(raw, str):
            continue
        entry = os.path.normpath(raw) if raw else _cwd()
        real = ctx.real(entry)
        if real in seen:
            continue
        seen.add(real)
        out.append((index, raw, entry, ctx.listing(entry)))
    return out
