"""The collector: facts about the running interpreter, one module per report section.

This package is the only venvprobe code that runs inside a target
interpreter: ``venvprobe report --python X`` ships its sources to X (see
:mod:`venvprobe.ship`) and runs them there; the probe runs it in the app's
own process.  Its rules (README.md in this directory says why):

- standard library only, importable on Python 3.8+;
- it never imports the packages it inspects (it reads metadata and lists
  directories) and never executes ``.pth`` files (it parses them);
- every read is bounded (size, entries, lines) and never blocks;
- every section is collected on its own: one that fails records its error
  and the rest of the report stands;
- it avoids modules whose import is slow (``json``/``re``, ``zipfile``,
  ``ctypes`` unless the process is embedded): start-up cost is the budget;
- absolute imports only (``from venvprobe.collect.x import y``): the
  single-file probe and the shipped loader answer them from memory.

Entry points: :func:`venvprobe.collect.collector.collect` (a report as a
dict), :class:`venvprobe.collect.collector.Collector` (the probe keeps one),
:func:`venvprobe.collect.jsonout.dumps`, :class:`venvprobe.collect.masking.Masker`.
This file imports nothing, so a consumer of one module loads only what that
module needs.
"""
