"""Parse the "Python path configuration:" block CPython prints when start-up fails.

CPython >= 3.8 dumps its computed path configuration to stderr before a
fatal start-up error (typically ``init_fs_encoding ... No module named
'encodings'``).  Under mod_wsgi and uWSGI that text lands in the server's
error log, with no timestamp prefix, and blocks from several processes can
interleave.  The parser is forgiving: it keeps what it can read and never
raises on odd input.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

HEADER = "Python path configuration:"
_KV = re.compile(r"^\s{2}([A-Za-z_][\w. ]*?) = (.*)$")
_ITEM = re.compile(r"^\s{4}('.*'|\".*\"),?\s*$")
_FATAL = re.compile(r"Fatal Python error: (.*)$")
_EXC = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception)): (.*)$")


@dataclass
class PathConfig:
    """One start-up attempt as CPython described it."""

    start_line: int  # 1-based line of the header (or of the fatal error when there is no block)
    end_line: int
    values: Dict[str, Optional[str]] = field(default_factory=dict)
    sys_path: List[str] = field(default_factory=list)
    fatal: Optional[str] = None
    exception: Optional[str] = None
    raw: List[str] = field(default_factory=list)
    pending: Optional[Tuple[str, str]] = None  # a value cut by an interleaved block: (key, head)
    garbled: bool = False  # some lines were interleaved character by character with another process's
    touched: int = 0  # last line this block was active (resumed or extended), for the staleness window
    joined: List[str] = field(default_factory=list)  # keys whose value was put together from a cut

    @property
    def home(self) -> Optional[str]:
        """PYTHONHOME as CPython saw it (env or Py_SetPythonHome), None when unset."""
        return self.values.get("PYTHONHOME")

    @property
    def program_name(self) -> Optional[str]:
        return self.values.get("program name")

    @property
    def missing_encodings(self) -> bool:
        return bool(self.exception and "encodings" in self.exception) or bool(
            self.fatal and "encodings" in self.fatal)

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key)

    def as_dict(self) -> dict:
        return {"line": self.start_line, "values": dict(self.values), "sys_path": list(self.sys_path),
                "fatal": self.fatal, "exception": self.exception, "garbled": self.garbled}


class _Garbled(ValueError):
    """A value mixed with another process's output, character by character."""


def _value(text: str) -> Optional[str]:
    text = text.strip()
    if text == "(not set)":
        return None
    if text[:1] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise _Garbled(text) from None
        return value if isinstance(value, str) else str(value)
    if " = " in text:
        raise _Garbled(text)
    return text


def _plausible_tail(tail: str) -> bool:
    """Whether *tail* can be the rest of a value cut in two by another block.

    CPython writes the tail at the start of a line, straight after the other
    block's fatal error; it holds no quote and no ``key = `` of a dump line.
    """
    return bool(tail) and not tail[0].isspace() and "'" not in tail and " = " not in tail


def parse(lines: Sequence[str], first_line: int = 1) -> List[PathConfig]:
    """Every path-configuration block (and bare fatal start-up error) in *lines*.

    *first_line* is the number of ``lines[0]`` in the file, for evidence.
    """
    out: List[PathConfig] = []
    i, n = 0, len(lines)
    current: Optional[PathConfig] = None
    # Blocks interrupted by another process's header resume after its fatal line.
    stack: List[PathConfig] = []
    in_path = False
    prefix = ""
    while i < n:
        raw = lines[i].rstrip("\n")
        pos = raw.find(HEADER)
        if pos >= 0:
            before = raw[:pos]
            if current is not None and current.fatal is None:
                # "  program name = 'Python path configuration:": the other block cut this
                # value in two; its tail ("python3'") follows that block's fatal error.
                cut = _KV.match(before)
                if cut and cut.group(2).startswith("'"):
                    current.pending = (cut.group(1).strip(), cut.group(2)[1:])
                stack.append(current)
            # Text before the header is either a log prefix (strip it from the
            # block's lines) or the half-written line of an interleaved block.
            prefix = "" if (_KV.match(before) or before.rstrip().endswith(("'", "="))) else before
            current = PathConfig(start_line=first_line + i, end_line=first_line + i, raw=[raw])
            out.append(current)
            in_path = False
            i += 1
            continue
        line = raw[len(prefix):] if prefix and raw.startswith(prefix) else raw
        fatal = _FATAL.search(line)
        if fatal:
            target = current
            if target is None or target.fatal is not None or \
                    first_line + i - max(target.end_line, target.touched) > 40:
                target = PathConfig(start_line=first_line + i, end_line=first_line + i)
                out.append(target)
            target.fatal = fatal.group(1).strip()
            target.raw.append(raw)
            target.end_line = first_line + i
            # The exception naming the cause follows within a few lines.
            for j in range(i + 1, min(n, i + 6)):
                m = _EXC.match(lines[j].rstrip("\n"))
                if m:
                    target.exception = f"{m.group(1)}: {m.group(2)}"
                    target.raw.append(lines[j].rstrip("\n"))
                    target.end_line = first_line + j
                    i = j
                    break
            current = stack.pop() if stack else None
            if current is not None:
                current.touched = first_line + i
            in_path = False
            i += 1
            continue
        if current is not None:
            if first_line + i - max(current.end_line, current.touched) > 40:
                current = stack.pop() if stack else None
                if current is not None:
                    current.touched = first_line + i
                in_path = False
                continue
            if in_path:
                m = _ITEM.match(line)
                if m:
                    try:
                        current.sys_path.append(_value(m.group(1)) or "")
                    except _Garbled:
                        current.garbled = True
                    current.raw.append(raw)
                    current.end_line = first_line + i
                    i += 1
                    continue
                if line.strip() == "]":
                    in_path = False
                    current.raw.append(raw)
                    current.end_line = first_line + i
                    i += 1
                    continue
            if current.pending and not _KV.match(line) and line.rstrip().endswith("'"):
                key, head = current.pending
                tail = line.rstrip()[:-1]
                current.pending = None
                current.raw.append(raw)
                if _plausible_tail(tail):
                    current.values.setdefault(key, head + tail)
                    current.joined.append(key)
                else:
                    # The cut value's tail was itself mixed with a third process's output
                    # (seen in CI: ":   sys.executable = ...encoding'/usr/bin/python3'"):
                    # joining it would invent a home no process was given.
                    current.garbled = True
                i += 1
                continue
            m = _KV.match(line)
            if m:
                key, value = m.group(1).strip(), m.group(2)
                if key == "sys.path" and value.strip().startswith("["):
                    in_path = not value.strip().endswith("]")
                elif key not in current.values:
                    try:
                        current.values[key] = _value(value)
                    except _Garbled:
                        current.garbled = True
                current.raw.append(raw)
                current.end_line = first_line + i
        i += 1
    return out


__all__ = ["HEADER", "PathConfig", "parse"]
