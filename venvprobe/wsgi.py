"""WSGI entry point: ``from venvprobe.wsgi import application``.

A WSGI script file for mod_wsgi is then one line.  Mind mod_wsgi's default
application group: it is per URL, so a probe at its own URL runs in a
*different* sub-interpreter than the app unless its WSGIScriptAlias gets the
app's groups, e.g.::

    WSGIScriptAlias /_venvprobe /srv/app/probe.wsgi \\
        process-group=myapp application-group=%{GLOBAL}

The report says so (finding ``probe-alone``) when no other WSGI script is
loaded in the probe's interpreter.

This is the framework-free probe: nothing here imports Flask, Werkzeug,
tabulate or psutil, only the standard library (see
:data:`venvprobe.probe.guard.PROBE_STDLIB`).  If even that fails -- the app
put a ``random.py`` or ``ipaddress.py`` first on ``sys.path`` -- the probe
still answers, naming the file.
"""

try:
    from venvprobe.probe.core import ProbeApp

    application = ProbeApp(mount="wsgi-script")
except Exception as _exc:  # a shadowed or broken standard-library module
    from venvprobe.probe.guard import BrokenProbe

    application = BrokenProbe(_exc)  # type: ignore[assignment]
    del _exc
