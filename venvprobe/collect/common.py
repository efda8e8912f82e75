"""What every section of the collector shares: the report's limits and small, safe helpers.

Standard library only (``os`` and ``sys``, already loaded at start-up); no
section logic here.  Every read goes through :func:`_read_bytes`, which is
bounded and never blocks.
"""

import os
import sys

SCHEMA_NAME = "venvprobe.report"
SCHEMA_VERSION = 1

# A directory this large is almost certainly not a package directory someone
# meant to put on sys.path; we stop listing it rather than stall a request.
MAX_DIR_ENTRIES = 200000
MAX_PTH_BYTES = 1 << 20
MAX_METADATA_HEADER_BYTES = 64 * 1024
MAX_RECORD_BYTES = 4 << 20
# What one report may hold, whatever the host has: site.py reads every line
# of every .pth file, but a report listing two million of them helps nobody
# (30 files of 1 MB of short lines made a 599 MB report and killed the
# worker).  Past these caps the collector counts what it skipped and says so
# in ``collector.skipped``.
MAX_PTH_TOTAL_BYTES = 8 << 20
MAX_PTH_LINES = 5000
MAX_RECORD_TOPS = 1000
MAX_NAME_CHARS = 255
MAX_REPORT_BYTES = 64 << 20

# Module names mod_wsgi and uWSGI give the WSGI script files they load
# (uWSGI: wsgi-file / mount = /x=file.wsgi).
WSGI_SCRIPT_PREFIXES = ("_mod_wsgi_", "uwsgi_file_")


# --------------------------------------------------------------------------
# small helpers


def _text(value):
    """Return a str that can always be encoded (paths may be non-UTF-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if not isinstance(value, str):
        return repr(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_utf8(value):
    try:
        value.encode("utf-8")
        return True
    except (UnicodeEncodeError, AttributeError):
        return False


def _error(exc):
    return {"error": "%s: %s" % (type(exc).__name__, _text(str(exc)))}


_O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
_FIRST_READ = 64 * 1024


def _read_bytes(path, limit):
    """Read at most *limit* bytes of a file.

    Opened non-blocking, so a FIFO or device named METADATA / RECORD / x.pth
    cannot make the collector hang (it reads as empty, or up to *limit*).
    No fstat: three syscalls per file matter at 2,000 distributions x 3 files.
    """
    fd = os.open(path, _O_READ)
    try:
        want = min(limit, _FIRST_READ)
        data = os.read(fd, want)
        if len(data) < want:  # short read: end of file (or an empty FIFO)
            return data
        chunks = [data]
        remaining = limit - len(data)
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except BlockingIOError:
        raise OSError(11, "not a regular file (read would block)", path) from None
    finally:
        os.close(fd)


def _read_text(path, limit):
    return _read_bytes(path, limit).decode("utf-8", "replace")


def _iso_now():
    import time

    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int((now % 1) * 1000)

_EXT = None


def _ext_suffixes():
    global _EXT
    if _EXT is None:
        # _imp is built in: an app's importlib.py on sys.path cannot break it.
        import _imp

        _EXT = tuple(_imp.extension_suffixes())
    return _EXT
def _cwd():
    """The current directory, or a path that cannot exist when it was deleted."""
    try:
        return os.getcwd()
    except OSError:
        return "/(current directory was deleted)"
def _realpath(path):
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):  # symlink loops on old Pythons, NUL bytes
        return path

def _canonical(name):
    """*name* lower-cased, each run of ``-``, ``_``, ``.`` as one ``-`` (PEP 503; twice per distribution)."""
    out = name.lower().replace("_", "-").replace(".", "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


def _loaded_file(name):
    module = sys.modules.get(name)
    if module is None:
        return None
    try:
        filename = getattr(module, "__file__", None)
    except Exception:
        return None
    return _text(filename) if isinstance(filename, str) else None


def _same_file(loaded, expected):
    if loaded == expected:
        return True
    try:
        return os.path.realpath(loaded) == os.path.realpath(expected) or os.path.realpath(os.path.splitext(loaded)[0]) == os.path.realpath(os.path.splitext(expected)[0])
    except (OSError, RuntimeError):
        return False
def first_row(table, *args):
    """``{"kind": kind, **details}`` for the first (kind, rule) row of *table* whose rule answers *args*.

    The origin rules and the server detectors are such tables: a rule returns
    its details, or None to let the next row try; the last row always answers.
    """
    for kind, rule in table:
        details = rule(*args)
        if details is not None:
            out = {"kind": kind}
            out.update(details)
            return out
    raise AssertionError("the last row of a rule table answers every case")  # pragma: no cover


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe(func):
    try:
        return func()
    except Exception:
        return None
