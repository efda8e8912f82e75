"""Read an expectations file (bounded, never a FIFO) and parse its TOML; validation is :mod:`.validate`."""

from __future__ import annotations

import re
import sys

from venvprobe.expectations.model import Expectations
from venvprobe.expectations.schema import MAX_FILE_BYTES, ExpectationsError
from venvprobe.expectations.validate import Validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


def load_file(path: str) -> Expectations:
    """Read and validate the expectations file at *path* ("-" for stdin)."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            from venvprobe.safeio import open_regular

            # Never open() a FIFO or device given as expectations: it blocks or never ends.
            with open_regular(path) as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ExpectationsError("no such file", path, hint="give the path of a TOML expectations file; "
                                "`venvprobe snapshot -o FILE` writes one from a known-good report") from None
    except IsADirectoryError:
        raise ExpectationsError("is a directory, not an expectations file", path) from None
    except OSError as exc:
        raise ExpectationsError(f"cannot read: {exc.strerror or exc}", path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ExpectationsError(f"larger than {MAX_FILE_BYTES >> 20} MiB: not an expectations file", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExpectationsError("not UTF-8 text (TOML files must be UTF-8)", path, line) from None
    return loads(text, "<stdin>" if path == "-" else path)


def loads(text: str, source: str = "<expectations>") -> Expectations:
    """Parse and validate expectations from TOML *text*; *source* names it in errors."""
    from venvprobe.safeio import MAX_NESTING, nesting_exceeds

    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ExpectationsError(f"not valid TOML: arrays or tables nested more than {MAX_NESTING} levels deep",
                                source) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        line = int(m.group(1)) if m else None
        if m:
            message = message[: m.start()] + f" (column {m.group(2)})"
        if "at end of document" in message:
            line = text.count("\n") + 1
            message = message.replace(" (at end of document)", "")
        raise ExpectationsError(f"not valid TOML: {message}", source, line,
                                hint="strings need quotes, tables are [name], inline tables { key = value }") from None
    if nesting_exceeds(data, MAX_NESTING):
        raise ExpectationsError(f"arrays or tables nested more than {MAX_NESTING} levels deep", source)
    return Validator(text, source).build(data)
