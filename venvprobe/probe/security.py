"""Who may see a report.  Every denial looks the same from outside: a 404.

Threat model (README, "Security"): anyone who can open a TCP connection to
the app, directly or through any proxy, is a stranger unless they present the
probe's token or come from an address the operator explicitly allowlisted.
Loopback proves nothing by itself: a reverse proxy on the same host connects
from loopback for everyone.

Standard library only: this module is bundled into the single-file probe.
"""

from __future__ import annotations

try:
    # Built in, constant-time, and what hmac.compare_digest falls back to: importing hmac would load
    # OpenSSL (hashlib) into every worker that mounts the probe, ~4 MiB of RSS and ~10 ms.
    from _operator import _compare_digest as compare_digest
except ImportError:  # not CPython
    from hmac import compare_digest  # type: ignore[no-redef]  # one name, two sources
import ipaddress

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: not on the probe's request path
    from typing import List, Mapping, Optional, Tuple, Union

    from venvprobe.probe.config import ResolvedConfig

    Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# Headers that carry the address of the client a proxy forwards for.
CLIENT_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_TRUE_CLIENT_IP",
                  "HTTP_CF_CONNECTING_IP", "HTTP_FASTLY_CLIENT_IP", "HTTP_X_ENVOY_EXTERNAL_ADDRESS",
                  "HTTP_X_CLIENT_IP", "HTTP_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP",
                  "HTTP_X_ORIGINAL_FORWARDED_FOR", "HTTP_X_PROXYUSER_IP", "HTTP_X_AZURE_CLIENTIP",
                  "HTTP_X_APPENGINE_USER_IP")
# Any other header that says "a proxy or CDN handled this request".  Present
# at all (even empty) is enough: the connection is not the client.
PROXY_HEADERS = CLIENT_HEADERS + ("HTTP_VIA", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO",
                                  "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_SERVER", "HTTP_X_FORWARDED_SSL",
                                  "HTTP_X_FORWARDED_SCHEME", "HTTP_X_FORWARDED_PREFIX", "HTTP_FRONT_END_HTTPS",
                                  "HTTP_X_ORIGINAL_URL", "HTTP_X_ORIGINAL_HOST", "HTTP_CDN_LOOP",
                                  "HTTP_X_REAL_PORT", "HTTP_X_URL_SCHEME", "HTTP_X_SCHEME")
PROXY_PREFIXES = ("HTTP_X_FORWARDED_", "HTTP_X_ENVOY_", "HTTP_FASTLY_", "HTTP_CF_", "HTTP_X_AMZN_",
                  "HTTP_X_AZURE_", "HTTP_AKAMAI_", "HTTP_X_AKAMAI_", "HTTP_X_ORIGINAL_", "HTTP_X_REAL_",
                  "HTTP_X_APPENGINE_", "HTTP_X_CLOUD_TRACE", "HTTP_X_VARNISH", "HTTP_X_HAPROXY_",
                  "HTTP_X_NGINX_", "HTTP_X_PROXY_")


