"""Bounded, non-blocking reads of local inputs.

Every file the CLI reads is named by somebody else: a command-line argument,
an ``Include`` in an Apache configuration, a ``WSGIScriptAlias`` target, a
``LoadModule`` path.  A FIFO there blocks ``open()`` for ever, ``/dev/zero``
fills memory, ``/dev/urandom`` never ends.  :func:`open_regular` opens with
``O_NONBLOCK`` (a FIFO without writer opens at once) and refuses anything that
is not a regular file; :func:`read_limited` also caps the bytes and the lines
and phrases every refusal as one line.

Standard library only.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from typing import BinaryIO, Callable, Iterable, Optional

from venvprobe.errors import InputError  # re-exported: an input cannot be read (one line)

__all__ = ["InputError", "NotRegularFile", "open_regular", "read_limited", "read_text", "read_head", "kind_of"]

DEFAULT_LIMIT = 64 << 20

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """*path* is a FIFO, a device, a socket or a directory: an OSError, so existing handlers catch it."""


def kind_of(mode: int) -> str:
    """'a FIFO', 'a character device', ... for a st_mode."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str) -> BinaryIO:
    """Open *path* for binary reading, never blocking; NotRegularFile unless it is a regular file."""
    try:
        fd = os.open(path, _FLAGS)
    except ValueError:  # an embedded NUL byte: as unopenable as a missing file
        raise NotRegularFile(errno.EINVAL, "contains a NUL byte", path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
            raise NotRegularFile(code, f"is {kind_of(mode)}, not a regular file", path)
        # Regular files never block; plain blocking reads from here on.
        if _FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return io.open(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _describe(exc: OSError, what: str, path: str) -> str:
    if isinstance(exc, NotRegularFile):
        return f"{what} {path!r} {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        return f"{what} {path!r} does not exist"
    if isinstance(exc, IsADirectoryError):
        return f"{what} {path!r} is a directory"
    if isinstance(exc, PermissionError):
        return f"cannot read {what} {path!r}: permission denied"
    return f"cannot read {what} {path!r}: {exc.strerror or exc}"


def _read_capped(handle: BinaryIO, limit: int) -> bytes:
    chunks = []
    total = 0
    while total <= limit:
        chunk = handle.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_limited(path: str, what: str = "file", limit: int = DEFAULT_LIMIT, max_lines: Optional[int] = None,
                 stdin: bool = True) -> bytes:
    """The bytes of *path* (``-`` is stdin when *stdin*), at most *limit* bytes and *max_lines* lines.

    InputError (one line) for a missing file, a FIFO or device, a directory,
    or an input over a cap.
    """
    try:
        if path == "-" and stdin:
            data = _read_capped(sys.stdin.buffer, limit)
        else:
            with open_regular(path) as handle:
                data = _read_capped(handle, limit)
    except OSError as exc:
        raise InputError(_describe(exc, what, path)) from None
    if len(data) > limit:
        raise InputError(f"{what} {path!r} is larger than {_size(limit)}")
    if max_lines is not None and data.count(b"\n") > max_lines:
        raise InputError(f"{what} {path!r} has more than {max_lines:,} lines")
    return data


def read_text(path: str, what: str = "file", limit: int = DEFAULT_LIMIT, max_lines: Optional[int] = None) -> str:
    """:func:`read_limited` (``-`` is stdin) decoded as UTF-8, undecodable bytes replaced; InputError."""
    return read_limited(path, what, limit, max_lines).decode("utf-8", "replace")


def read_head(path: str, count: int) -> bytes:
    """The first *count* bytes of a regular file; b"" for anything unreadable or not regular."""
    try:
        with open_regular(path) as handle:
            return handle.read(count)
    except OSError:
        return b""


def read_config(path: str, limit: int, error: Callable[[str], Exception]) -> bytes:
    """The bytes of the configuration file *path*; ``error(message)`` raised, with a one-line message, when it
    is missing, unreadable, not a regular file or larger than *limit*."""
    try:
        # A FIFO or device as the file (or as an Include) must not block or never end.
        with open_regular(path) as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{path} is a directory") from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{path} is larger than {_size(limit)}")
    return data


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} bytes"


MAX_NESTING = 100


def nesting_exceeds(data: object, limit: int = MAX_NESTING) -> bool:
    """True when lists/dicts in *data* nest deeper than *limit* (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[object]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_json(text: str, limit: int = MAX_NESTING) -> object:
    """json.loads, but a document nested deeper than *limit* is a ValueError, never a RecursionError.

    Real reports nest about 6 levels; everything that walks them afterwards
    (render, redact, diff, json.dumps) recurses too.
    """
    import json

    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested more than {limit} levels deep") from None
    if nesting_exceeds(data, limit):
        raise ValueError(f"nested more than {limit} levels deep")
    return data
