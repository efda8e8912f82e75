"""``check-apache``'s engine: reader (parse), model, resolve, checks.  The public names are in
:mod:`venvprobe.offline.apache_config`."""
