"""The interpreter and its venv: which Python runs, which venv it was made by, how its home was set.

Live checks of the ``interpreter`` section, and the offline rules that share their codes
(``check-home``, ``check-apache``, ``check-uwsgi`` and ``explain-log`` find the same causes in
configurations and logs).  The live checks are pure functions of the report: they never read the
machine they run on, and also run inside the inspected interpreter (see :mod:`venvprobe.rules`:
standard library only, Python 3.8 syntax, no I/O).
"""

from __future__ import annotations

import posixpath

from venvprobe.rules.base import Analysis, Rule, live_check, under

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not at run time (this module also runs inside the target)
    from typing import List, Optional


@live_check("interpreter", "sys_path")
def _check_venv_version(a: Analysis) -> None:
    running = _major_minor(a.interp.get("version"))
    outside = _binary_outside_base(a.interp)
    base_prefix = a.interp.get("base_prefix")
    cfgs = []
    if a.interp.get("pyvenv_cfg"):
        cfgs.append((a.interp.get("prefix"), a.interp["pyvenv_cfg"]))
    for e in a.site_entries("runtime_venv_site"):
        cfg = (e.get("origin") or {}).get("pyvenv_cfg")
        if cfg:
            cfgs.append(((e.get("origin") or {}).get("venv_root"), cfg))
    seen = set()
    for root, cfg in cfgs:
        if root in seen or not isinstance(cfg, dict):
            continue
        seen.add(root)
        made_with = _major_minor(cfg.get("version"))
        home = cfg.get("home")
        if made_with and running and made_with != running:
            a.add("venv-python-mismatch",
                  f"venv {root} was made by Python {cfg.get('version')} but this process runs Python {a.interp.get('version')}",
                  [f"{cfg.get('path')}: version = {cfg.get('version')}, home = {home}",
                   f"running: {a.interp.get('version')} ({a.interp.get('real_executable')})"])
        elif home and base_prefix and cfg.get("home_exists") is not False \
                and not _home_matches_base(home, base_prefix, a.interp):
            a.add("venv-python-mismatch",
                  f"venv {root} was made from the Python in {home}, but this process runs the installation at {base_prefix}",
                  [f"{cfg.get('path')}: home = {home}", f"base_prefix = {base_prefix}",
                   f"real executable = {a.interp.get('real_executable')}"])
        elif outside and root == a.interp.get("prefix"):
            a.add("venv-python-mismatch",
                  f"venv {root} was made by Python {cfg.get('version')} from {home}, but this process runs "
                  f"Python {a.interp.get('version')} from {a.interp.get('real_executable')}",
                  [f"{cfg.get('path')}: version = {cfg.get('version')}, home = {home}"] + outside)
            outside = []
        if cfg.get("home_exists") is False:
            a.add("venv-base-missing", f"the Python that venv {root} was made from ({home}) no longer exists",
                  [f"{cfg.get('path')}: home = {home}"])
    if outside:
        a.add("interpreter-installation-mismatch",
              f"Python {a.interp.get('version')} runs from {a.interp.get('real_executable')} with the prefix and stdlib "
              f"of {a.interp.get('base_prefix')}",
              outside + [f"sys.prefix = {a.interp.get('prefix')}", f"stdlib = {(a.interp.get('sysconfig_paths') or {}).get('stdlib')}"])


def _binary_outside_base(interp: dict) -> List[str]:
    """Evidence that the running binary / libpython is not from the base installation.

    mod_wsgi and uWSGI run the libpython they were linked with, whatever
    python-home says; a venv's python symlink can also be run by another
    binary.  Either way the stdlib (from base_prefix) and the code running it
    come from two different builds.
    """
    roots = [r for r in (interp.get("base_prefix"), interp.get("base_prefix_real")) if r]
    if not roots:
        return []
    out = []
    real = interp.get("real_executable") or ""
    if posixpath.basename(real).startswith("python") and not any(under(real, r) for r in roots) \
            and not _venv_copy_of_base(interp):
        out.append(f"running binary {real} is not under base_prefix {roots[0]}")
    for obj in interp.get("mapped_objects") or []:
        if posixpath.basename(obj).startswith("libpython") and not any(under(obj, r) for r in roots):
            out.append(f"mapped {obj} is not under base_prefix {roots[0]}")
    return out


