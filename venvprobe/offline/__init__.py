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
"""

FAIL_ON_DEFAULT = "warning"
