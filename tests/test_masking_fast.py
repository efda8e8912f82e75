"""The masker's fast paths give exactly what the plain algorithm gives.

``Masker.text`` splits ASCII strings into candidate words as bytes, and
``Masker.scrub`` answers plain keys and scalar values without a call per
value (issue 14: masking was a fifth of the collector's cost per
distribution).  The reference here is the algorithm as it was, run on the
same masker class; both must agree on every string and structure.
"""

from __future__ import annotations

import random
import string

from venvprobe.collect.masking import Masker
from venvprobe.collect.secret_words import (
    _AWS_KEY_PREFIXES,
    _MARK_PREFIX,
    _TOKEN_PREFIX_TUPLE,
    _TOKEN_PREFIXES,
    _WORD_SPLIT,
    _looks_random,
    _looks_secret_name,
    _secret_word,
)


def reference_secret_word(word):
    """_secret_word as it was (every long word tested against every token prefix)."""
    n = len(word)
    if n < 16 or word.startswith(_MARK_PREFIX):
        return False
    if word.startswith(_TOKEN_PREFIX_TUPLE):
        for prefix, minimum in _TOKEN_PREFIXES:
            if n >= minimum and word.startswith(prefix):
                return True
    if n == 20 and word[:4] in _AWS_KEY_PREFIXES and word.isalnum() and word.upper() == word:
        return True
    if word.startswith("eyJ") and word.count(".") == 2 and n >= 30:
        return True
    return n >= 20 and word.lower() != word and _looks_random(word)


class ReferenceMasker(Masker):
    """text() and scrub() as they were before the fast paths."""

    def text(self, text):
        if not isinstance(text, str) or len(text) < 12:
            return text
        memo = self._memo
        done = memo.get(text)
        if done is not None:
            return done
        out = text
        if "-----BEGIN" in out:
            out = self._pem(out)
        if "://" in out:
            out = self.url(out)
        low = out.lower()
        if "authorization" in low or "bearer " in low or "basic " in low or "token " in low:
            out = self._auth(out)
        for word in out.translate(_WORD_SPLIT).split():
            if len(word) >= 16:
                core = word.strip(".-_+")
                if reference_secret_word(core) and core in out:
                    out = out.replace(core, self.mark(core))
        if len(memo) > 100000:
            memo.clear()
        memo[text] = out
        return out

    def scrub(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(v, str) and isinstance(k, str) and _looks_secret_name(k) and k != "PYTHONPATH" \
                        and v and not v.startswith(_MARK_PREFIX):
                    out[k] = self.mark(v)
                else:
                    out[k] = self.scrub(v)
            return out
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


class OddStr(str):
    """A str subclass (keys and values of this type take the general path)."""


B62 = string.ascii_letters + string.digits


def _random_token(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return "ghp_" + "".join(rng.choice(B62) for _ in range(36))
    if kind == 1:
        return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if kind == 2:
        return "eyJ" + "".join(rng.choice(B62) for _ in range(20)) + "." + "".join(
            rng.choice(B62) for _ in range(20)) + "." + "".join(rng.choice(B62 + "-_") for _ in range(10))
    if kind == 3:
        return "".join(rng.choice(B62) for _ in range(rng.randint(18, 44)))
    if kind == 4:
        return "sk-" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(10, 40)))
    if kind == 5:
        return "-----BEGIN PRIVATE KEY-----\nMIIE" + "".join(rng.choice(B62) for _ in range(30)) + \
            "\n-----END PRIVATE KEY-----"
    if kind == 6:
        return "https://user:p%40ss" + str(rng.randrange(1000)) + "@example.com/path?token=" + \
            "".join(rng.choice(B62) for _ in range(12))
    if kind == 7:
        return rng.choice(["Bearer ", "Authorization: ", "token ", "Basic "]) + \
            "".join(rng.choice(B62) for _ in range(rng.randint(4, 30)))
    return "hooks.slack.com/services/T0000/B0000/" + "".join(rng.choice(B62) for _ in range(24))


PIECES = ["/usr/lib/python3.11/site-packages", "vpbench_pkg_00042-1.0.3.dist-info", "site-packages",
          "typing_extensions-4.12.2.dist-info", "MarkupSafe", "zope.interface", "__editable__.pkg-1.0.pth",
          "python3.11", "/srv/app", "C:\\Users\\x", "é", "漢字", "naïve-πaths", "\u2003", "\u00a0", "\x85", "\x1c",
          "\x1f", "\t", "\n", "\r\n", " ", "=", ":", "/", "--password=", "DB_PASSWORD=", "-e", "x" * 20,
          "CamelCaseWordWithDigits123", "0123456789abcdef0123456789abcdef", "a.b-c_d+e", "[secret:0123456789]",
          "\udcff", "ÀÉÎÕÜ" * 4]


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 8)):
        roll = rng.random()
        if roll < 0.25:
            parts.append(_random_token(rng))
        elif roll < 0.85:
            parts.append(rng.choice(PIECES))
        else:
            parts.append("".join(rng.choice(string.printable + "éπ漢\u2003\x85\x00\x1e") for _ in range(rng.randint(1, 30))))
    return rng.choice(["", "/", " ", "-", "_", "\n"]).join(parts)