def _parse_address(raw: str) -> Optional[Address]:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``::1``), IPv4-mapped unwrapped."""
    text = raw.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    return getattr(addr, "ipv4_mapped", None) or addr


def client_address(environ: Mapping[str, object]) -> Optional[Address]:
    """REMOTE_ADDR as an address (IPv4-mapped IPv6 unwrapped), or None."""
    return _client(environ)[0]


def _client(environ: Mapping[str, object]) -> Tuple[Optional[Address], bool]:
    """(client_address(environ), whether it is loopback)."""
    raw = environ.get("REMOTE_ADDR")
    if raw.__class__ is not str or len(raw) > 64:  # a str subclass may hash as it likes; no address is longer
        addr = _client_address(raw)
        return addr, addr is not None and bool(addr.is_loopback)
    # Parsing with ipaddress cost a third of a probe request; a server sees few
    # distinct client addresses, and the parsed ones are immutable.
    known = _ADDRESSES.get(raw)
    if known is None:
        addr = _client_address(raw)
        known = (addr, addr is not None and bool(addr.is_loopback))
        if len(_ADDRESSES) >= _MAX_ADDRESSES:
            _ADDRESSES.clear()
        _ADDRESSES[raw] = known
    return known


_ADDRESSES: dict = {}
_MAX_ADDRESSES = 1024


def _client_address(raw: object) -> Optional[Address]:
    if not isinstance(raw, str) or not raw or ":" in raw and raw.count(":") == 1:
        return None
    try:
        addr = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped or addr


def proxy_headers(environ: Mapping[str, object]) -> List[str]:
    """The proxy-revealing headers present in this request (names as in the environ)."""
    # Looking at every key in Python was the most expensive step of a probe request
    # (~31K instructions for gunicorn's ~25 keys).  A server sends few distinct sets of
    # header names: the answer is remembered per tuple of keys (built and compared in C;
    # the WSGI keys are the same objects every request, header names compare by memcmp).
    try:
        names = tuple(environ)
        known = _PROXY_SEEN.get(names)
    except TypeError:  # an unhashable key
        return _proxy_headers(environ)
    if known is None:
        found = _proxy_headers(environ)
        # Only plain str keys (a str subclass may hash and compare as it likes), and
        # bounded (under 1 MiB however the names are chosen): at most 64 names of at
        # most 64 characters each, 128 sets.
        if len(names) <= 64 and all(name.__class__ is str and len(name) <= 64 for name in names):
            if len(_PROXY_SEEN) >= _MAX_PROXY_SEEN:
                _PROXY_SEEN.clear()
            _PROXY_SEEN[names] = tuple(found)
        return found
    return list(known)


_PROXY_SEEN: dict = {}  # tuple(environ) -> the proxy headers in it
_MAX_PROXY_SEEN = 128


def _proxy_headers(environ: Mapping[str, object]) -> List[str]:
    found = []
    for name in environ:
        # Every key is looked at on every request: plain str keys (all of them,
        # from a real server) are tested with the set; anything else as before.
        if name.__class__ is str:
            if name.startswith("HTTP_") and (name in _PROXY_NAMES or name.startswith(PROXY_PREFIXES)):
                found.append(name)
        elif isinstance(name, str) and name.startswith("HTTP_") and (
                name in PROXY_HEADERS or name.startswith(PROXY_PREFIXES)):
            found.append(name)
    if len(found) > 1:
        found.sort()
    return found


_PROXY_NAMES = frozenset(PROXY_HEADERS)


def forwarded_clients(environ: Mapping[str, object]) -> Tuple[List[Address], Optional[str]]:
    """Every client address the proxy headers name, or a reason they cannot be judged."""
    addrs: List[Address] = []
    for name in CLIENT_HEADERS:
        if name not in environ:
            continue
        value = environ.get(name)
        if not isinstance(value, str) or not value.strip():
            return [], "empty %s" % name[5:]
        if name == "HTTP_FORWARDED":
            items = []
            for element in value.split(","):
                for pair in element.split(";"):
                    key, _, val = pair.strip().partition("=")
                    if key.strip().lower() == "for":
                        items.append(val)
            if not items:
                return [], "Forwarded without for="
        else:
            items = value.split(",")
        for item in items:
            addr = _parse_address(item)
            if addr is None:
                return [], "%s names %r, not an address" % (name[5:], item.strip()[:60])
            addrs.append(addr)
    if not addrs:
        return [], "proxy headers but no client address"
    return addrs, None


def _token_ok(environ: Mapping[str, object], token: str) -> bool:
    header = environ.get("HTTP_AUTHORIZATION")
    scheme, _, given = (header if isinstance(header, str) else "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    given = given.strip()
    try:
        # ASCII text is compared as it is (what its UTF-8 bytes would compare as), without two encodes.
        return compare_digest(given, token)
    except TypeError:  # a non-ASCII character on either side
        return compare_digest(given.encode(), token.encode())


def authorize(environ: Mapping[str, object], config: ResolvedConfig) -> Tuple[bool, str]:
    """Decide whether this request may see a report; returns (allowed, reason for the log).

    - an allowlist (VENVPROBE_ALLOW) admits its addresses; a request that
      shows proxy headers is admitted only if the connecting proxy *and* every
      client address it forwards are allowlisted;
    - a configured token must be presented as ``Authorization: Bearer``; it
      is the authentication, from wherever it comes;
    - with nothing configured, the probe's own token, from loopback, with no
      proxy header: a person on this host who can read the app user's file.
    """
    if config.error:
        return False, config.error
    addr, loopback = _client(environ)
    if addr is None:
        return False, f"no usable REMOTE_ADDR ({str(environ.get('REMOTE_ADDR'))[:60]!r})"
    proxied = proxy_headers(environ)
    if config.networks:
        if not any(addr in net for net in config.networks):
            return False, f"{addr} is not in the allowlist"
        if proxied:
            clients, problem = forwarded_clients(environ)
            if problem:
                return False, f"proxy header {proxied[0][5:]} from {addr}: {problem}"
            for client in clients:
                if not any(client in net for net in config.networks):
                    return False, f"{client} (forwarded by {addr}) is not in the allowlist"
    if config.token_source == "default" and (proxied or not loopback):
        # The probe's own token is the way in for a person on this host; an
        # operator who wants remote access configures a token or an allowlist.
        why = f"proxy header {proxied[0][5:]}" if proxied else f"{addr} is not loopback"
        return False, f"{why}, and only a token or allowlist configured on purpose admits that"
    if config.token:
        if not _token_ok(environ, config.token):
            where = f" (the probe's token is in {config.token_path})" if config.token_source == "default" else ""
            return False, "missing or wrong bearer token" + where
        return True, "token"
    if not config.networks:
        return False, "no token and no allowlist configured"
    return True, "allowlist"
