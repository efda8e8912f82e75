"""Probe configuration: who may see a report, and how long one is cached.

Secure by default: with nothing configured, only requests from loopback that
carry no proxy headers get a report.  Settings come from code
(:class:`ProbeConfig`), or from variables ``VENVPROBE_TOKEN``,
``VENVPROBE_TOKEN_FILE``, ``VENVPROBE_ALLOW`` (comma-separated CIDRs) and
``VENVPROBE_TTL`` found in the WSGI environ (mod_wsgi ``SetEnv``, uWSGI
``env``) or, failing that, in the process environment.
"""

from __future__ import annotations

import ipaddress
import os

# Plain classes, no typing at run time: this is on the probe's request path,
# where every module imported is one an app's sys.path can shadow
# (dataclasses imports inspect, tokenize, token, re...).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Tuple, Union

    Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DEFAULT_PREFIX = "/_venvprobe"
DEFAULT_TTL = 10.0


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
        self._token_cache: Dict[str, Tuple[float, str]] = {}

    def resolve(self, environ: Mapping[str, object]) -> "ResolvedConfig":
        """Merge code settings, the WSGI environ and os.environ (in that order)."""

        def setting(name: str) -> Optional[str]:
            value = environ.get(name)
            if isinstance(value, str) and value:
                return value
            return os.environ.get(name) or None

        token = self.token or setting("VENVPROBE_TOKEN")
        token_file = self.token_file or setting("VENVPROBE_TOKEN_FILE")
        token_error = None
        if not token and token_file:
            token, token_error = self._read_token(token_file)
        allow_spec = self.allow if self.allow is not None else _split(setting("VENVPROBE_ALLOW"))
        networks, allow_error = parse_networks(allow_spec or [])
        ttl = self.ttl
        if ttl is None:
            try:
                ttl = float(setting("VENVPROBE_TTL") or DEFAULT_TTL)
            except ValueError:
                ttl = DEFAULT_TTL
        return ResolvedConfig(token=token, networks=networks, ttl=max(0.0, ttl),
                              error=token_error or allow_error)

    def _read_token(self, path: str) -> Tuple[Optional[str], Optional[str]]:
        """Read (and cache by mtime) a token file; an unreadable file locks the probe."""
        try:
            mtime = os.stat(path).st_mtime
            cached = self._token_cache.get(path)
            if cached and cached[0] == mtime:
                return cached[1], None
            with open(path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"token file {path} unreadable: {exc}"
        if not token:
            return None, f"token file {path} is empty"
        self._token_cache[path] = (mtime, token)
        return token, None


class ResolvedConfig:
    def __init__(self, token: Optional[str], networks: List[Network], ttl: float, error: Optional[str] = None):
        self.token = token
        self.networks = networks
        self.ttl = ttl
        self.error = error


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
