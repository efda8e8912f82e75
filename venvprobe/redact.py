"""Redact a report for sharing (support tickets): secrets and, optionally, user names.

Secrets become a short keyed hash (HMAC-SHA256), never ``****`` and never a
kept suffix: two reports redacted with the same key still show whether a
value differs, and nothing of the value leaks.  Recognising a secret (by the
name it is stored under and by its shape) is the collector's ``Masker`` (:mod:`venvprobe.collect.masking`):
one implementation for the collector, the probe and every CLI output.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any, Optional, Set

from venvprobe.collect.masking import Masker as _Masker
from venvprobe.collect.secret_words import _SECRET_WORDS
from venvprobe.vocab import section as _section

KEY_ENV = "VENVPROBE_REDACT_KEY"
_MARK = re.compile(r"^\[(secret|user):[0-9a-f]{10}\]$")
_HOME_USER = re.compile(r"(?P<pre>/(?:home|Users)/)(?P<user>[^/\s'\"]+)")
_SECRET_KEYS = tuple(w.lower() for w in _SECRET_WORDS)


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "venvprobe" / "redact.key"


def load_key(explicit: Optional[str] = None) -> bytes:
    """The redaction key: explicit, $VENVPROBE_REDACT_KEY, or a per-user key file (created once, 0600).

    A stable per-user key keeps the hashes of one support engineer's reports
    comparable across runs; pass the same key on two hosts to compare them.
    """
    if explicit:
        return explicit.encode()
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    path = default_key_path()
    try:
        return path.read_bytes().strip()
    except OSError:
        pass
    key = secrets.token_hex(16).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
    except OSError:
        pass  # unwritable home: the key lives for this run only
    return key


class Redactor:
    """Applies the redaction rules to every string in a report."""

    def __init__(self, key: bytes, users: bool = False, extra_users: Optional[Set[str]] = None):
        self.key = key
        self.masker = _Masker(key)
        self.users = users
        self.user_names: Set[str] = set(extra_users or ())

    def mark(self, value: str, kind: str = "secret") -> str:
        if kind == "secret":
            return self.masker.mark(value)
        digest = hmac.new(self.key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
        return f"[{kind}:{digest[:10]}]"

    def text(self, value: str) -> str:
        if _MARK.match(value):
            return value
        value = self.masker.value(value)
        value = self.masker.colon_assignment(value)
        if self.users:
            value = _HOME_USER.sub(lambda m: m["pre"] + self.mark(m["user"], "user"), value)
            for name in self.user_names:
                if name and len(name) > 2 and name in value:
                    value = re.sub(rf"(?<![A-Za-z0-9_.-]){re.escape(name)}(?![A-Za-z0-9_-])", self.mark(name, "user"), value)
        return value

    def walk(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v, key) for v in value]
        if isinstance(value, str):
            if key and any(w in key.lower() for w in _SECRET_KEYS) and key.lower() not in _NOT_SECRET_KEYS \
                    and not _MARK.match(value):
                return self.mark(value)
            return self.text(value)
        return value


# Report keys whose names contain a secret word but whose values are not secrets.
_NOT_SECRET_KEYS = {"key", "keys", "passed", "pass", "session", "author"}


def redact_report(report: dict, key: Optional[bytes] = None, users: bool = False) -> dict:
    """A redacted deep copy of *report*; the original is left untouched."""
    key = key or load_key()
    names: Set[str] = set()
    if users:
        proc = _section(report, "process") or {}
        env = (report.get("environment") or {}).get("variables") if isinstance(report.get("environment"), dict) else {}
        for candidate in (proc.get("user"), (env or {}).get("USER"), (env or {}).get("LOGNAME")):
            if isinstance(candidate, str) and candidate not in ("root",):
                names.add(candidate)
    redactor = Redactor(key, users=users, extra_users=names)
    out = redactor.walk(copy.deepcopy(report))
    if isinstance(out.get("process"), dict) and isinstance(out["process"].get("cmdline"), list):
        out["process"]["cmdline"] = redactor.masker.argv(
            [a for a in out["process"]["cmdline"] if isinstance(a, str)])
    out["redacted"] = {"secrets": True, "users": users, "method": "HMAC-SHA256, first 10 hex digits"}
    return out


def scrub_report(report: Any, key: Optional[bytes] = None) -> Any:
    """*report* with every string masked by value (a copy): what every CLI output shows.

    A report read from a file or fetched from a probe may come from an older
    version or another host; whatever it carries, no command prints a secret
    the masker recognises.  Without *key*, $VENVPROBE_REDACT_KEY or a key
    random per process (a mark then only says "a secret was here").
    """
    if key is None:
        env_key = os.environ.get(KEY_ENV)
        key = env_key.encode() if env_key else _PROCESS_KEY
    masker = _Masker(key)
    out = masker.scrub(report)
    if not isinstance(out, dict):
        return out
    # Where the structure says what a string is, the rules by position apply too.
    for section, field in (("process", "cmdline"), ("interpreter", "orig_argv")):
        part = out.get(section)
        if isinstance(part, dict) and isinstance(part.get(field), list):
            part[field] = masker.argv([a if isinstance(a, str) else str(a) for a in part[field]])
    for section, field in (("environment", "variables"), ("interpreter", "python_env")):
        part = out.get(section)
        if isinstance(part, dict) and isinstance(part.get(field), dict):
            part[field] = {k: masker.env_var(str(k), v) if isinstance(v, str) else v
                           for k, v in part[field].items()}
    return out


_PROCESS_KEY = secrets.token_bytes(16)
