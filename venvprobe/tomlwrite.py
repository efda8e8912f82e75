"""The one TOML writer: ``snapshot`` and ``check-apache``/``check-uwsgi --expectations`` both write with it.

Small on purpose (strings, booleans, integers, arrays, inline tables: what
expectation files hold) and checked by a hypothesis property test that
round-trips arbitrary text -- non-ASCII, emoji, quotes, backslashes,
controls -- through :mod:`tomllib` (tests/test_toml_roundtrip.py).  A lone
surrogate (an undecodable file name) cannot be written in TOML at all: it is
refused with a ValueError instead of producing a file nothing can read.
"""

from __future__ import annotations

from typing import Any

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def toml_string(value: str) -> str:
    """A TOML basic string: ``\\`` and ``"`` escaped, control characters as ``\\uXXXX``, the rest as is (UTF-8)."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append("\\u%04x" % code)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"{value!r} holds an undecodable character (U+{code:04X}) that TOML cannot represent")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_key(key: str) -> str:
    """A bare key when TOML allows it, else a quoted one."""
    return key if key and all(c in _BARE for c in key) else toml_string(key)


def toml_value(value: Any) -> str:
    """TOML for a str, bool, int, list/tuple or dict (an inline table) value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


__all__ = ["toml_key", "toml_string", "toml_value"]
