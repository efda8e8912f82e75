"""How targets are fetched (FetchOptions), the error of a target that cannot be had, and the bearer token.

The token comes from ``--token``, ``--token-file`` or ``$VENVPROBE_TOKEN``; a
warning names every host it would reach in clear text.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import urllib.parse
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from venvprobe.errors import VenvprobeError

TOKEN_ENV = "VENVPROBE_TOKEN"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 32 << 20


class FetchError(VenvprobeError):
    """A target could not be read (unreachable, timeout, not a report): one line of text."""

    def __init__(self, message: str, retry: bool = False, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)


@dataclass
class FetchOptions:
    """How targets are fetched; defaults suit a deploy pipeline."""

    timeout: float = DEFAULT_TIMEOUT  # per request, whole response included
    retries: int = 1  # extra attempts after a transient failure
    backoff: float = 0.5  # seconds before the first retry, doubled after each
    cacert: Optional[str] = None
    insecure: bool = False
    token: Optional[str] = None
    max_bytes: int = DEFAULT_MAX_BYTES
    concurrency: int = 8
    samples: int = 1
    python_timeout: float = 60.0
    _context: Optional[ssl.SSLContext] = field(default=None, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for https targets (built once; FetchError for a bad --cacert)."""
        if self._context is None:
            if self.insecure:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                try:
                    ctx = ssl.create_default_context(cafile=self.cacert)
                except FileNotFoundError:
                    raise FetchError(f"--cacert {self.cacert!r} does not exist") from None
                except (ssl.SSLError, OSError) as exc:
                    raise FetchError(f"--cacert {self.cacert!r} is not a PEM certificate file: {exc}") from None
            self._context = ctx
        return self._context


def resolve_token(token: Optional[str] = None, token_file: Optional[str] = None,
                  environ: Optional[Dict[str, str]] = None) -> Tuple[Optional[str], List[str]]:
    """The bearer token to send, and warnings to show.

    Order: ``--token`` (works, but warns: it shows in ``ps`` and shell
    history), ``--token-file``, then the ``VENVPROBE_TOKEN`` variable.
    """
    env = os.environ if environ is None else environ
    warnings: List[str] = []
    if token:
        warnings.append("--token puts the token on the command line, where `ps` and shell history show it; "
                        f"prefer ${TOKEN_ENV} or --token-file")
        return token.strip(), warnings
    if token_file:
        try:
            from venvprobe.safeio import open_regular

            with open_regular(token_file) as handle:
                data = handle.read(64 << 10)
            mode = os.stat(token_file).st_mode
        except FileNotFoundError:
            raise FetchError(f"--token-file {token_file!r} does not exist") from None
        except OSError as exc:
            raise FetchError(f"cannot read --token-file {token_file!r}: {exc.strerror or exc}") from None
        value = data.decode("utf-8", "replace").strip()
        if not value:
            raise FetchError(f"--token-file {token_file!r} is empty")
        if mode & 0o077:
            warnings.append(f"token file {token_file} is readable by other users (chmod 600 it)")
        return value, warnings
    value = (env.get(TOKEN_ENV) or "").strip()
    return (value or None), warnings


def is_loopback(host: Optional[str]) -> bool:
    """True for localhost and loopback addresses: where a token may go in clear text."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_warnings(urls: Sequence[str], token: Optional[str]) -> List[str]:
    """Warn for each host a token would be sent to in clear text."""
    if not token:
        return []
    out = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            out.append(f"the token is sent unencrypted to {parts.hostname} (http, not https)")
    return sorted(set(out))


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "TOKEN_ENV", "FetchError", "FetchOptions", "is_loopback", "resolve_token",
           "token_warnings"]
