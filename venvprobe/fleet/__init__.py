"""Get reports from many places at once: probe URLs, files, stdin, interpreters.

Used by ``venvprobe compare``, ``fetch``, ``diff`` and ``snapshot``; this
package's names are its public face, the work is in its modules:

- :mod:`~venvprobe.fleet.options`: FetchOptions, FetchError, the bearer token and its warnings
- :mod:`~venvprobe.fleet.http`: one report from a probe URL (standard library only: a per-target
  deadline that also catches servers that drip bytes, a cap on what is read, retries with backoff
  for transient errors, TLS verification with ``--cacert`` or, warned, ``--insecure``)
- :mod:`~venvprobe.fleet.targets`: where a report comes from (URL, file, stdin, ``python:PATH``)
- :mod:`~venvprobe.fleet.gather`: every target fetched by a bounded thread pool, ``samples``
  requests per URL sent together so that they land on different worker processes

Which workers were seen and which ones differ is :mod:`venvprobe.workers`
(no network: ``compare`` uses it without this package).
"""

from __future__ import annotations

from venvprobe.fleet.gather import Progress, TargetResult, gather
from venvprobe.fleet.http import MAX_RETRY_AFTER, fetch_json, fetch_report, is_url, retry_after_seconds, validate_report
from venvprobe.fleet.options import (DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, TOKEN_ENV, FetchError, FetchOptions, is_loopback,
                                     resolve_token, token_warnings)
from venvprobe.fleet.targets import Target, load_target, parse_targets

__all__ = [
    "DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "MAX_RETRY_AFTER", "TOKEN_ENV", "FetchError", "FetchOptions", "Progress",
    "Target", "TargetResult", "fetch_json", "fetch_report", "gather", "is_loopback", "is_url", "load_target",
    "parse_targets", "resolve_token", "retry_after_seconds", "token_warnings", "validate_report",
]
