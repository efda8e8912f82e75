"""The ``identity`` section: which process and (sub-)interpreter this is, under which server.

The server is recognised by :data:`SERVER_DETECTORS`, an ordered table: the
first detector that answers names ``identity.server.kind`` (``vocab.SERVER_KINDS``
lists the same kinds; tests/test_vocab.py compares them).  Adding a server
kind is one row here.  The probe's ``/identity`` answers every request with
this section, so it is cached per (pid, modules loaded, masking key).
"""

import os
import sys

from venvprobe.collect.common import WSGI_SCRIPT_PREFIXES, _error, _ext_suffixes, _text, first_row
from venvprobe.collect.extensions import _extension_support, _interpreter_config
from venvprobe.collect.secret_words import _looks_secret_name

_IDENTITY_CACHE = {}  # type: dict[str, tuple]


def collect(ctx):
    # /identity answers every request with this: scanning sys.modules and
    # asking the interpreter for its config each time cost more than the
    # request itself.  Nothing here changes in a process until a module is
    # imported or removed (ppid aside), so it is kept per (pid, modules
    # loaded, last module, masking key) and copied out.
    modules = sys.modules
    try:
        last = next(reversed(modules), None) if sys.version_info >= (3, 8) else None
    except RuntimeError:
        # Another thread imported between reversed() and next() (48 concurrent first
        # requests did, and got a 500): a key that matches nothing means "collect afresh".
        last = object()
    key = (os.getpid(), len(modules), last, ctx.masker._key, ctx.foreign, ctx.options.get("fresh_process"))
    cached = _IDENTITY_CACHE.get("entry")
    if cached is None or cached[0] != key:
        cached = (key, _identity_live(ctx), [])
        _IDENTITY_CACHE["entry"] = cached
    ident = dict(cached[1])
    ident["ppid"] = os.getppid()
    return ident


def masked(ctx):
    """:func:`collect` through the context's masker, masked once per cached identity (the probe's /identity)."""
    ident = collect(ctx)
    cached = _IDENTITY_CACHE["entry"]
    if not cached[2]:
        # ppid (a number) is the only value that changes between calls: masking
        # never touches numbers, so the masked copy stays valid with a fresh one.
        cached[2].append(ctx.masker.scrub(cached[1]))
    result = dict(cached[2][0])
    result["ppid"] = ident["ppid"]
    return result


# -- server detectors, in order: each returns the server's fields, or None -------------


def _mod_wsgi(ctx):
    mod_wsgi = sys.modules.get("mod_wsgi")
    if mod_wsgi is None or not hasattr(mod_wsgi, "process_group"):
        return None
    server = {
        "version": ".".join(str(v) for v in getattr(mod_wsgi, "version", ()) or ()),
        "process_group": getattr(mod_wsgi, "process_group", None),
        "application_group": getattr(mod_wsgi, "application_group", None),
        "maximum_processes": getattr(mod_wsgi, "maximum_processes", None),
        "threads_per_process": getattr(mod_wsgi, "threads_per_process", None),
        "server_version": _text(getattr(mod_wsgi, "server_version", "") or "") or None,
    }
    server["mode"] = "daemon" if server["process_group"] else "embedded"
    server["main_interpreter_group"] = server["application_group"] == ""
    # mod_wsgi 6 exposes no GIL attribute: what its module says is these.
    for attr in ("description", "mpm_name", "build_date"):
        value = getattr(mod_wsgi, attr, None)
        if isinstance(value, (str, bytes)):
            server[attr] = _text(value)
    return server


def _uwsgi(ctx):
    uwsgi = sys.modules.get("uwsgi")
    if uwsgi is None:
        return None
    server = {}
    for attr, call in (("worker_id", True), ("numproc", False), ("version", False), ("mule_id", True)):
        try:
            value = getattr(uwsgi, attr)
            value = value() if call else value
            server[attr] = _text(value) if isinstance(value, bytes) else value
        except Exception:
            pass
    masker = ctx.masker
    try:
        opts = {}
        for key, value in dict(getattr(uwsgi, "opt", {}) or {}).items():
            key = _text(key)
            values = value if isinstance(value, list) else [value]
            shown = []
            for v in values:
                v = _text(v) if isinstance(v, (bytes, str)) else v
                if isinstance(v, str):
                    v = masker.mark(v) if _looks_secret_name(key) else masker.uwsgi_option(key, v)
                shown.append(v)
            opts[key] = shown if isinstance(value, list) else shown[0]
        server["options"] = opts
    except Exception as exc:
        server["options_error"] = _error(exc)["error"]
    return server


def _gunicorn(ctx):
    gunicorn = sys.modules.get("gunicorn")
    if gunicorn is None:
        return None
    # A worker's identity lives in the arbiter; what we have is the process title.
    return {"version": getattr(gunicorn, "__version__", None), "worker_pid": os.getpid(),
            "arbiter_pid": os.getppid(), "worker_class": _gunicorn_worker_class()}


