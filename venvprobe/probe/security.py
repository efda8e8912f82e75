"""Who may see a report.  Every denial looks the same from outside: a 404."""

from __future__ import annotations

try:
    # Built in, constant-time, and what hmac.compare_digest falls back to: importing hmac would load
    # OpenSSL (hashlib) into every worker that mounts the probe, ~4 MiB of RSS and ~10 ms.
    from _operator import _compare_digest as compare_digest
except ImportError:  # not CPython
    from hmac import compare_digest
import ipaddress
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path
    from typing import Mapping, Optional, Tuple

from venvprobe.probe.config import ResolvedConfig

# A reverse proxy on the same host connects from loopback: these headers mean
# the real client is somewhere else, so loopback alone proves nothing.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_HOST",
                 "HTTP_X_CLIENT_IP", "HTTP_CLIENT_IP", "HTTP_TRUE_CLIENT_IP", "HTTP_CF_CONNECTING_IP")


def client_address(environ: Mapping[str, object]) -> Optional[ipaddress._BaseAddress]:
    """REMOTE_ADDR as an address (IPv4-mapped IPv6 unwrapped), or None."""
    raw = environ.get("REMOTE_ADDR")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        addr = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped or addr


def authorize(environ: Mapping[str, object], config: ResolvedConfig) -> Tuple[bool, str]:
    """Decide whether this request may see a report; returns (allowed, reason for the log)."""
    if config.error:
        return False, config.error
    addr = client_address(environ)
    if addr is None:
        return False, f"no usable REMOTE_ADDR ({environ.get('REMOTE_ADDR')!r})"
    if config.networks:
        if not any(addr in net for net in config.networks):
            return False, f"{addr} is not in the allowlist"
    if config.token:
        header = environ.get("HTTP_AUTHORIZATION")
        scheme, _, given = (header if isinstance(header, str) else "").partition(" ")
        if scheme.lower() != "bearer" or not compare_digest(given.strip().encode(), config.token.encode()):
            return False, "missing or wrong bearer token"
        return True, "token"
    if not config.networks and not addr.is_loopback:
        return False, f"{addr} is not loopback and no token is configured"
    present = [h for h in PROXY_HEADERS if environ.get(h)]
    if present and addr.is_loopback:
        return False, f"proxy header {present[0][5:]} on a loopback request (a proxy forwards someone else)"
    return True, "allowlist" if config.networks else "loopback"
