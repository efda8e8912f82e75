"""WSGI entry point: ``from venvprobe.wsgi import application``.

A WSGI script file for mod_wsgi is then one line.  Mind mod_wsgi's default
application group: it is per URL, so a probe at its own URL runs in a
*different* sub-interpreter than the app unless its WSGIScriptAlias gets the
app's groups, e.g.::

    WSGIScriptAlias /_venvprobe /srv/app/probe.wsgi \\
        process-group=myapp application-group=%{GLOBAL}

The report says so (finding ``probe-alone``) when no other WSGI script is
loaded in the probe's interpreter.
"""

from venvprobe.probe.flask_app import create_app

application = create_app(mount="wsgi-script")