def _waitress(ctx):
    return {"version": None} if "waitress" in sys.modules else None


def _werkzeug(ctx):
    return {} if "werkzeug.serving" in sys.modules else None


def _none(ctx):
    if ctx.foreign:
        return {"detail": "collected by `venvprobe report --python` in a fresh process"}
    return None


def _other(ctx):
    return {}


#: (server kind, detector): the first detector that answers names the server.
SERVER_DETECTORS = (
    ("mod_wsgi", _mod_wsgi),
    ("uwsgi", _uwsgi),
    ("gunicorn", _gunicorn),
    ("waitress", _waitress),
    ("werkzeug", _werkzeug),
    ("none", _none),
    ("other", _other),
)


#: Servers that put their working directory first on sys.path, and the forms that entry takes:
#: '' or '.', or ``<cwd>`` for the directory itself (gunicorn's --chdir).  The sys_path section
#: names such an entry ``server_cwd`` for these kinds only.
CWD_FIRST = {"uwsgi": ("", "."), "gunicorn": ("", ".", "<cwd>")}


def server_of(ctx):
    return first_row(SERVER_DETECTORS, ctx)


def _identity_live(ctx):
    ident = {"pid": os.getpid(), "ppid": os.getppid()}
    ident.update(_FRESH_MAIN if ctx.options.get("fresh_process") else _interpreter_id())
    ident["server"] = server_of(ctx)  # not ctx.server(): the probe keeps one context for /identity, across forks too
    # The interpreter's own identity also covers what is loaded in it:
    # third-party C extensions (sub-interpreter trouble) and the WSGI
    # scripts mod_wsgi loaded here (several apps sharing it).
    stdlib = os.path.normpath(ctx.paths().get("stdlib") or "") + os.sep
    suffixes = _ext_suffixes()
    third, scripts = [], []
    for name, module in list(sys.modules.items()):
        if name.startswith(WSGI_SCRIPT_PREFIXES):
            scripts.append(name)
            continue
        try:
            filename = getattr(module, "__file__", None) if module is not None else None
        except Exception:  # a module object whose attribute access raises
            continue
        if isinstance(filename, str) and filename.endswith(suffixes):
            if "site-packages" in filename or "dist-packages" in filename or \
                    not (filename.startswith(stdlib) or "lib-dynload" in filename):
                third.append(name)
    ident["third_party_extensions"] = sorted(third)
    ident["wsgi_script_modules"] = sorted(scripts)
    try:
        ident["interpreter_config"] = _interpreter_config(ident.get("main_interpreter"))
    except Exception as exc:
        ident["interpreter_config"] = _error(exc)
    try:
        ident["extension_support"] = _extension_support(ctx, ident.get("interpreter_config") or {})
    except Exception as exc:
        ident["extension_support"] = _error(exc)
    return ident


_INTERPRETER_ID = []  # type: list[dict]

#: `report --python` runs the collector in `X -c ...`, X's main interpreter, whose id is
#: always 0: importing an interpreters module to ask costs a shared library load.
_FRESH_MAIN = {"interpreter_id": 0, "main_interpreter": True, "interpreter_id_source": "fresh process"}


def _interpreter_id():
    """The id of this (sub-)interpreter, cached: this module's state is per interpreter."""
    if not _INTERPRETER_ID:
        _INTERPRETER_ID.append(_lookup_interpreter_id())
    return dict(_INTERPRETER_ID[0])


def _lookup_interpreter_id():
    """Ask whichever interpreters module this version has."""
    # Only the names this version can have: a failed import scans every
    # sys.path entry, and `concurrent.interpreters` would leave `concurrent`
    # behind among the modules the report lists.
    if sys.version_info < (3, 13):
        names = ("_xxsubinterpreters",)
    elif sys.version_info < (3, 14):
        names = ("_interpreters",)
    else:
        names = ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters")
    for modname in names:
        try:
            module = __import__(modname, fromlist=["_"])
        except Exception:
            continue
        try:
            current = module.get_current()
            main = module.get_main()
            cur_id = getattr(current, "id", current)
            main_id = getattr(main, "id", main)
            if isinstance(cur_id, tuple):
                cur_id = cur_id[0]
            if isinstance(main_id, tuple):
                main_id = main_id[0]
            cur_id, main_id = int(cur_id), int(main_id)
            return {"interpreter_id": cur_id, "main_interpreter": cur_id == main_id, "interpreter_id_source": modname}
        except Exception:
            continue
    return {"interpreter_id": None, "main_interpreter": None, "interpreter_id_source": None}
def _gunicorn_worker_class():
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
        for i, arg in enumerate(args):
            if arg in (b"-k", b"--worker-class") and i + 1 < len(args):
                return _text(args[i + 1])
            if arg.startswith(b"--worker-class="):
                return _text(arg.split(b"=", 1)[1])
    except OSError:
        pass
    return "sync"

