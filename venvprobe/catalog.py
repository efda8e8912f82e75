"""Every finding venvprobe can report: stable code, severity, title and fix.

One catalog serves the live report (:mod:`venvprobe.analyze`), the offline
checks (``check-home``, ``check-apache``, ``explain-log``) and expectation
files (``[findings] allow = [...]``), so the same cause always carries the
same code and the same advice, wherever it was diagnosed.

Codes are kebab-case and never renamed once released; add new ones instead.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path
    from typing import Dict, List, Optional

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK: Dict[Optional[str], int] = {"error": 3, "warning": 2, "info": 1}


class Diagnosis:
    """A kind of problem: what it is called and how to fix it per server.

    A plain class rather than a dataclass: ``dataclasses`` imports
    ``inspect``, which costs every ``venvprobe`` invocation ~9 ms.
    """

    __slots__ = ("code", "severity", "title", "fix", "fix_mod_wsgi", "fix_uwsgi", "fix_gunicorn")

    def __init__(self, code: str, severity: str, title: str, fix: str,
                 fix_mod_wsgi: str = "", fix_uwsgi: str = "", fix_gunicorn: str = ""):
        self.code = code
        self.severity = severity
        self.title = title
        self.fix = fix
        self.fix_mod_wsgi = fix_mod_wsgi
        self.fix_uwsgi = fix_uwsgi
        self.fix_gunicorn = fix_gunicorn

    def __repr__(self) -> str:
        return f"Diagnosis({self.code!r}, {self.severity!r})"

    def fix_for(self, server: Optional[str]) -> str:
        """The fix in the terms of *server* (mod_wsgi, uwsgi, gunicorn), else the general one."""
        specific = {"mod_wsgi": self.fix_mod_wsgi, "uwsgi": self.fix_uwsgi, "gunicorn": self.fix_gunicorn}.get(server or "")
        return specific or self.fix


def _d(code, severity, title, fix, mod_wsgi="", uwsgi="", gunicorn=""):
    return Diagnosis(code, severity, title, fix, mod_wsgi, uwsgi, gunicorn)


CATALOG: Dict[str, Diagnosis] = {
    d.code: d
    for d in [
        # -- interpreter and venv ------------------------------------------------
        _d("venv-python-mismatch", "error",
           "The venv was made by a different Python than the one running",
           "Recreate the venv with the interpreter the server embeds (same installation, same X.Y).",
           mod_wsgi="mod_wsgi embeds the libpython it was compiled for: recreate the venv with that Python "
                    "(Debian's mod_wsgi: /usr/bin/python3 -m venv ...), or install a mod_wsgi built for the venv's Python "
                    "(pip install mod_wsgi; mod_wsgi-express module-config).",
           uwsgi="uWSGI's python plugin embeds one libpython: recreate the venv with that Python or load the matching plugin "
                 "(plugin = python3X).",
           gunicorn="Run gunicorn from the venv itself (<venv>/bin/gunicorn) so the venv's own interpreter runs it."),
        _d("venv-base-missing", "error",
           "The Python installation the venv was made from no longer exists",
           "Recreate the venv from an installed Python (the base in pyvenv.cfg `home` is gone)."),
        _d("venv-site-after-base-site", "warning",
           "The venv's site-packages comes after the base installation's, so base packages win",
           "Make the venv the interpreter's home instead of appending its site-packages.",
           mod_wsgi="Use python-home=<venv root> on WSGIDaemonProcess (or WSGIPythonHome in embedded mode) instead of "
                    "site.addsitedir() in the WSGI script; if you must activate in the script, point python-home at an "
                    "empty venv so no base packages are visible.",
           uwsgi="Use home = <venv root> (alias virtualenv/venv) instead of pythonpath = <site-packages>.",
           gunicorn="Start gunicorn with <venv>/bin/gunicorn instead of adding site-packages to sys.path."),
        _d("base-site-visible", "warning",
           "The base installation's site-packages is on sys.path while a venv is meant to be used",
           "Use a venv without system site packages as the interpreter home (a virgin baseline).",
           mod_wsgi="Set python-home (daemon mode) or WSGIPythonHome (embedded) to the app's venv, or to an empty venv "
                    "if the WSGI script activates the app's venv itself.",
           uwsgi="Set home = <venv root> for a venv created without --system-site-packages.",
           gunicorn="Create the venv without --system-site-packages and run gunicorn from it."),
        _d("base-site-imported", "warning",
           "Modules were imported from the base installation's site-packages, not the venv",
           "Install these packages into the venv (and pin them), then hide the base site-packages.",
           mod_wsgi="Install the packages into the venv named by python-home, and point python-home at a venv "
                    "created without --system-site-packages."),
        _d("prefix-rewritten", "warning",
           "sys.prefix was rewritten at runtime (activate_this.py)",
           "Prefer configuring the venv as the interpreter home; activate_this.py rewrites sys.prefix after "
           "modules have already been loaded.",
           mod_wsgi="Replace exec(activate_this.py) in the WSGI script with python-home=<venv> on WSGIDaemonProcess."),
        _d("prefix-from-path-search", "info",
           "No Python home was configured: the embedded interpreter found its prefix by itself",
           "Configure the venv explicitly so the interpreter never depends on PATH or build-time defaults.",
           mod_wsgi="Add python-home=<venv root> to WSGIDaemonProcess, or WSGIPythonHome <venv root> at global "
                    "scope for embedded mode.",
           uwsgi="Add home = <venv root>."),
        _d("no-venv", "info",
           "No virtual environment is in use",
           "Run the app from a dedicated venv so its packages are isolated from the system's.",
           mod_wsgi="python -m venv /srv/venvs/app, install the app there, then python-home=/srv/venvs/app.",
           uwsgi="python -m venv /srv/venvs/app, then home = /srv/venvs/app.",
           gunicorn="python -m venv /srv/venvs/app and start /srv/venvs/app/bin/gunicorn."),
        _d("pythonhome-from-env", "warning",
           "PYTHONHOME was inherited from the environment",
           "Remove PYTHONHOME from the server's environment; configure the home in the server instead.",
           mod_wsgi="Remove PYTHONHOME from /etc/apache2/envvars or the systemd unit; use python-home / WSGIPythonHome.",
           uwsgi="Remove PYTHONHOME from the service environment; use home = <venv>."),
        _d("pythonpath-from-env", "warning",
           "PYTHONPATH was inherited from the environment",
           "Remove PYTHONPATH from the server's environment; configure paths in the server instead.",
           mod_wsgi="Remove PYTHONPATH from /etc/apache2/envvars or the unit; use python-path= on WSGIDaemonProcess.",
           uwsgi="Remove PYTHONPATH from the environment; use pythonpath = in the ini.",
           gunicorn="Remove PYTHONPATH; use --chdir / --pythonpath."),
        _d("user-site-active", "warning",
           "User site-packages (~/.local) is active in a server process",
           "Disable the user site in servers: it depends on the HOME the server was started with.",
           mod_wsgi="Set python-home to a venv (venvs disable the user site), or set PYTHONNOUSERSITE=1 in Apache's envvars.",
           uwsgi="Use home = <venv> or set env = PYTHONNOUSERSITE=1.",
           gunicorn="Run gunicorn from a venv or with PYTHONNOUSERSITE=1."),
        _d("interpreter-installation-mismatch", "error",
           "The Python binary or libpython running is not from the installation its prefix and stdlib come from",
           "Point the home at a venv made by (or an installation of) exactly the Python that runs; "
           "a stdlib from another build breaks in subtle ways.",
           mod_wsgi="mod_wsgi runs the libpython it was linked against (see mapped objects): recreate the venv named by "
                    "python-home / WSGIPythonHome with that Python (Debian: /usr/bin/python3 -m venv), or install a "
                    "mod_wsgi built for the venv's Python (pip install mod_wsgi; mod_wsgi-express module-config).",
           uwsgi="The python plugin's libpython runs: set home = to a venv made by that Python, or load a plugin built "
                 "for the venv's Python."),
        # -- sys.path -----------------------------------------------------------------
        _d("sys-path-missing", "warning",
           "A sys.path entry does not exist",
           "Remove the entry or create the directory; a typo here silently hides a package.",
           mod_wsgi="Check python-path= / WSGIPythonPath and sys.path edits in the WSGI script."),
        _d("sys-path-unreadable", "error",
           "A sys.path entry exists but this process cannot read it",
           "Give the server user read and traverse permission on every component of the path.",
           mod_wsgi="The daemon runs as the WSGIDaemonProcess user= (default: Apache's user, e.g. www-data): "
                    "chmod o+rx the directories, or move the venv/app out of a private home directory."),
        _d("sys-path-duplicate", "info",
           "The same directory is on sys.path more than once",
           "Remove the repeated entry (often added twice by python-path and the WSGI script)."),
        _d("install-scheme-not-on-path", "warning",
           "pip would install into a directory that is not on sys.path",
           "Install with the interpreter the app runs (<venv>/bin/python -m pip install ...), or fix the home so "
           "sysconfig's purelib/platlib are on sys.path."),
        _d("pth-executable-line", "info",
           "A .pth file runs code at every interpreter start",
           "Review the import line: it runs in every process that uses this site-packages."),
        _d("pth-not-processed", "warning",
           ".pth files sit in a directory added to sys.path by hand, so they were never processed",
           "Add the directory with site.addsitedir() (or as the venv home) so its .pth files are read.",
           mod_wsgi="python-path= and WSGIPythonPath use addsitedir; sys.path.insert() in the WSGI script and "
                    "PYTHONPATH do not. Prefer python-home=<venv>.",
           uwsgi="uWSGI's pythonpath does not read .pth files: use home = <venv root>."),
        _d("pth-path-missing", "warning",
           "A .pth file names a directory that does not exist, so it adds nothing",
           "Fix the path in the .pth file (a typo or a moved deploy directory) or remove the line; site.py "
           "skips missing directories without any message."),
        _d("site-packages-other-python", "error",
           "sys.path holds the site-packages of another Python version",
           "Remove it from sys.path (PYTHONPATH, .pth file, python-path) and install the packages into this "
           "interpreter's own environment: bytecode and C extensions are built for one Python X.Y.",
           mod_wsgi="Remove the other venv's site-packages from python-path= / WSGIPythonPath and PYTHONPATH in "
                    "Apache's envvars; use python-home=<venv made by the Python mod_wsgi embeds>.",
           uwsgi="Remove it from pythonpath = and PYTHONPATH; use home = <venv made by the plugin's Python>.",
           gunicorn="Unset PYTHONPATH (or fix --pythonpath) and run gunicorn from the venv the app was installed into."),
        # -- packages ------------------------------------------------------------------
        _d("shadowed-distribution", "warning",
           "A distribution is installed in more than one sys.path entry",
           "Uninstall the copy that should not be used; the first on sys.path wins and pip only shows that one."),
        _d("duplicate-distribution-metadata", "warning",
           "One directory holds two metadata directories of the same distribution",
           "Remove the stale .dist-info/.egg-info (or reinstall with --upgrade into a clean --target "
           "directory): importlib.metadata and pip show only one of them, while the files may be from the other."),
        _d("shadowed-module", "info",
           "A top-level module or package is provided by more than one sys.path entry",
           "Remove the copy that should not be used, or reorder sys.path."),
        _d("stdlib-shadowed", "error",
           "A standard-library module is shadowed by a file outside the standard library",
           "Rename or remove the local file (a local random.py, an old backport) that hides the standard module."),
        _d("stdlib-backport-ignored", "info",
           "A backport of a standard-library module is installed but never used",
           "Uninstall the backport: the standard library's copy always wins."),
        _d("stale-module", "warning",
           "A loaded module is not the file sys.path resolves to now",
           "Restart the worker processes so every module is imported fresh from the current sys.path.",
           mod_wsgi="touch the WSGI script (daemon mode reloads) or restart Apache.",
           uwsgi="Reload with touch-reload or uwsgi --reload.",
           gunicorn="kill -HUP the gunicorn master."),
        _d("source-modified-after-start", "warning",
           "Source files changed on disk after this process started: it still runs the old code",
           "Restart or reload the workers after every deploy.",
           mod_wsgi="touch the WSGI script file (daemon mode) or apachectl graceful.",
           uwsgi="Use touch-reload = <file> and touch it on deploy.",
           gunicorn="kill -HUP the master (or use --reload in development only)."),
        _d("distribution-files-missing", "warning",
           "A distribution's metadata remains but the files its RECORD lists are gone",
           "Reinstall or uninstall the distribution: `pip list` shows it but it cannot be imported."),
        _d("namespace-split", "info",
           "A namespace package is split across several sys.path entries",
           "Fine when intended; make sure every portion comes from the same environment."),
        _d("namespace-poisoned", "error",
           "A regular package (__init__.py) hides the portions of a namespace package",
           "Remove the stray __init__.py or the old non-namespace distribution; the other portions are invisible."),
        # -- interpreters and servers --------------------------------------------------
        _d("c-extension-in-subinterpreter", "warning",
           "Third-party C extensions are loaded in a sub-interpreter",
           "Run the app in the main interpreter.",
           mod_wsgi="Add WSGIApplicationGroup %{GLOBAL} (and give each app its own WSGIDaemonProcess group).",
           uwsgi="Add single-interpreter = true (one app per uWSGI instance)."),
        _d("several-apps-one-interpreter", "info",
           "Several WSGI scripts were loaded into the same interpreter",
           "Give each application its own process group or application group unless sharing is intended.",
           mod_wsgi="Use one WSGIDaemonProcess per app, or distinct application-group= values."),
        _d("probe-alone", "warning",
           "The probe is alone in its interpreter: it is probably not reporting the app's interpreter",
           "Mount the probe in the app's process group and application group, or use the middleware.",
           mod_wsgi="Give the probe's WSGIScriptAlias the same process-group= and application-group= as the app "
                    "(application-group=%{GLOBAL} if the app uses it), or wrap the app with "
                    "venvprobe.middleware.ProbeMiddleware."),
        _d("extension-refuses-interpreter", "error",
           "Installed C extensions will not load in this interpreter (own GIL or free-threaded): importing them fails",
           "Run the app where every extension it imports loads: the main interpreter, or an interpreter that shares "
           "the GIL; or upgrade the package to a release that declares Py_mod_multiple_interpreters / Py_mod_gil.",
           mod_wsgi="Run the app in the main interpreter (application-group=%{GLOBAL} / WSGIApplicationGroup "
                    "%{GLOBAL}), or drop WSGIPerInterpreterGIL On (and its <WSGIInterpreterOptions> block) for "
                    "this application group: a legacy sub-interpreter shares the GIL and does not check."),
        # -- offline diagnosis (check-home, check-apache, explain-log) ------------------
        # Codes below are used by venvprobe/offline/*; edited there by their owner.
        # Offline checks also emit the live codes above when the cause is the same
        # (venv-python-mismatch, venv-base-missing, pythonhome-from-env,
        # sys-path-unreadable, base-site-visible, c-extension-in-subinterpreter, ...).
        _d("directive-unknown-to-mod-wsgi", "error",
           "A mod_wsgi 6 directive is used with an older mod_wsgi that does not know it: Apache refuses to start",
           "Load a mod_wsgi that has the directive, or remove it.",
           mod_wsgi="WSGIPerInterpreterGIL, WSGIFreeThreading, <WSGIInterpreterOptions> and WSGISwitchInterval "
                    "need mod_wsgi 6: pip install mod_wsgi (built against the Python the venvs use) and load its "
                    "module (mod_wsgi-express module-config prints the LoadModule line), or drop the directive."),
        _d("free-threading-unavailable", "error",
           "Free-threading is asked of a Python build that is not free-threaded",
           "Use a free-threaded build (python3.13t, configured with --disable-gil), or drop the setting.",
           mod_wsgi="WSGIFreeThreading On has no effect with a mod_wsgi built against a GIL build (WSGI0200): "
                    "build mod_wsgi with a free-threaded Python (pip install mod_wsgi with python3.13t), or remove "
                    "the directive."),
        _d("python-base-unreadable", "error",
           "The server user cannot read the Python installation the venv was made from",
           "Install the base Python where the server user can read it (e.g. under /opt or /usr/local, not under a "
           "0700 home directory) and recreate the venv with it, or open up every directory on the way (chmod o+x) "
           "and the installation itself (o+rX).",
           mod_wsgi="mod_wsgi's daemon (or Apache child) runs as the Apache user: Python cannot import 'encodings' "
                    "from an unreadable base and the process dies and respawns (WSGI0036, WSGI0028 or WSGI0001). "
                    "Install that Python under /opt or /usr/local, recreate the venv from it and rebuild mod_wsgi "
                    "against it (pip install mod_wsgi)."),
        _d("embedded-python-fails", "error",
           "Python cannot start in Apache's own (embedded-mode) processes as the Apache user",
           "Delegate every application to a daemon process group, or give embedded mode a home the Apache user "
           "can read.",
           mod_wsgi="Add WSGIRestrictEmbedded On (nothing runs in Apache's children: no Python is initialised there) "
                    "and delegate every WSGIScriptAlias to a WSGIDaemonProcess group; or set WSGIPythonHome to a venv "
                    "made from a Python installation the Apache user can read."),
        _d("per-interpreter-gil-unsupported", "warning",
           "A per-interpreter GIL is configured but this Python has none (3.11 or older, or free-threading is on)",
           "Remove the setting, or run Python 3.12+ with the GIL enabled.",
           mod_wsgi="WSGIPerInterpreterGIL needs mod_wsgi 6 built against Python 3.12+ (WSGI0198), and is skipped "
                    "where WSGIFreeThreading is active (WSGI0202)."),
        _d("python-home-not-venv-root", "error",
           "The Python home points inside a venv (its interpreter, lib/pythonX.Y or site-packages), not at its root",
           "Set the home to the venv root: the directory that holds pyvenv.cfg.",
           mod_wsgi="Use python-home=<venv root> on WSGIDaemonProcess (or WSGIPythonHome <venv root> for embedded "
                    "mode): the directory holding pyvenv.cfg, never <venv>/bin/python or <venv>/lib/pythonX.Y.",
           uwsgi="Set home = <venv root> (the directory holding pyvenv.cfg), not bin/python or lib/pythonX.Y."),
        _d("python-home-missing", "error",
           "The configured Python home does not exist or is not a directory",
           "Create the venv there (<python> -m venv <path>) or fix the path.",
           mod_wsgi="Fix python-home= / WSGIPythonHome to an existing venv root, created with the Python mod_wsgi embeds.",
           uwsgi="Fix home = to an existing venv root, created with the Python the plugin embeds."),
        _d("python-home-inaccessible", "error",
           "The server user cannot reach the Python home (a parent directory is not traversable) or read it",
           "Give the server user search (x) permission on every parent directory and read permission inside the "
           "venv, or move the venv out of private directories (e.g. to /srv/venvs/app).",
           mod_wsgi="The daemon runs as WSGIDaemonProcess user= (default: Apache's User, www-data): chmod o+x (or g+x "
                    "for its group) every parent directory and chmod -R o+rX the venv, or move it to /srv/venvs.",
           uwsgi="uWSGI runs as uid= after start-up: make every parent directory traversable and the venv readable "
                 "for that user, or move the venv to /srv/venvs."),
        _d("pyvenv-cfg-unreadable", "error",
           "pyvenv.cfg exists but the server user cannot read it, so the venv is treated as a full installation",
           "Make <venv>/pyvenv.cfg readable by the server user (chmod 644).",
           mod_wsgi="mod_wsgi 4.x uses a venv as such only if the daemon user can read <home>/pyvenv.cfg; otherwise it "
                    "calls Py_SetPythonHome(<venv>) and start-up fails with No module named 'encodings': "
                    "chmod 644 <venv>/pyvenv.cfg."),
        _d("python-home-not-a-venv", "error",
           "The Python home is neither a venv (no pyvenv.cfg) nor a Python installation (no standard library)",
           "Point the home at a venv root created with `<python> -m venv`, or recreate the venv there."),
        _d("python-startup-fails", "error",
           "The embedded Python cannot start with this home (Fatal Python error at initialisation)",
           "Make the home a venv root made by the Python the server embeds; the evidence shows the prefix and "
           "standard library CPython tried.",
           mod_wsgi="The daemon process dies and respawns forever: fix python-home= / WSGIPythonHome (a venv root made "
                    "by the Python mod_wsgi links) and check that no PYTHONHOME is set in Apache's environment."),
        _d("daemon-cannot-start", "error",
           "A daemon process exits before Python starts (working directory, chroot, user or group) and is restarted "
           "forever",
           "Fix the setting the message names: a home directory that exists and the daemon's user can enter, a user "
           "and group that exist.",
           mod_wsgi="mod_wsgi changes into home= (or, when user= differs from Apache's user and no home= is given, "
                    "into that user's home directory from the passwd database) before Python starts (WSGI0009/0010/"
                    "0011); chroot=, group=, supplementary-groups= and user= are applied just before (WSGI0003-0007). "
                    "Give WSGIDaemonProcess a home= the user can search (x) at every step, e.g. the app's directory."),
        _d("interpreter-init-exception", "error",
           "Python code run while an interpreter was initialised raised (a .pth file, a package imported at start-up)",
           "Fix or remove the code the traceback names; a .pth file must not raise or call sys.exit().",
           mod_wsgi="mod_wsgi runs site.addsitedir() for each python-path entry (which executes the .pth files there) "
                    "and imports a 'mod_wsgi' package if one is importable; when that raises it logs WSGI0188 "
                    "(WSGI0189 for SystemExit, WSGI0091 when python-path entries were skipped) and carries on without "
                    "them."),
        _d("interpreter-setup-fails", "error",
           "The server cannot set up the interpreter an application runs in: its requests fail",
           "Fix the cause logged with it (the traceback); restart the server.",
           mod_wsgi="WSGI0035 (then WSGI0103, or WSGI0038 for the main interpreter) at creation, WSGI0087 for each "
                    "request: fix the exception logged with WSGI0188 after WSGI0035, or run the app in another "
                    "application group (e.g. application-group=%{GLOBAL})."),
        _d("free-threading-scope-ignored", "warning",
           "Free-threading is set for one application group, but it is a process-wide setting: it is ignored there",
           "Set free-threading for the whole process (daemon group), not for an application group.",
           mod_wsgi="Move WSGIFreeThreading out of <WSGIInterpreterOptions ... application-group=...> into a block "
                    "with process-group= only (or server scope); mod_wsgi ignores it there (WSGI0201)."),
        _d("global-only-directive-in-virtualhost", "error",
           "A server-wide mod_wsgi directive is inside <VirtualHost>: Apache refuses to start",
           "Move it to global scope, outside every <VirtualHost>.",
           mod_wsgi="WSGIPythonHome, WSGIPythonPath, WSGIRestrictEmbedded, WSGISocketPrefix... are server-wide: move them "
                    "out of <VirtualHost>; for one app's venv use python-home= on that app's WSGIDaemonProcess instead."),
        _d("daemon-group-unused", "warning",
           "A WSGIDaemonProcess group is declared but no application is delegated to it: the app runs embedded",
           "Delegate the application to the daemon group.",
           mod_wsgi="Add WSGIProcessGroup <name> (same VirtualHost, or in the <Directory> of the script) or "
                    "process-group=<name> on WSGIScriptAlias; add WSGIRestrictEmbedded On so a missed delegation "
                    "fails loudly instead of running in Apache's own processes without the venv."),
        _d("daemon-group-undefined", "error",
           "An application is delegated to a daemon process group that is not declared (HTTP 500)",
           "Declare the group or fix its name.",
           mod_wsgi="Declare WSGIDaemonProcess <name> in the same VirtualHost (or at global scope), or fix the name "
                    "in WSGIProcessGroup / process-group=."),
        _d("embedded-mode-disabled", "error",
           "An application is not delegated to a daemon group while embedded mode is disabled (HTTP 500)",
           "Delegate the application to its daemon group.",
           mod_wsgi="WSGIRestrictEmbedded On is set: add WSGIProcessGroup <name> or process-group=<name> on the "
                    "WSGIScriptAlias of this application."),
        _d("global-python-home-inherited", "warning",
           "A daemon group without python-home silently uses the server-wide WSGIPythonHome",
           "Give the daemon group its own home.",
           mod_wsgi="Add python-home=<venv root> to the WSGIDaemonProcess: WSGIPythonHome is meant for embedded mode "
                    "and changing it would silently change this group too."),
        _d("wsgi-script-unreadable", "error",
           "The WSGI script does not exist or the server user cannot read it",
           "Fix the path in WSGIScriptAlias / mount, or make the script and its directories readable by the server user."),
        _d("mod-wsgi-python-patch-mismatch", "warning",
           "mod_wsgi runs with another Python release than the one it was compiled for",
           "Rebuild or reinstall mod_wsgi for the installed Python, and make sure no other libpython is found first.",
           mod_wsgi="Reinstall the packaged module (apt install --reinstall libapache2-mod-wsgi-py3) or pip install "
                    "mod_wsgi with the target Python; check LD_LIBRARY_PATH in /etc/apache2/envvars and /etc/ld.so.conf."),
        _d("mod-wsgi-not-loaded", "error",
           "WSGI directives are used but mod_wsgi is not loaded",
           "Load the module (Debian: a2enmod wsgi) before the directives that use it.",
           mod_wsgi="a2enmod wsgi (LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so) and restart Apache."),
    ]
}


def diagnosis(code: str) -> Diagnosis:
    """The catalog entry for *code* (KeyError for unknown codes: a programming error)."""
    return CATALOG[code]


def register(*diagnoses: Diagnosis) -> None:
    """Add diagnoses defined elsewhere (offline checks) to the catalog."""
    for d in diagnoses:
        if d.severity not in SEVERITIES:
            raise ValueError(f"bad severity {d.severity!r} for {d.code}")
        CATALOG[d.code] = d


def make_finding(code: str, message: str, evidence: Optional[List[str]] = None,
                 server: Optional[str] = None, severity: Optional[str] = None,
                 data: Optional[dict] = None) -> dict:
    """Build one finding as plain report data.

    *severity* overrides the catalog's default where the evidence makes a
    case more or less serious (e.g. equal versions of a shadowed dist).
    """
    d = CATALOG[code]
    finding: dict = {
        "code": code,
        "severity": severity or d.severity,
        "title": d.title,
        "message": message,
        "evidence": list(evidence or []),
        "fix": d.fix_for(server),
    }
    if data:
        finding["data"] = data
    return finding


def sort_findings(findings: List[dict]) -> List[dict]:
    """Most severe first, then by code, keeping the original order otherwise."""
    return sorted(findings, key=lambda f: (-SEVERITY_RANK.get(f.get("severity"), 0), f.get("code", "")))
