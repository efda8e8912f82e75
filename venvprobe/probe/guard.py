"""The probe's answer when the app's ``sys.path`` breaks the standard library.

The probe exists for the moment an app's environment is wrong, and the
classic wrong environment is a stray ``random.py`` (``json.py``,
``token.py``...) first on ``sys.path``: every module of that name imported
after it is the app's file.  This module names the culprit instead of letting
the server send its bare 500.  It uses nothing but ``sys`` and what the
import system itself has loaded (``_frozen_importlib_external``), so it works
whatever else is shadowed.

:data:`PROBE_STDLIB` lists every standard-library module the probe's
request path may import beyond what the interpreter loaded before any app code
ran (``os``, ``sys``, ``posixpath``, ``stat``, ``codecs``, ``io``, ``abc``...;
those cannot be shadowed any more, and the report's ``stdlib-shadowed``
finding still names a file that tries).  ``tests/test_probe_stdlib.py``
checks the list against what a request really imports on the interpreter
under test and shadows each name in turn.
"""

import sys

# Imported by the request path, directly or transitively, on CPython 3.8-3.13
# (a fresh interpreter, every sub-resource in every format: see
# tests/test_probe_stdlib.py).  Built-in modules are listed too, though no
# file can shadow them.  Keep it short: each name is a file an app can break
# the probe with; the probe answers anyway (this module), but with a
# diagnosis instead of the report.
PROBE_STDLIB = (
    "__future__",    # `from __future__ import annotations` is a real import
    # access rules: ipaddress (allowlist, loopback) and what it pulls in
    "ipaddress", "functools", "_functools", "collections", "_collections", "keyword", "operator", "_operator",
    "reprlib", "itertools", "types", "heapq", "_heapq",
    # constant-time token check and the HMAC-SHA256 secret marks
    "hmac", "hashlib", "_hashlib", "_blake2", "_sha3", "_sha256", "_sha2", "_sha512", "_sha1", "_md5",
    "warnings",
    "_json",         # the C JSON encoder (not ``json``: it imports ``re``)
    "sysconfig", "_sysconfigdata", "_bootlocale", "_locale",  # installation paths (_sysconfigdata_<abi>_<platform>)
    "site",          # user site, site-packages (loaded at start-up unless -S)
    "zipimport",     # zipped sys.path entries
    "pwd",           # process user name
    "importlib", "importlib._bootstrap", "importlib._bootstrap_external", "importlib.machinery",
    "ast", "_ast",   # parse (never run) the maps of editable finders
    "ctypes", "_ctypes", "struct", "_struct",  # only in embedded interpreters: Py_GetPythonHome
    "concurrent", "_xxsubinterpreters", "_interpreters",  # the interpreter's id
    "threading", "_weakrefset",  # 3.12+: imported by importlib
    "time", "_thread",  # built in (timestamps, the report cache's lock)
)

_GENERIC = b"venvprobe: internal error (details in the server log)\n"


def _stdlib_dirs():
    """The standard library's directories, as this interpreter found them at start-up.

    ``os`` is imported from the standard library before any app code runs,
    so its directory is the standard library's, whatever sys.path says now.
    """
    os_file = getattr(sys.modules.get("os"), "__file__", None) or ""
    base = os_file.rpartition("/")[0] if "/" in os_file else ""
    if not base:
        base = "%s/lib/python%d.%d" % ((sys.base_prefix,) + tuple(sys.version_info[:2]))
    return (base + "/", base + "/lib-dynload/")


def _in_stdlib(path, dirs):
    return any(path.startswith(d) and "-packages/" not in path[len(d):] for d in dirs)


def _origin(name):
    """The file *name* is loaded from (already) or would be (from sys.path), or None."""
    module = sys.modules.get(name)
    if module is not None:
        try:
            return getattr(module, "__file__", None)
        except Exception:
            return None
    if name in sys.builtin_module_names or "." in name:
        return None
    try:
        from _frozen_importlib_external import PathFinder  # the import system's own: always loaded

        spec = PathFinder.find_spec(name)
    except Exception:
        return None
    return getattr(spec, "origin", None) if spec is not None else None


def shadowed(names=PROBE_STDLIB):
    """``[(module, file)]``: standard-library modules on *names* whose file is, or would be, the app's."""
    dirs = _stdlib_dirs()
    out = []
    for name in names:
        origin = _origin(name)
        if isinstance(origin, str) and origin.startswith("/") and not _in_stdlib(origin, dirs):
            out.append((name, origin))
    return out


