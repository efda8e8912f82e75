"""Path globs of expectations files (``*``, ``**``, ``?``, ``[...]``), matched by an automaton: no backtracking."""

from __future__ import annotations

import functools
from typing import Any, List, Tuple


MAX_GLOB_CHARS = 4096

_LIT, _ONE, _CLASS, _STAR, _DSTAR, _OPT_START, _OPT_IN = range(7)


class Glob:
    """A compiled path glob, matched by a set-of-states automaton.

    Translating to a backtracking regular expression made ``*a*a*a*a*b``
    against a long path take exponential time, and ``[z-a]`` raised
    ``re.error`` at match time.  Here matching costs at most
    len(pattern) x len(path) steps, and a reversed range simply matches
    nothing.  ``match(value)`` is true when the whole of *value* matches.
    """

    __slots__ = ("pattern", "tokens")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = _glob_tokens(pattern)

    def match(self, value: str) -> bool:
        tokens = self.tokens
        end = len(tokens)
        states = self._closure({0})
        for ch in value:
            nxt = set()
            for k in states:
                if k == end:
                    continue
                kind, arg = tokens[k]
                if kind == _LIT:
                    if ch == arg:
                        nxt.add(k + 1)
                elif kind == _ONE:
                    if ch != "/":
                        nxt.add(k + 1)
                elif kind == _CLASS:
                    negate, singles, ranges = arg
                    hit = ch in singles or any(lo <= ch <= hi for lo, hi in ranges)
                    if hit != negate:
                        nxt.add(k + 1)
                elif kind == _STAR:
                    if ch != "/":
                        nxt.add(k)
                elif kind == _DSTAR:
                    nxt.add(k)
                elif kind == _OPT_IN:
                    nxt.add(k)
                    if ch == "/":
                        nxt.add(k + 1)
            if not nxt:
                return False
            states = self._closure(nxt)
        return end in states

    def _closure(self, states: set) -> set:
        todo = list(states)
        while todo:
            k = todo.pop()
            if k >= len(self.tokens):
                continue
            kind = self.tokens[k][0]
            targets: Tuple[int, ...] = (k + 1,) if kind in (_STAR, _DSTAR, _OPT_IN) and kind != _OPT_IN else ()
            if kind == _OPT_START:
                targets = (k + 1, k + 2)
            for t in targets:
                if t not in states:
                    states.add(t)
                    todo.append(t)
        return states


def _glob_tokens(pattern: str) -> List[Tuple[int, Any]]:
    out: List[Tuple[int, Any]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i) and (i == 2 or pattern[i - 3] == "/"):
                    out += [(_OPT_START, None), (_OPT_IN, None)]  # "a/**/b" also matches "a/b"
                    i += 1
                else:
                    out.append((_DSTAR, None))
                continue
            if not (out and out[-1][0] == _STAR):  # "***" is "*": fewer states
                out.append((_STAR, None))
        elif c == "?":
            out.append((_ONE, None))
        elif c == "[":
            j = i + 1
            negate = j < n and pattern[j] in "!^"
            if negate:
                j += 1
            if j < n and pattern[j] == "]":
                j += 1  # "[]x]": a leading ] is a member, as in fnmatch
            end = pattern.find("]", j)
            if end < 0:
                out.append((_LIT, c))
            else:
                body = pattern[i + 1 + negate:end]
                singles, ranges = set(), []
                k = 0
                while k < len(body):
                    if k + 2 < len(body) and body[k + 1] == "-":
                        ranges.append((body[k], body[k + 2]))  # reversed ("z-a") matches nothing
                        k += 3
                    else:
                        singles.add(body[k])
                        k += 1
                out.append((_CLASS, (negate, frozenset(singles), tuple(ranges))))
                i = end
        else:
            out.append((_LIT, c))
        i += 1
    return out


@functools.lru_cache(maxsize=1024)
def glob_to_regex(pattern: str) -> Glob:
    """Compile a path glob: ``*`` and ``?`` stay inside one path segment, ``**`` crosses ``/``.

    fnmatch's ``*`` also matches ``/``, which makes ``/srv/*/site-packages``
    match far more than a reader of the file expects.  (The name is kept
    for callers; the result is a :class:`Glob`, with the same ``match``.)
    """
    return Glob(pattern[:MAX_GLOB_CHARS])


def strip_slash(path: str) -> str:
    return path.rstrip("/") or path
