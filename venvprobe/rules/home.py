"""The Python home a server is given (python-home=, WSGIPythonHome, uWSGI's home =): offline rules.

The checks live in :mod:`venvprobe.offline.home` (``check-home``, also run by ``check-apache``,
``check-uwsgi`` and ``explain-log`` on the homes they find) and :mod:`venvprobe.offline.error_log`,
which have the parsed data; they emit these codes through the findings sink.  Declarations only: no check is written here (a
check needs the parsed data), and nothing here may import :mod:`venvprobe.offline`.
"""

from __future__ import annotations

from venvprobe.rules.base import Rule


RULES = (
    Rule("python-home-not-venv-root", "error",
         "The Python home points inside a venv (its interpreter, lib/pythonX.Y or site-packages), not at its root",
         "Set the home to the venv root: the directory that holds pyvenv.cfg.",
         fixes={
             "mod_wsgi": "Use python-home=<venv root> on WSGIDaemonProcess (or WSGIPythonHome <venv root> for "
                         "embedded mode): the directory holding pyvenv.cfg, never <venv>/bin/python or "
                         "<venv>/lib/pythonX.Y.",
             "uwsgi": "Set home = <venv root> (the directory holding pyvenv.cfg), not bin/python or lib/pythonX.Y.",
         },
         offline=("check-home", "explain-log")),
    Rule("python-home-missing", "error",
         "The configured Python home does not exist or is not a directory",
         "Create the venv there (<python> -m venv <path>) or fix the path.",
         fixes={
             "mod_wsgi": "Fix python-home= / WSGIPythonHome to an existing venv root, created with the Python "
                         "mod_wsgi embeds.",
             "uwsgi": "Fix home = to an existing venv root, created with the Python the plugin embeds.",
         },
         offline=("check-home", "explain-log")),
    Rule("python-home-inaccessible", "error",
         "The server user cannot reach the Python home (a parent directory is not traversable) or read it",
         "Give the server user search (x) permission on every parent directory and read permission inside the venv, "
         "or move the venv out of private directories (e.g. to /srv/venvs/app).",
         fixes={
             "mod_wsgi": "The daemon runs as WSGIDaemonProcess user= (default: Apache's User, www-data): chmod o+x "
                         "(or g+x for its group) every parent directory and chmod -R o+rX the venv, or move it to /srv/venvs.",
             "uwsgi": "uWSGI runs as uid= after start-up: make every parent directory traversable and the venv "
                      "readable for that user, or move the venv to /srv/venvs.",
         },
         offline=("check-apache", "check-uwsgi", "check-home", "explain-log")),
    Rule("pyvenv-cfg-unreadable", "error",
         "pyvenv.cfg exists but the server user cannot read it, so the venv is treated as a full installation",
         "Make <venv>/pyvenv.cfg readable by the server user (chmod 644).",
         fixes={
             "mod_wsgi": "mod_wsgi 4.x uses a venv as such only if the daemon user can read <home>/pyvenv.cfg; "
                         "otherwise it calls Py_SetPythonHome(<venv>) and start-up fails with No module named "
                         "'encodings': chmod 644 <venv>/pyvenv.cfg.",
         },
         offline=("check-home", "explain-log")),
    Rule("python-home-not-a-venv", "error",
         "The Python home is neither a venv (no pyvenv.cfg) nor a Python installation (no standard library)",
         "Point the home at a venv root created with `<python> -m venv`, or recreate the venv there.",
         offline=("check-home", "explain-log")),
    Rule("python-startup-fails", "error",
         "The embedded Python cannot start with this home (Fatal Python error at initialisation)",
         "Make the home a venv root made by the Python the server embeds; the evidence shows the prefix and standard "
         "library CPython tried.",
         fixes={
             "mod_wsgi": "The daemon process dies and respawns forever: fix python-home= / WSGIPythonHome (a venv "
                         "root made by the Python mod_wsgi links) and check that no PYTHONHOME is set in Apache's environment.",
         },
         offline=("check-home", "explain-log")),
    Rule("python-base-unreadable", "error",
         "The server user cannot read the Python installation the venv was made from",
         "Install the base Python where the server user can read it (e.g. under /opt or /usr/local, not under a 0700 "
         "home directory) and recreate the venv with it, or open up every directory on the way (chmod o+x) and the "
         "installation itself (o+rX).",
         fixes={
             "mod_wsgi": "mod_wsgi's daemon (or Apache child) runs as the Apache user: Python cannot import "
                         "'encodings' from an unreadable base and the process dies and respawns (WSGI0036, WSGI0028 "
                         "or WSGI0001). Install that Python under /opt or /usr/local, recreate the venv from it and "
                         "rebuild mod_wsgi against it (pip install mod_wsgi).",
         },
         offline=("check-home", "explain-log")),
    Rule("embedded-python-fails", "error",
         "Python cannot start in Apache's own (embedded-mode) processes as the Apache user",
         "Delegate every application to a daemon process group, or give embedded mode a home the Apache user can read.",
         fixes={
             "mod_wsgi": "Add WSGIRestrictEmbedded On (nothing runs in Apache's children: no Python is initialised "
                         "there) and delegate every WSGIScriptAlias to a WSGIDaemonProcess group; or set "
                         "WSGIPythonHome to a venv made from a Python installation the Apache user can read.",
         },
         offline=("check-apache", "explain-log")),
)
