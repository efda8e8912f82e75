"""The collector's PEP 503 name normalisation (shadowing and editables compare distributions by it)."""

from __future__ import annotations

import random

from venvprobe.collect.common import _canonical


def reference_canonical(name: str) -> str:
    """The character loop it replaced: every run of - _ . becomes one -."""
    out = []
    prev_sep = False
    for ch in name.lower():
        if ch in "-_.":
            if not prev_sep:
                out.append("-")
            prev_sep = True
        else:
            out.append(ch)
            prev_sep = False
    return "".join(out)


def test_canonical_agrees_with_the_character_loop():
    rng = random.Random(503)
    alphabet = "aZ9-_.-_.İéΣß \t"
    names = ["", "-", "_", ".", "--", "-_.", "Flask", "zope.interface", "typing_extensions", "A__B..C--D",
             "_private", "trailing_", "..", "İstanbul", "Straße"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(50000)]
    for name in names:
        assert _canonical(name) == reference_canonical(name), repr(name)
