"""Offline diagnosis: when the embedded interpreter never starts.

Many mod_wsgi/uWSGI failures kill Python before any probe code can run
(``Fatal Python error: init_fs_encoding ... No module named 'encodings'``).
These modules diagnose them from the outside, before and after deploy:

* :mod:`~venvprobe.offline.home` — ``check-home``: is a python-home usable
  by the embedding Python, as the server's user, and what will start-up give?
* :mod:`~venvprobe.offline.apache_config` — ``check-apache``: parse an Apache
  configuration (Include/IncludeOptional) and resolve every mounted WSGI app.
* :mod:`~venvprobe.offline.uwsgi_config` — ``check-uwsgi``: the same for an ini.
* :mod:`~venvprobe.offline.error_log` — ``explain-log``: turn error-log lines
  into findings with the live report's codes and fixes.
* :mod:`~venvprobe.offline.elf` / :mod:`~venvprobe.offline.embed` — which
  libpython a server module links, and which installation owns it.
* :mod:`~venvprobe.offline.access` — permissions computed for another user
  (root bypasses them, so ``os.access`` is useless) and confirmed as that user.

Beside them: :mod:`~venvprobe.offline.homepath` (what a configured home path
is) and :mod:`~venvprobe.offline.predict` (start-up predicted by running the
embedding Python as the server would) for ``check-home``;
:mod:`~venvprobe.offline.subinterp` (packages unsafe in sub-interpreters);
the ``check-apache`` engine in :mod:`venvprobe.offline.apache` (reader, model,
resolve, checks); the log readers ``log_scan``, ``pathconfig``,
``log_mod_wsgi6`` and ``log_interpreters`` for ``explain-log``;
:mod:`~venvprobe.offline.expect` (expectation files from a configuration) and
:mod:`~venvprobe.offline.output` (an offline result, drawn by
:mod:`venvprobe.render`).  Every finding goes through the one findings sink
(:class:`venvprobe.rules.registry.Findings`) under its command's name.

What these modules must never do: start, stop or signal a server; write into
a configuration, a home or a log they check (the one file they write is what
``--expectations DIR`` asks ``expect`` for); read without a bound (every file
is named by someone else: :mod:`venvprobe.safeio`); import the CLI
(:mod:`venvprobe.commands`).  The only programs they run are the embedding
Python (``embed``, ``predict``, with a timeout), ``sh -c test`` as the
server's user (``access``) and ``ldd`` as a fallback (``elf``).
"""

FAIL_ON_DEFAULT = "warning"
