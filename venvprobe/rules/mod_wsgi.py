"""Apache and mod_wsgi configuration, daemon start-up and interpreter set-up: offline rules.

The checks live in :mod:`venvprobe.offline.apache_config` (``check-apache``) and
:mod:`venvprobe.offline.error_log` (``explain-log``), which have the parsed configuration and log;
they emit these codes through the findings sink.  Declarations only: no check is written here (a
check needs the parsed data), and nothing here may import :mod:`venvprobe.offline`.
"""

from __future__ import annotations

from venvprobe.rules.base import Rule


RULES = (
    Rule("global-only-directive-in-virtualhost", "error",
         "A server-wide mod_wsgi directive is inside <VirtualHost>: Apache refuses to start",
         "Move it to global scope, outside every <VirtualHost>.",
         fixes={
             "mod_wsgi": "WSGIPythonHome, WSGIPythonPath, WSGIRestrictEmbedded, WSGISocketPrefix... are server-wide: "
                         "move them out of <VirtualHost>; for one app's venv use python-home= on that app's "
                         "WSGIDaemonProcess instead.",
         },
         offline=("check-apache", "explain-log")),
    Rule("mod-wsgi-not-loaded", "error",
         "WSGI directives are used but mod_wsgi is not loaded",
         "Load the module (Debian: a2enmod wsgi) before the directives that use it.",
         fixes={
             "mod_wsgi": "a2enmod wsgi (LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so) and restart Apache.",
         },
         offline=("check-apache", "explain-log")),
    Rule("daemon-group-unused", "warning",
         "A WSGIDaemonProcess group is declared but no application is delegated to it: the app runs embedded",
         "Delegate the application to the daemon group.",
         fixes={
             "mod_wsgi": "Add WSGIProcessGroup <name> (same VirtualHost, or in the <Directory> of the script) or "
                         "process-group=<name> on WSGIScriptAlias; add WSGIRestrictEmbedded On so a missed delegation"
                         " fails loudly instead of running in Apache's own processes without the venv.",
         },
         offline=("check-apache", "explain-log")),
    Rule("daemon-group-undefined", "error",
         "An application is delegated to a daemon process group that is not declared (HTTP 500)",
         "Declare the group or fix its name.",
         fixes={
             "mod_wsgi": "Declare WSGIDaemonProcess <name> in the same VirtualHost (or at global scope), or fix the "
                         "name in WSGIProcessGroup / process-group=.",
         },
         offline=("check-apache", "explain-log")),
    Rule("embedded-mode-disabled", "error",
         "An application is not delegated to a daemon group while embedded mode is disabled (HTTP 500)",
         "Delegate the application to its daemon group.",
         fixes={
             "mod_wsgi": "WSGIRestrictEmbedded On is set: add WSGIProcessGroup <name> or process-group=<name> on the "
                         "WSGIScriptAlias of this application.",
         },
         offline=("check-apache", "explain-log")),
    Rule("global-python-home-inherited", "warning",
         "A daemon group without python-home silently uses the server-wide WSGIPythonHome",
         "Give the daemon group its own home.",
         fixes={
             "mod_wsgi": "Add python-home=<venv root> to the WSGIDaemonProcess: WSGIPythonHome is meant for embedded "
                         "mode and changing it would silently change this group too.",
         },
         offline=("check-apache",)),
    Rule("wsgi-script-unreadable", "error",
         "The WSGI script does not exist or the server user cannot read it",
         "Fix the path in WSGIScriptAlias / mount, or make the script and its directories readable by the server user.",
         offline=("check-apache", "check-uwsgi", "explain-log")),
    Rule("mod-wsgi-python-patch-mismatch", "warning",
         "mod_wsgi runs with another Python release than the one it was compiled for",
         "Rebuild or reinstall mod_wsgi for the installed Python, and make sure no other libpython is found first.",
         fixes={
             "mod_wsgi": "Reinstall the packaged module (apt install --reinstall libapache2-mod-wsgi-py3) or pip "
                         "install mod_wsgi with the target Python; check LD_LIBRARY_PATH in /etc/apache2/envvars and "
                         "/etc/ld.so.conf.",
         },
         offline=("explain-log",)),
    Rule("directive-unknown-to-mod-wsgi", "error",
         "A mod_wsgi 6 directive is used with an older mod_wsgi that does not know it: Apache refuses to start",
         "Load a mod_wsgi that has the directive, or remove it.",
         fixes={
             "mod_wsgi": "WSGIPerInterpreterGIL, WSGIFreeThreading, <WSGIInterpreterOptions> and WSGISwitchInterval "
                         "need mod_wsgi 6: pip install mod_wsgi (built against the Python the venvs use) and load its"
                         " module (mod_wsgi-express module-config prints the LoadModule line), or drop the directive.",
         },
         offline=("check-apache", "explain-log")),
    Rule("free-threading-unavailable", "error",
         "Free-threading is asked of a Python build that is not free-threaded",
         "Use a free-threaded build (python3.13t, configured with --disable-gil), or drop the setting.",
         fixes={
             "mod_wsgi": "WSGIFreeThreading On has no effect with a mod_wsgi built against a GIL build (WSGI0200): "
                         "build mod_wsgi with a free-threaded Python (pip install mod_wsgi with python3.13t), or "
                         "remove the directive.",
         },
         offline=("check-apache", "explain-log")),
    Rule("per-interpreter-gil-unsupported", "warning",
         "A per-interpreter GIL is configured but this Python has none (3.11 or older, or free-threading is on)",
         "Remove the setting, or run Python 3.12+ with the GIL enabled.",
         fixes={
             "mod_wsgi": "WSGIPerInterpreterGIL needs mod_wsgi 6 built against Python 3.12+ (WSGI0198), and is "
                         "skipped where WSGIFreeThreading is active (WSGI0202).",
         },
         offline=("check-apache", "explain-log")),
    Rule("free-threading-scope-ignored", "warning",
         "Free-threading is set for one application group, but it is a process-wide setting: it is ignored there",
         "Set free-threading for the whole process (daemon group), not for an application group.",
         fixes={
             "mod_wsgi": "Move WSGIFreeThreading out of <WSGIInterpreterOptions ... application-group=...> into a "
                         "block with process-group= only (or server scope); mod_wsgi ignores it there (WSGI0201).",
         },
         offline=("explain-log",)),
    Rule("daemon-cannot-start", "error",
         "A daemon process exits before Python starts (working directory, chroot, user or group) and is restarted forever",
         "Fix the setting the message names: a home directory that exists and the daemon's user can enter, a user and"
         " group that exist.",
         fixes={
             "mod_wsgi": "mod_wsgi changes into home= (or, when user= differs from Apache's user and no home= is "
                         "given, into that user's home directory from the passwd database) before Python starts "
                         "(WSGI0009/0010/0011); chroot=, group=, supplementary-groups= and user= are applied just "
                         "before (WSGI0003-0007). Give WSGIDaemonProcess a home= the user can search (x) at every "
                         "step, e.g. the app's directory.",
         },
         offline=("explain-log",)),
    Rule("interpreter-init-exception", "error",
         "Python code run while an interpreter was initialised raised (a .pth file, a package imported at start-up)",
         "Fix or remove the code the traceback names; a .pth file must not raise or call sys.exit().",
         fixes={
             "mod_wsgi": "mod_wsgi runs site.addsitedir() for each python-path entry (which executes the .pth files "
                         "there) and imports a 'mod_wsgi' package if one is importable; when that raises it logs "
                         "WSGI0188 (WSGI0189 for SystemExit, WSGI0091 when python-path entries were skipped) and "
                         "carries on without them.",
         },
         offline=("explain-log",)),
    Rule("interpreter-setup-fails", "error",
         "The server cannot set up the interpreter an application runs in: its requests fail",
         "Fix the cause logged with it (the traceback); restart the server.",
         fixes={
             "mod_wsgi": "WSGI0035 (then WSGI0103, or WSGI0038 for the main interpreter) at creation, WSGI0087 for "
                         "each request: fix the exception logged with WSGI0188 after WSGI0035, or run the app in "
                         "another application group (e.g. application-group=%{GLOBAL}).",
         },
         offline=("explain-log",)),
)