def _describe(exc):
    try:
        text = "%s: %s" % (type(exc).__name__, exc)
    except Exception:
        text = type(exc).__name__
    return text.replace("\n", " ")[:500]


def diagnose(exc):
    """A small document naming the standard-library module behind *exc*, or None if it is not one."""
    dirs = _stdlib_dirs()
    found = shadowed()
    names = [name for name, _ in found]
    # The failing import itself (ImportError names it), when it is a
    # standard-library module the list does not know yet.
    failed = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    if isinstance(exc, AttributeError):
        # "module 'argparse' has no attribute 'ArgumentParser'": an app's own argparse.py
        obj = getattr(exc, "obj", None)  # 3.10+
        failed = getattr(obj, "__name__", None) if type(obj) is type(sys) else None
        text = str(exc)
        if failed is None and text.startswith("module '"):
            failed = text[8:].partition("'")[0]
    stdlib_names = getattr(sys, "stdlib_module_names", None)
    if isinstance(failed, str) and failed and failed.partition(".")[0] not in names:
        top = failed.partition(".")[0]
        known = top in PROBE_STDLIB or (stdlib_names is not None and top in stdlib_names)
        origin = _origin(top)
        if isinstance(origin, str) and origin.startswith("/") and not _in_stdlib(origin, dirs) and \
                (known or stdlib_names is None):
            found.append((top, origin))
        elif known:
            found.append((top, None))  # broken, not shadowed (a lib-dynload module that fails to load)
    # A shadowing file that ran and raised shows up in the traceback.
    if not found:
        tb = getattr(exc, "__traceback__", None)
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            stem = filename.rpartition("/")[2].rpartition(".")[0]
            if stem == "__init__":
                stem = filename.rpartition("/")[0].rpartition("/")[2]
            if filename.startswith("/") and not _in_stdlib(filename, dirs) and \
                    stdlib_names is not None and stem in stdlib_names:
                found.append((stem, filename))
            tb = tb.tb_next
    if not found:
        return None
    module, path = found[0]
    if path:
        message = "the standard library's %s is shadowed by %s" % (module, path)
        fix = ("rename %s (and delete its __pycache__), or move its directory after the standard library "
               "on sys.path; then restart the server's processes" % path)
    else:
        message = "the standard library's %s cannot be imported" % module
        fix = "repair or reinstall this Python installation"
    return {
        "schema": {"name": "venvprobe.error", "version": 1},
        "error": "stdlib-shadowed" if path else "stdlib-broken",
        "message": message,
        "module": module,
        "shadowed_by": path,
        "exception": _describe(exc),
        "shadowed": [{"module": m, "file": f} for m, f in found if f],
        "fix": fix,
        "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
        "executable": sys.executable,
        "note": "this is not a report: venvprobe could not build one in this interpreter",
    }


