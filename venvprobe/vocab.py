"""The words a venvprobe report is made of, listed once.

Schema name and version, the report's top-level sections, the sys.path origin
kinds and server kinds the collector emits, severities, the views ``report
--section`` and the probe's sub-resources show, and :func:`section`, the one
way to read "a section, unless it could not be collected".

Every module that lists one of these imports it from here.  Two cannot: the
collector (``collect/``, a standard-library island that runs inside
interpreters without venvprobe) and ``_quick.py`` (start-up cost).  They keep
their own literal copies, and ``tests/test_vocab.py`` proves each copy equals
this module -- for the origins and server kinds, the rows of the collector's
``sys_path.ORIGIN_RULES`` and ``identity.SERVER_DETECTORS`` tables.  The live
analysis (:mod:`venvprobe.rules`, :mod:`venvprobe.analyze`) does import it: ``report --python X`` ships this module into X with them
(``venvprobe.rules.SHIPPED``).

Standard library only, Python 3.8 syntax, no imports at all: the probe imports
this module on its request path, and it runs inside inspected interpreters.
"""

SCHEMA_NAME = "venvprobe.report"
SCHEMA_VERSION = 1
# The probe's /identity document and its error answer are not reports; readers
# name them when they are handed one by mistake.
IDENTITY_SCHEMA_NAME = "venvprobe.identity"
ERROR_SCHEMA_NAME = "venvprobe.error"
HEALTH_SCHEMA_NAME = "venvprobe.health"  # /health?format=json

# Top-level keys of a report, in the order the collector writes them: the
# header, then the sections (each may be {"error": "..."} instead of its content).
HEADER = ("schema", "generated_at", "collector")
SECTIONS = ("interpreter", "identity", "sys_path", "distributions", "shadowed", "modules", "process",
            "environment", "findings")
REPORT_KEYS = HEADER + SECTIONS

# What `report --section`, the rendered tables and the probe's sub-resources
# (/_venvprobe/path, ...) call a section, in display order; the report key each
# one shows when it differs from the name.
VIEWS = ("findings", "interpreter", "identity", "path", "shadowed", "distributions", "modules", "process",
         "environment")
VIEW_SECTION = {"path": "sys_path"}

# sys.path origin kinds (entry["origin"]["kind"]), as the collector assigns them
# in order of precedence, with what each means (docs/report-schema.md lists the same).
ORIGINS = {
    "server_cwd": "the working directory gunicorn or uWSGI put first",
    "script_dir": "what the interpreter put first for its program (script directory, cwd for -m, '' for -c)",
    "pythonpath": "PYTHONPATH environment variable",
    "stdlib_zip": "standard library zip (usually absent)",
    "stdlib": "standard library",
    "lib_dynload": "standard library extension modules",
    "venv_site": "site-packages of the venv at sys.prefix",
    "base_site": "site-packages of the base installation",
    "user_site": "user site-packages (PEP 370)",
    "editable_finder": "placeholder entry of a setuptools editable finder",
    "editable": "a path line of a .pth file an editable install wrote",
    "pth": "a path or import line of a .pth file",
    "runtime_venv_site": "site-packages of another venv added at run time",
    "runtime": "added at run time (application code, python-path, addsitedir, sitecustomize)",
    "invalid": "not a string",
}
ORIGIN_KINDS = tuple(ORIGINS)

# identity.server.kind.  WSGI_SERVERS are the production servers whose
# start-up the findings advise on; werkzeug is the development server, "other"
# any other host, "none" a report collected outside a server (report --python).
SERVER_KINDS = ("mod_wsgi", "uwsgi", "gunicorn", "waitress", "werkzeug", "other", "none")
WSGI_SERVERS = ("mod_wsgi", "uwsgi", "gunicorn", "waitress")

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
# --fail-on: a severity, or never.
FAIL_ON = SEVERITIES + ("never",)


def section_error(report, name):
    """Why section *name* could not be collected (its ``{"error": ...}`` marker), else None."""
    value = report.get(name) if isinstance(report, dict) else None
    if isinstance(value, dict) and len(value) == 1 and "error" in value:
        return str(value["error"])
    return None


def section(report, name):
    """Section *name* of *report* when it holds data (an object or an array), else None.

    None covers a section that is absent, ``null``, of the wrong type, or the
    ``{"error": "..."}`` marker of one that could not be collected.
    """
    value = report.get(name) if isinstance(report, dict) else None
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and not (len(value) == 1 and "error" in value):
        return value
    return None