def _venv_copy_of_base(interp: dict) -> bool:
    """Is the running binary the venv's own copy (``venv --copies``) of the Python it was made from?

    What runs is compared, not where the binary sits: the venv's recorded
    version is the running one (X.Y.Z) and its base still exists.  A
    shared-library build is still checked through the mapped libpython.
    """
    cfg = interp.get("pyvenv_cfg") or {}
    real = interp.get("real_executable") or ""
    prefix = interp.get("prefix")
    if not cfg or not prefix or not under(real, prefix):
        return False
    made = str(cfg.get("version") or "").split(".")[:3]
    return bool(made) and made == str(interp.get("version") or "").split(".")[:3] and cfg.get("home_exists") is not False


def _home_matches_base(home: str, base_prefix: str, interp: dict) -> bool:
    """Does pyvenv.cfg's `home` (a bin dir) belong to the running installation?"""
    home = posixpath.normpath(home)
    candidates = {posixpath.join(base_prefix, "bin"), posixpath.normpath(base_prefix)}
    for key in ("base_executable", "real_executable"):
        exe = interp.get(key)
        if exe:
            candidates.add(posixpath.dirname(exe))
    if home in candidates:
        return True
    # /usr/bin and /bin are the same installation on merged-/usr systems.
    strip = lambda p: p[4:] if p.startswith("/usr/") else p
    return strip(home) in {strip(c) for c in candidates}


def _major_minor(version: Optional[str]) -> Optional[str]:
    if not version:
        return None
    parts = str(version).split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


@live_check("interpreter", "sys_path")
def _check_prefix(a: Analysis) -> None:
    if a.interp.get("has_real_prefix"):
        a.add("prefix-rewritten",
              f"sys.real_prefix exists ({a.interp.get('real_prefix')}): activate_this.py rewrote sys.prefix to {a.interp.get('prefix')}",
              [f"sys.prefix = {a.interp.get('prefix')}", f"sys.real_prefix = {a.interp.get('real_prefix')}"])
    home = a.interp.get("home") or {}
    if a.server in ("mod_wsgi", "uwsgi") and not a.interp.get("in_venv") and not home.get("initialised_with") \
            and not home.get("env_PYTHONHOME") and not a.interp.get("pyvenv_cfg"):
        a.add("prefix-from-path-search",
              f"no python-home was given to the {a.server} interpreter: it derived prefix {a.interp.get('prefix')} "
              f"from its own search (PATH / build defaults)",
              [f"sys.executable = {a.interp.get('executable')}", f"real executable = {a.interp.get('real_executable')}"])
    if not a.interp.get("in_venv") and not a.site_entries("runtime_venv_site"):
        a.add("no-venv", f"running the base installation at {a.interp.get('prefix')} without any venv",
              [f"sys.prefix == sys.base_prefix == {a.interp.get('prefix')}"],
              severity="warning" if a.in_server else "info")


@live_check("environment")
def _check_env(a: Analysis) -> None:
    env = ((a.section("environment") or {}).get("variables")) or {}
    flags = a.interp.get("flags") or {}
    if flags.get("ignore_environment"):
        return
    if env.get("PYTHONHOME") and a.in_server:
        a.add("pythonhome-from-env", f"PYTHONHOME={env['PYTHONHOME']} is set in the server's environment",
              [f"PYTHONHOME={env['PYTHONHOME']}"])
    if env.get("PYTHONPATH") and a.in_server:
        a.add("pythonpath-from-env", f"PYTHONPATH={env['PYTHONPATH']} is set in the server's environment",
              [f"PYTHONPATH={env['PYTHONPATH']}"])


@live_check("interpreter", "sys_path")
def _check_user_site(a: Analysis) -> None:
    user = a.interp.get("user_site") or {}
    user_entries = a.site_entries("user_site")
    if user.get("ENABLE_USER_SITE") and user_entries:
        a.add("user-site-active",
              f"user site-packages {user_entries[0]['path']} is on sys.path (HOME={user.get('HOME')})",
              ["site.ENABLE_USER_SITE = True", f"sys.path[{user_entries[0]['index']}] = {user_entries[0]['path']}"],
              severity="warning" if a.in_server else "info")