def _json(value):
    """JSON for the diagnosis (strings, lists, dicts, None) without any import."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(_json(str(k)) + ": " + _json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_json(v) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    out = ['"']
    for ch in str(value):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            code = ord(ch)
            if code > 0xFFFF:
                code -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
            else:
                out.append("\\u%04x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _wants_json(environ):
    query = environ.get("QUERY_STRING")
    if isinstance(query, str) and "format=json" in query:
        return True
    accept = environ.get("HTTP_ACCEPT")
    return isinstance(accept, str) and "application/json" in accept and "format=" not in (query or "")


def _text(doc):
    lines = ["venvprobe: " + doc["message"], "error: " + doc["exception"], "fix: " + doc["fix"]]
    for item in doc["shadowed"][1:]:
        lines.append("also shadowed: %s by %s" % (item["module"], item["file"]))
    lines.append("(" + doc["note"] + ")")
    # Printed as plain text: no control characters from a path reach a terminal.
    text = "\n".join(lines) + "\n"
    return "".join(ch if ch == "\n" or 0x20 <= ord(ch) < 0x7F or ord(ch) > 0x9F else "\\x%02x" % ord(ch)
                   for ch in text).encode("utf-8", "backslashreplace")


def log(environ, message):
    stream = environ.get("wsgi.errors") if hasattr(environ, "get") else None
    if stream is None:
        stream = sys.stderr
    try:
        stream.write(message if message.endswith("\n") else message + "\n")
        stream.flush()
    except Exception:
        pass


def _traceback(exc):
    try:
        import traceback

        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # traceback (or linecache, tokenize...) is what is broken
        return _describe(exc) + "\n"


def failure(environ, exc, allowed):
    """(status, headers, body) for a request that failed with *exc*.

    Allowed clients learn which standard-library module broke; everyone else
    gets the 404 every denied request gets.  Either way the details go to the
    server's log.
    """
    doc = diagnose(exc)
    if doc is not None:
        log(environ, "venvprobe: %s (%s)\n%s" % (doc["message"], doc["exception"], _traceback(exc)))
    else:
        log(environ, "venvprobe: internal error\n" + _traceback(exc))
    if not allowed:
        return "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n"
    if doc is None:
        return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], _GENERIC
    headers = [("X-Venvprobe-Error", doc["error"]), ("Cache-Control", "no-store"),
               ("X-Content-Type-Options", "nosniff")]
    if _wants_json(environ):
        return ("500 Internal Server Error", [("Content-Type", "application/json")] + headers,
                _json(doc).encode("ascii") + b"\n")
    return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")] + headers, _text(doc)


_PROXY_HINTS = ("FORWARD", "REAL_IP", "CLIENT_IP", "CONNECTING_IP", "VIA", "CLIENT_ADDR", "EXTERNAL_ADDR")


def fallback_allowed(environ):
    """Access when the probe's own rules cannot even be imported: stricter than them, never looser.

    A configured token must match; without one, the probe's own token (the
    default, see config.default_token_paths) from a loopback client carrying
    no header that smells of a proxy, and no allowlist configured (it cannot
    be evaluated without ``ipaddress``).
    """
    import os

    def setting(name):
        value = environ.get(name)
        return value if isinstance(value, str) and value else os.environ.get(name) or None

    if setting("VENVPROBE_ALLOW"):
        return False
    token = setting("VENVPROBE_TOKEN")
    token_file = setting("VENVPROBE_TOKEN_FILE")
    own = not token and not token_file
    if own:
        home = os.path.expanduser("~")
        candidates = [os.path.join(home, ".config", "venvprobe", "probe.token")] if home != "~" else []
        candidates.append(os.path.join(os.environ.get("TMPDIR") or "/tmp", "venvprobe-%d" % os.geteuid(),
                                       "probe.token"))
        token_file = next((c for c in candidates if os.path.lexists(c)), None)
        if token_file is None:
            return False
    if not token and token_file:
        try:
            fd = os.open(token_file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                import stat

                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return False
                token = os.read(fd, 4096).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
        except Exception:
            return False
        if not token:
            return False
    header = environ.get("HTTP_AUTHORIZATION")
    scheme, _, given = (header if isinstance(header, str) else "").partition(" ")
    from _operator import _compare_digest  # built in

    if not (scheme.lower() == "bearer" and _compare_digest(given.strip().encode(), token.encode())):
        return False
    if not own:
        return True
    for key in environ:
        if isinstance(key, str) and key.startswith("HTTP_") and any(h in key for h in _PROXY_HINTS):
            return False
    addr = environ.get("REMOTE_ADDR")
    if not isinstance(addr, str):
        return False
    addr = addr.split("%", 1)[0]
    if addr.startswith("::ffff:"):
        addr = addr[7:]
    parts = addr.split(".")
    if addr == "::1":
        return True
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


class BrokenProbe(object):
    """The WSGI callable that stands in for the probe when the probe itself could not be imported."""

    def __init__(self, exc, prefix=None, app=None):
        self.exc = exc
        self.prefix = prefix
        self.app = app
        self.extensions = {}

    def _allowed(self, environ):
        try:
            from venvprobe.probe.config import ProbeConfig
            from venvprobe.probe.security import authorize

            return authorize(environ, ProbeConfig().resolve(environ))[0]
        except Exception:
            try:
                return fallback_allowed(environ)
            except Exception:
                return False

    def __call__(self, environ, start_response):
        if self.app is not None:
            path = environ.get("PATH_INFO") or ""
            if not (path == self.prefix or path.startswith(self.prefix + "/")):
                return self.app(environ, start_response)
        status, headers, body = failure(environ, self.exc, self._allowed(environ))
        headers = list(headers) + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
