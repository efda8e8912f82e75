"""The ``environment`` section: an allowlist of variables, values masked by name and by shape.

The probe runs in production processes whose environment holds secrets:
anything not on the list is left out, not masked.
"""

import os

# Environment variables worth showing.  Everything else is left out: the
# probe runs in production processes whose environment holds secrets.
_ENV_EXACT = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "VIRTUAL_ENV",
    "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYENV_VERSION", "LD_LIBRARY_PATH",
    "GUNICORN_CMD_ARGS", "SERVER_SOFTWARE", "DJANGO_SETTINGS_MODULE",
    "FLASK_APP", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "APACHE_RUN_USER",
    "APACHE_RUN_GROUP", "TMPDIR",
}
_ENV_PREFIXES = ("PYTHON", "LC_", "MOD_WSGI", "UWSGI_", "GUNICORN_", "VENVPROBE_")


def collect(ctx):
    shown = {}
    for name, value in os.environ.items():
        if name in _ENV_EXACT or name.startswith(_ENV_PREFIXES):
            shown[name] = ctx.masker.env_var(name, value)
    return {"variables": dict(sorted(shown.items())), "policy": "allowlist; secret-looking values masked with a keyed hash"}
