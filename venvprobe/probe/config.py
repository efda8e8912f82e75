"""Probe configuration: who may see a report, and how long one is cached.

Secure by default: with nothing configured, a request needs the probe's
bearer token, which the probe generates on first use and keeps in a file only
its own user can read (``~/.config/venvprobe/probe.token``, else
``$TMPDIR/venvprobe-<uid>/probe.token``).  ``venvprobe fetch`` run as that
user on the same host finds the token there: that is the one step for a
person on the host.  Loopback is *not* trusted by itself, because a reverse
proxy on the same host (nginx's default ``proxy_pass``, socat, haproxy in TCP
mode) makes every remote client look like loopback.

Settings come from code (:class:`ProbeConfig`), or from variables
``VENVPROBE_TOKEN``, ``VENVPROBE_TOKEN_FILE``, ``VENVPROBE_ALLOW``
(comma-separated CIDRs; with no token configured, these addresses are
trusted without one) and ``VENVPROBE_TTL`` found in the WSGI environ
(mod_wsgi ``SetEnv``, uWSGI ``env``) or, failing that, in the process
environment.

Standard library only: this module is bundled into the single-file probe.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from time import time_ns as _now_ns

_RACY_NS = 2 * 10**9  # a token file younger than this is re-read on every request

# Plain classes, no typing at run time: this is on the probe's request path,
# where every module imported is one an app's sys.path can shadow
# (dataclasses imports inspect, tokenize, token, re...).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Tuple, Union

    Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DEFAULT_PREFIX = "/_venvprobe"
DEFAULT_TTL = 10.0
TOKEN_FILE_NAME = "probe.token"
# A token is a line of text; anything bigger is not a token file.
MAX_TOKEN_BYTES = 4096


def _environ_store():
    """(os.environ, its backing dict, encodekey, decodevalue) on CPython, else None."""
    env = os.environ
    store = getattr(env, "_data", None)
    encode = getattr(env, "encodekey", None)
    decode = getattr(env, "decodevalue", None)
    if isinstance(store, dict) and callable(encode) and callable(decode):
        return env, store, encode, decode
    return None


_ENVIRON = _environ_store()
_ENCODED_NAMES: Dict[str, object] = {}


def environ_get(name: str) -> Optional[str]:
    """``os.environ.get(name)``, read straight from the mapping's store (a few times per request).

    ``os.environ.get`` goes through the Mapping ABC, encodes the key and
    decodes the value: about a microsecond, paid for every setting on every
    request.  The store is what ``os.environ[...] = ...`` and ``del`` update,
    so the answer is the same; if ``os.environ`` was replaced (a test's
    monkeypatch) or is not CPython's, the plain ``get``.
    """
    known = _ENVIRON
    if known is None or os.environ is not known[0]:
        return os.environ.get(name)
    key = _ENCODED_NAMES.get(name)
    if key is None:
        key = _ENCODED_NAMES[name] = known[2](name)
    value = known[1].get(key)
    return None if value is None else known[3](value)


def default_token_paths() -> List[str]:
    """Where the probe keeps its own token, in order; ``venvprobe fetch`` looks in the same places.

    The home directory first; the temporary directory when the home is not
    writable (www-data's /var/www).  Both are per user (HOME, effective uid).
    """
    home = os.path.expanduser("~")
    tmp = os.environ.get("TMPDIR") or "/tmp"
    paths = []
    if home and home != "~":
        paths.append(os.path.join(home, ".config", "venvprobe", TOKEN_FILE_NAME))
    paths.append(os.path.join(tmp, "venvprobe-%d" % os.geteuid(), TOKEN_FILE_NAME))
    return paths


def read_token_file(path: str, private: bool = False) -> Tuple[Optional[str], Optional[str]]:
    """(token, None) or (None, why not) for a token file.

    Never blocks and never reads much: the file must be a regular file (a
    FIFO would block a request thread forever, /dev/zero would fill memory),
    it is opened non-blocking and at most MAX_TOKEN_BYTES are read.  With
    *private* (the probe's own file) it must not be a symlink, must belong to
    us and must not be readable or writable by others.
    """
    try:
        st = os.lstat(path) if private else os.stat(path)
    except OSError as exc:
        return None, "token file %s: %s" % (path, exc.strerror or exc)
    if not stat.S_ISREG(st.st_mode):
        return None, "token file %s is not a regular file (refused)" % path
    if private and (st.st_uid != os.geteuid() or st.st_mode & 0o077):
        return None, "token file %s must belong to uid %d and be mode 0600 (refused)" % (path, os.geteuid())
    if st.st_size > MAX_TOKEN_BYTES:
        return None, "token file %s is larger than %d bytes (refused)" % (path, MAX_TOKEN_BYTES)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (getattr(os, "O_NOFOLLOW", 0) if private else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return None, "token file %s unreadable: %s" % (path, exc.strerror or exc)
    try:
        # Checked again on the open file: the path may have been swapped.
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "token file %s is not a regular file (refused)" % path
        data = os.read(fd, MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        return None, "token file %s unreadable: %s" % (path, exc.strerror or exc)
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_BYTES:
        return None, "token file %s is larger than %d bytes (refused)" % (path, MAX_TOKEN_BYTES)
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "token file %s is not UTF-8 text (refused)" % path
    if not token:
        return None, "token file %s is empty" % path
    if any(ch.isspace() or ord(ch) < 32 for ch in token):
        return None, "token file %s holds more than one word (refused)" % path
    return token, None


def _private_dir(path: str) -> bool:
    """Create *path* (0700) if missing; True if it is a real directory only we can use."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077


def create_token_file(path: str) -> Tuple[Optional[str], Optional[str]]:
    """Write a new random token to *path* (0600) unless someone else just did; returns read_token_file()."""
    directory = os.path.dirname(path)
    if os.path.basename(os.path.dirname(directory)) == ".config":
        home = os.path.dirname(os.path.dirname(directory))
        if not os.path.isdir(home):  # HOME=/nonexistent (daemon users): never make someone's home
            return None, "home directory %s does not exist" % home
        try:
            os.makedirs(os.path.dirname(directory), mode=0o700, exist_ok=True)
        except OSError as exc:
            return None, "cannot create %s: %s" % (os.path.dirname(directory), exc.strerror or exc)
    if not _private_dir(directory):
        return None, "%s is not a private directory of uid %d" % (directory, os.geteuid())
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(os.urandom(32).hex() + "\n")
        try:
            # link() fails if the file exists: of several workers starting at
            # once, one token wins and nobody ever reads a half-written file.
            os.link(tmp, path)
        except FileExistsError:
            pass
    except OSError as exc:
        return None, "cannot create %s: %s" % (path, exc.strerror or exc)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return read_token_file(path, private=True)


def find_default_token(create: bool = False) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(token, path, error): the probe's own token file, created when *create* and none exists.

    The first existing file wins and must be sound (a broken one locks the
    probe rather than falling back to the next place, so the probe and
    ``venvprobe fetch`` always agree on which file counts).
    """
    problems = []
    paths = default_token_paths()
    for path in paths:
        if os.path.lexists(path):
            token, error = read_token_file(path, private=True)
            return token, path, error
    if not create:
        return None, None, "no token file in " + " or ".join(paths)
    for path in paths:
        token, error = create_token_file(path)
        if token:
            return token, path, None
        problems.append(error or path)
    return None, None, "no token file could be created (%s); set VENVPROBE_TOKEN_FILE" % "; ".join(problems)


class ProbeConfig:
    """What the probe allows.  ``None`` fields fall back to the environment."""

    def __init__(self, token: Optional[str] = None, token_file: Optional[str] = None,
                 allow: Optional[List[str]] = None, ttl: Optional[float] = None,
                 redact_key: Optional[str] = None):
        self.token = token
        self.token_file = token_file
        self.allow = allow
        self.ttl = ttl
        self.redact_key = redact_key
        self._token_cache: Dict[str, Tuple[Tuple[int, int, int], str]] = {}
        self._resolved: Optional[Tuple[tuple, ResolvedConfig]] = None

    def resolve(self, environ: Mapping[str, object]) -> "ResolvedConfig":
        """Merge code settings, the WSGI environ and os.environ (in that order)."""
        # Each of the four settings: the code's, else the WSGI environ's (a non-empty str),
        # else os.environ's.  Inline: a function call per setting was a tenth of a request
        # (os.environ's four values are read in one go).
        os_token, os_token_file, os_allow, os_ttl = _os_settings()
        get = environ.get
        token = self.token
        if not token:
            value = get("VENVPROBE_TOKEN")
            token = value if isinstance(value, str) and value else os_token or None
        token_file = self.token_file
        if not token_file:
            value = get("VENVPROBE_TOKEN_FILE")
            token_file = value if isinstance(value, str) and value else os_token_file or None
        token_error = None
        source = "configured" if token else None
        if not token and token_file:
            token, token_error = self._read_token(token_file)
            source = "configured"
        allow = self.allow
        if allow is None:
            value = get("VENVPROBE_ALLOW")
            allow_setting = value if isinstance(value, str) and value else os_allow or None
            allow_spec = _split(allow_setting) if allow_setting else None
        else:
            allow_setting = None
            allow_spec = allow
        token_path = token_file
        if not token and not token_error and not allow_spec:
            # Nothing configured: the probe's own token, made on first use.
            token, token_path, token_error = self._default_token()
            source = "default"
        ttl = self.ttl
        ttl_setting = None
        if ttl is None:
            value = get("VENVPROBE_TTL")
            ttl_setting = value if isinstance(value, str) and value else os_ttl or None
        # Every request resolves; the answer only changes with its inputs (the
        # token file was checked above), so parsing the allowlist and building
        # the result happen once per change, not once per request.
        key = (token, token_path, token_error, source, allow_setting, None if allow is None else tuple(allow),
               ttl, ttl_setting)
        cached = self._resolved
        if cached is not None and cached[0] == key:
            return cached[1]
        networks, allow_error = parse_networks(allow_spec or [])
        if ttl is None:
            try:
                ttl = float(ttl_setting or DEFAULT_TTL)
            except ValueError:
                ttl = DEFAULT_TTL
        resolved = ResolvedConfig(token=token, networks=networks, ttl=max(0.0, ttl),
                                  error=token_error or allow_error, token_source=source, token_path=token_path)
        self._resolved = (key, resolved)
        return resolved

    def _default_token(self) -> Tuple[Optional[str], Optional[str], Optional[str]]:
        cached = self._token_cache.get("<default>")
        if cached is not None:
            cached_path = cached[1]
            hit = self._cached(cached_path, private=True)
            if hit[0]:
                return hit[0], cached_path, None
        token, path, error = find_default_token(create=True)
        if token and path:
            self._token_cache["<default>"] = ((0, 0, 0), path)
        return token, path, error

    def _cached(self, path: str, private: bool = False) -> Tuple[Optional[str], Optional[str]]:
        """read_token_file, re-read only when the file changed (one stat per request)."""
        try:
            st = os.lstat(path) if private else os.stat(path)
            stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        except OSError as exc:
            return None, "token file %s unreadable: %s" % (path, exc.strerror or exc)
        cached = self._token_cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1], None
        token, error = read_token_file(path, private=private)
        # A file changed less than two seconds ago may change again within the same
        # mtime tick, with the same inode and size (a token rotated in place): trusting
        # the stamp would keep the old token valid.  Such a file is re-read until it is
        # older (git's "racy" index entries, the same problem).
        if token and _now_ns() - st.st_mtime_ns > _RACY_NS:
            self._token_cache[path] = (stamp, token)
        return token, error

    def _read_token(self, path: str) -> Tuple[Optional[str], Optional[str]]:
        """Read (and cache by mtime) a configured token file; an unusable file locks the probe."""
        return self._cached(path)


class ResolvedConfig:
    def __init__(self, token: Optional[str], networks: List[Network], ttl: float, error: Optional[str] = None,
                 token_source: Optional[str] = None, token_path: Optional[str] = None):
        self.token = token
        self.networks = networks
        self.ttl = ttl
        self.error = error
        # "configured" (code, VENVPROBE_TOKEN[_FILE]) or "default" (the probe's own file).
        self.token_source = token_source
        self.token_path = token_path


_SETTINGS = ("VENVPROBE_TOKEN", "VENVPROBE_TOKEN_FILE", "VENVPROBE_ALLOW", "VENVPROBE_TTL")
_SETTINGS_KEYS: List[object] = []  # the four names as os.environ's store spells them, made on first use


def _os_settings() -> Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]:
    """``environ_get`` of the four settings (token, token file, allow, TTL), in one call."""
    known = _ENVIRON
    if known is None or os.environ is not known[0]:
        return tuple(environ_get(name) for name in _SETTINGS)  # type: ignore[return-value]
    keys = _SETTINGS_KEYS
    if not keys:
        keys.extend(known[2](name) for name in _SETTINGS)
    get = known[1].get
    decode = known[3]
    a, b, c, d = get(keys[0]), get(keys[1]), get(keys[2]), get(keys[3])
    return (None if a is None else decode(a), None if b is None else decode(b),
            None if c is None else decode(c), None if d is None else decode(d))


def _split(value: Optional[str]) -> Optional[List[str]]:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_networks(specs: List[str]) -> Tuple[List[Network], Optional[str]]:
    """Parse CIDR strings; a bad one is reported (and denies everything) rather than ignored."""
    networks: List[Network] = []
    for spec in specs:
        try:
            networks.append(ipaddress.ip_network(spec, strict=False))
        except ValueError:
            return [], f"bad CIDR in allowlist: {spec!r}"
    return networks, None
