"""Which line of the TOML text a key is on (tomllib keeps no positions), for errors that say file:line."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple, Union


_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEYPART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*')


def _split_key(text: str) -> Optional[List[str]]:
    """Split a TOML dotted key ("a.\"b.c\".d") into parts, None if it is not one."""
    parts: List[str] = []
    pos = 0
    while True:
        m = _KEYPART.match(text, pos)
        if not m or m.end() == pos:
            return None
        parts.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            return None
        pos += 1


class KeyLocator:
    """Find the line on which a key path was written, by scanning the TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._key_cache: Dict[int, Tuple[Dict[Tuple[str, ...], int], Dict[str, int]]] = {}
        # (header parts, line number, is array-of-tables)
        self.headers: List[Tuple[Tuple[str, ...], int, bool]] = []
        for number, line in enumerate(self.lines, 1):
            m = _HEADER.match(line)
            if m and not line.lstrip().startswith("#"):
                parts = _split_key(m.group(2))
                if parts is not None:
                    self.headers.append((tuple(parts), number, m.group(1) == "[["))

    def _keys(self, start: int) -> Tuple[Dict[Tuple[str, ...], int], Dict[str, int]]:
        """{key parts: first line} and {first part: first line} of the block at *start* (cached:
        a snapshot pins thousands of distributions, and a scan per key would be quadratic)."""
        cached = self._key_cache.get(start)
        if cached is None:
            first, last = self._block(start)
            full: Dict[Tuple[str, ...], int] = {}
            heads: Dict[str, int] = {}
            for number in range(first, last):
                text = self.lines[number - 1]
                if "=" not in text or text.lstrip().startswith("#"):
                    continue
                parts = _split_key(text.split("=", 1)[0])
                if parts:
                    full.setdefault(tuple(parts), number)
                    heads.setdefault(parts[0], number)
            cached = self._key_cache[start] = (full, heads)
        return cached

    def _block(self, start: int) -> Tuple[int, int]:
        """Lines [start, end) of the table opened at line *start* (0 = top level)."""
        later = [n for _, n, _ in self.headers if n > start]
        return start + 1, (min(later) if later else len(self.lines) + 1)

    def line_of(self, path: Sequence[Union[str, int]]) -> Optional[int]:
        """Best line number for *path* (e.g. ("distributions", "require", "flask")), or None."""
        path = tuple(path)
        start, rest = 0, path
        # The longest header that is a prefix of the path; an int after an
        # array-of-tables header picks its n-th occurrence.
        for cut in range(len(path), 0, -1):
            head = tuple(p for p in path[:cut])
            if any(isinstance(p, int) for p in head):
                continue
            found = [(n, arr) for parts, n, arr in self.headers if parts == head]
            if not found:
                continue
            rest = path[cut:]
            index = 0
            if found[0][1] and rest and isinstance(rest[0], int):
                index, rest = rest[0], rest[1:]
            start = found[min(index, len(found) - 1)][0]
            break
        if not rest:
            return start or None
        first, last = self._block(start)
        names = [p for p in rest if isinstance(p, str)]
        if not names:
            return start or None
        full, heads = self._keys(start)
        # A dotted key that is a prefix of the path ("a.b" = {...} for a.b.c),
        # else any key starting with the first name (a.b.c = ... for "a").
        key_line = next((full[tuple(names[:k])] for k in range(len(names), 0, -1) if tuple(names[:k]) in full),
                        heads.get(names[0]))
        if key_line is None:
            return start or None
        # Keys inside an inline table or multi-line array: look further along.
        consumed = len(_split_key(self.lines[key_line - 1].split("=", 1)[0]) or [])
        line = key_line
        after = rest[rest.index(names[consumed - 1]) + 1:] if 0 < consumed <= len(names) else ()
        if after and isinstance(after[0], int):
            # The n-th inline table of an array written one item per line.
            seen = -1
            for number in range(key_line, last):
                text = self.lines[number - 1]
                seen += (text.split("=", 1)[1] if number == key_line else text).count("{")
                if seen >= after[0]:
                    return number
            return key_line
        for name in names[consumed:]:
            pattern = re.compile(r'(^|[\s{,])("%s"|\'%s\'|%s)\s*=' % ((re.escape(name),) * 3))
            for number in range(line, last):
                if pattern.search(self.lines[number - 1]):
                    line = number
                    break
        return line
