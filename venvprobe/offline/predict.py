"""What a server will make of a Python home, predicted by running the embedding installation's
interpreter the way mod_wsgi or uWSGI initialises it, as the server's user.

``check-home`` (:mod:`venvprobe.offline.home`) judges the prediction."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from venvprobe.offline import pathconfig
from venvprobe.offline.access import User
from venvprobe.offline.embed import Embedder


@dataclass
class Prediction:
    """What the embedded interpreter will report, from running it the same way."""

    ok: bool
    argv0: str
    executable: str
    env_home: Optional[str]
    as_user: str
    values: Dict[str, Any] = field(default_factory=dict)
    fatal: Optional[str] = None
    exception: Optional[str] = None
    path_config: Optional[dict] = None
    note: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "argv0": self.argv0, "executable": self.executable, "PYTHONHOME": self.env_home,
                "as_user": self.as_user, "values": self.values, "fatal": self.fatal, "exception": self.exception,
                "path_config": self.path_config, "note": self.note}


# Runs inside the predicted interpreter: sys.path as the server would see it.
_PREDICT = r"""
import json, os, platform, site, sys, sysconfig
path = [p for p in sys.path if p != ""]
try:
    sp = site.getsitepackages()
except Exception:
    sp = []
print(json.dumps({
    "version": platform.python_version(), "prefix": sys.prefix, "exec_prefix": sys.exec_prefix,
    "base_prefix": sys.base_prefix, "executable": sys.executable,
    "stdlib": os.path.dirname(os.__file__), "path": path, "site_packages": sp,
    "user_site": site.ENABLE_USER_SITE,
}))
"""


def _drop_privileges(user: User):
    def run() -> None:
        os.setgroups(sorted(user.groups))
        os.setgid(user.gid)
        os.setuid(user.uid)
    return run


def predict(home: Optional[str], embedder: Embedder, user: User, server: str = "mod_wsgi",
            pyvenv_visible: Optional[bool] = None, extra_env: Optional[Dict[str, str]] = None,
            timeout: float = 20.0) -> Prediction:
    """Run the embedding installation's interpreter the way the server initialises it.

    mod_wsgi 4.x-6.x (``wsgi_python_init``): when ``<home>/pyvenv.cfg`` is readable
    by the daemon user it sets the program name to ``<home>/bin/python``,
    otherwise it calls ``Py_SetPythonHome(<home>)`` (6.x: ``PyConfig.program_name``
    / ``PyConfig.home``, same effect) (program name stays
    "python3", found on PATH).  uWSGI: ``pyvenv.cfg`` present -> program name
    only; otherwise ``Py_SetPythonHome`` too, with program name
    ``<home>/bin/python``.  ``Py_SetPythonHome`` is reproduced with
    ``PYTHONHOME`` (CPython treats both as ``config.home``), the program name
    with argv[0].  The process drops to *user* when we are root.
    """
    exe = embedder.executable
    if not exe:
        return Prediction(False, "", "", None, user.name, note="no interpreter of the embedding installation found")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
           "HOME": user.home or "/"}
    env.update(extra_env or {})
    argv0 = "python3"
    env_home = None
    if home:
        if server == "uwsgi":
            argv0 = os.path.join(home, "bin", "python")
            if not pyvenv_visible:
                env_home = home
        elif pyvenv_visible:
            argv0 = os.path.join(home, "bin", "python")
        else:
            env_home = home
    elif server == "uwsgi":
        argv0 = "/usr/bin/uwsgi"
    if env_home:
        env["PYTHONHOME"] = env_home
    me = os.geteuid()
    preexec = None
    as_user = user.name
    note = ""
    if me != user.uid:
        if me == 0:
            preexec = _drop_privileges(user)
        else:
            as_user = str(me)
            note = f"ran as uid {me}, not as {user.name}: permissions may differ (run as root to check as {user.name})"
    try:
        proc = subprocess.run([argv0, "-c", _PREDICT], executable=exe, capture_output=True, text=True,
                              timeout=timeout, env=env, cwd="/", preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        return Prediction(False, argv0, exe, env_home, as_user, note=f"timed out after {timeout:g}s")
    except (OSError, subprocess.SubprocessError) as exc:
        return Prediction(False, argv0, exe, env_home, as_user, note=f"cannot run {exe}: {exc}")
    pred = Prediction(proc.returncode == 0, argv0, exe, env_home, as_user, note=note)
    if proc.returncode == 0:
        try:
            pred.values = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pred.ok = False
            pred.note = (note + "; " if note else "") + "the interpreter printed no report"
        return pred
    blocks = pathconfig.parse(proc.stderr.splitlines())
    if blocks:
        b = blocks[-1]
        pred.fatal, pred.exception, pred.path_config = b.fatal, b.exception, b.as_dict()
    if not pred.fatal and not pred.exception:
        # 3.12+ may die without the dump CPython used to print (or with only part of it).
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.startswith(("Fatal Python error", "ModuleNotFound",
                                                                                 "ImportError", "Could not find"))]
        pred.fatal = ("; ".join(lines[-3:]) or " ".join(proc.stderr.strip().splitlines()[-2:]))[:500] \
            or f"exit status {proc.returncode}"
    return pred