RULES = (
    Rule("venv-python-mismatch", "error",
         "The venv was made by a different Python than the one running",
         "Recreate the venv with the interpreter the server embeds (same installation, same X.Y).",
         fixes={
             "mod_wsgi": "mod_wsgi embeds the libpython it was compiled for: recreate the venv with that Python "
                         "(Debian's mod_wsgi: /usr/bin/python3 -m venv ...), or install a mod_wsgi built for the "
                         "venv's Python (pip install mod_wsgi; mod_wsgi-express module-config).",
             "uwsgi": "uWSGI's python plugin embeds one libpython: recreate the venv with that Python or load the "
                      "matching plugin (plugin = python3X).",
             "gunicorn": "Run gunicorn from the venv itself (<venv>/bin/gunicorn) so the venv's own interpreter runs it.",
         },
         checks=(_check_venv_version,), offline=("check-apache", "check-uwsgi", "check-home")),
    Rule("venv-base-missing", "error",
         "The Python installation the venv was made from no longer exists",
         "Recreate the venv from an installed Python (the base in pyvenv.cfg `home` is gone).",
         checks=(_check_venv_version,), offline=("check-home",)),
    Rule("interpreter-installation-mismatch", "error",
         "The Python binary or libpython running is not from the installation its prefix and stdlib come from",
         "Point the home at a venv made by (or an installation of) exactly the Python that runs; a stdlib from "
         "another build breaks in subtle ways.",
         fixes={
             "mod_wsgi": "mod_wsgi runs the libpython it was linked against (see mapped objects): recreate the venv "
                         "named by python-home / WSGIPythonHome with that Python (Debian: /usr/bin/python3 -m venv), "
                         "or install a mod_wsgi built for the venv's Python (pip install mod_wsgi; mod_wsgi-express module-config).",
             "uwsgi": "The python plugin's libpython runs: set home = to a venv made by that Python, or load a plugin"
                      " built for the venv's Python.",
         },
         checks=(_check_venv_version,)),
    Rule("prefix-rewritten", "warning",
         "sys.prefix was rewritten at runtime (activate_this.py)",
         "Prefer configuring the venv as the interpreter home; activate_this.py rewrites sys.prefix after modules "
         "have already been loaded.",
         fixes={
             "mod_wsgi": "Replace exec(activate_this.py) in the WSGI script with python-home=<venv> on "
                         "WSGIDaemonProcess.",
         },
         checks=(_check_prefix,)),
    Rule("prefix-from-path-search", "info",
         "No Python home was configured: the embedded interpreter found its prefix by itself",
         "Configure the venv explicitly so the interpreter never depends on PATH or build-time defaults.",
         fixes={
             "mod_wsgi": "Add python-home=<venv root> to WSGIDaemonProcess, or WSGIPythonHome <venv root> at global "
                         "scope for embedded mode.",
             "uwsgi": "Add home = <venv root>.",
         },
         checks=(_check_prefix,), offline=("check-apache", "check-uwsgi")),
    Rule("no-venv", "info",
         "No virtual environment is in use",
         "Run the app from a dedicated venv so its packages are isolated from the system's.",
         fixes={
             "mod_wsgi": "python -m venv /srv/venvs/app, install the app there, then python-home=/srv/venvs/app.",
             "uwsgi": "python -m venv /srv/venvs/app, then home = /srv/venvs/app.",
             "gunicorn": "python -m venv /srv/venvs/app and start /srv/venvs/app/bin/gunicorn.",
         },
         checks=(_check_prefix,), offline=("check-home",)),
    Rule("pythonhome-from-env", "warning",
         "PYTHONHOME was inherited from the environment",
         "Remove PYTHONHOME from the server's environment; configure the home in the server instead.",
         fixes={
             "mod_wsgi": "Remove PYTHONHOME from /etc/apache2/envvars or the systemd unit; use python-home / WSGIPythonHome.",
             "uwsgi": "Remove PYTHONHOME from the service environment; use home = <venv>.",
         },
         checks=(_check_env,), offline=("check-apache", "check-uwsgi", "explain-log")),
    Rule("pythonpath-from-env", "warning",
         "PYTHONPATH was inherited from the environment",
         "Remove PYTHONPATH from the server's environment; configure paths in the server instead.",
         fixes={
             "mod_wsgi": "Remove PYTHONPATH from /etc/apache2/envvars or the unit; use python-path= on "
                         "WSGIDaemonProcess.",
             "uwsgi": "Remove PYTHONPATH from the environment; use pythonpath = in the ini.",
             "gunicorn": "Remove PYTHONPATH; use --chdir / --pythonpath.",
         },
         checks=(_check_env,), offline=("check-apache",)),
    Rule("user-site-active", "warning",
         "User site-packages (~/.local) is active in a server process",
         "Disable the user site in servers: it depends on the HOME the server was started with.",
         fixes={
             "mod_wsgi": "Set python-home to a venv (venvs disable the user site), or set PYTHONNOUSERSITE=1 in "
                         "Apache's envvars.",
             "uwsgi": "Use home = <venv> or set env = PYTHONNOUSERSITE=1.",
             "gunicorn": "Run gunicorn from a venv or with PYTHONNOUSERSITE=1.",
         },
         checks=(_check_user_site,)),
)