def test_text_agrees_on_random_strings():
    rng = random.Random(1414)
    fast, plain = Masker("key"), ReferenceMasker("key")
    texts = [_random_text(rng) for _ in range(6000)]
    for text in texts + texts[:500]:  # the repeats come from the memo
        assert fast.text(text) == plain.text(text), repr(text)


def test_text_agrees_on_every_ascii_character_around_a_token():
    fast, plain = Masker("key"), ReferenceMasker("key")
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    for code in range(128):
        for text in ("x%s%sy" % (chr(code), token), "%s%s%s" % (token, chr(code), token),
                     "/srv/%sveryLongDirectoryName%s/x" % (chr(code), chr(code))):
            assert fast.text(text) == plain.text(text), repr(text)


def _random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice([_random_text(rng), rng.randint(-5, 10 ** 6), rng.random(), True, False, None, "",
                           "short", OddStr(_random_text(rng)), "[secret:abcdef0123] rest"])
    if roll < 0.7:
        keys = ["name", "version", "location", "metadata_path", "DB_PASSWORD", "api_token", "PYTHONPATH",
                "SECRET_KEY", "top_level", "record_files", "editable", OddStr("AUTH_TOKEN"), OddStr("plain")]
        return {rng.choice(keys) if rng.random() < 0.7 else _random_text(rng)[:20]: _random_value(rng, depth + 1)
                for _ in range(rng.randint(0, 8))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]


def test_scrub_agrees_on_random_structures():
    rng = random.Random(14)
    for _ in range(1500):
        value = _random_value(rng)
        fast, plain = Masker("key"), ReferenceMasker("key")
        got, want = fast.scrub(value), plain.scrub(value)
        assert got == want
        assert repr(got) == repr(want)  # same types too (True stays True, 1.0 stays 1.0)


def test_scrub_of_a_report_agrees():
    from venvprobe.collect.collector import collect

    report = collect({"use_psutil": False})
    report["environment"] = {"DB_PASSWORD": "hunter2-hunter2", "GUNICORN_CMD_ARGS": "-e API=sk-" + "a1" * 12,
                             "PYTHONPATH": "/srv/app"}
    assert Masker("key").scrub(report) == ReferenceMasker("key").scrub(report)


def test_scrub_agrees_on_short_values_at_every_length():
    """Values around the 12-character threshold below which text() keeps a string as it is."""
    bases = ["ftp://u:pw@host.example", "a://b:c@d/efghijklmnop", "Bearer abcdefgh1234", "token A1b2C3d4E5",
             "x" * 30, "AKIAABCDEFGHIJKLMNOP", "é" * 20]
    for base in bases:
        for size in range(0, len(base) + 1):
            value = {"value": base[:size], "list": [base[:size]], OddStr("odd"): base[:size]}
            assert Masker("key").scrub(value) == ReferenceMasker("key").scrub(value), base[:size]


def test_secret_word_agrees_for_every_first_character():
    rng = random.Random(15)
    firsts = [chr(c) for c in range(32, 127)] + ["é", "π", "漢", "\u2003"]
    for first in firsts:
        for prefix in ("",) + _TOKEN_PREFIX_TUPLE:
            for size in (15, 16, 20, 30, 41):
                word = (first + prefix + "".join(rng.choice(B62) for _ in range(size)))[:max(size, 1)]
                assert _secret_word(word) == reference_secret_word(word), word
                word = prefix + "".join(rng.choice(B62 + "_-.") for _ in range(size))
                assert _secret_word(word) == reference_secret_word(word), word


def test_text_agrees_on_authorization_forms():
    fast, plain = Masker("key"), ReferenceMasker("key")
    secret = "A1b2C3d4E5f6G7h8"
    for head in ("authorization", "AUTHORIZATION", "AuThOrIzAtIoN", "Authorization", "x-authorization",
                 "autHorization", "authorisation", "bearer", "Bearer", "BASIC", "token", "Token"):
        for sep in ("", " ", ":", ": ", "=", " = ", "\t", "'", '"', "\n"):
            for tail in (secret, "short", secret + " rest", "abc,def;" + secret, "é" + secret):
                text = "pre-" + head + sep + tail
                assert fast.text(text) == plain.text(text), repr(text)
