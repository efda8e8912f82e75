"""What several sub-commands share, so that command modules never import each other.

The options for reaching probe URLs and ``--python`` targets (``fetch``,
``compare``, ``diff``, ``snapshot``) and the FetchOptions they give; the
embedding Python and the user to check as (``check-home``, ``check-apache``,
``explain-log``).  :mod:`venvprobe.fleet` (http, ssl) is imported where it is
used: the offline commands import this module too, and start-up counts.
"""

from __future__ import annotations

import os
import sys

from venvprobe.commands import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Callable, List, Optional, Sequence

    from venvprobe.fleet import FetchOptions, Target, TargetResult


def add_fetch_options(p: argparse.ArgumentParser, samples: bool = True) -> None:
    """Options for reaching probe URLs (and --python collection)."""
    from venvprobe.fleet import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, TOKEN_ENV

    g = p.add_argument_group("fetching (probe URLs, --python)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"per request, whole answer included (default: {DEFAULT_TIMEOUT:g})")
    g.add_argument("--retries", type=int, default=1, metavar="N",
                   help="extra attempts after a transient failure: refused, timeout, 5xx (default: 1)")
    g.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight at once (default: 8)")
    if samples:
        g.add_argument("--samples", type=int, default=1, metavar="N",
                       help="ask each URL N times (concurrently) to reach its different worker processes")
    g.add_argument("--cacert", metavar="FILE", help="CA certificate(s) to trust for https probes (PEM)")
    g.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (warns)")
    g.add_argument("--token-file", metavar="FILE", help=f"file holding the probe's bearer token (default: ${TOKEN_ENV}, else for 127.0.0.1/localhost "
                        "URLs the token file the probe made for this user)")
    g.add_argument("--token", metavar="TOKEN", help="the token itself (works, but warns: it shows in `ps`)")
    g.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"largest answer accepted (default: {DEFAULT_MAX_BYTES >> 20} MiB)")
    g.add_argument("--python-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="seconds to wait for --python collection (default: 60)")


def warn(command: str, message: str) -> None:
    """One warning line on stderr."""
    from venvprobe.render.safe import one_line

    print(f"venvprobe {command}: warning: {one_line(message)}", file=sys.stderr)


def options_from_args(args: argparse.Namespace, urls: Sequence[str] = ()) -> FetchOptions:
    """FetchOptions from parsed options; prints the token/TLS warnings (UsageError on bad values)."""
    from venvprobe.fleet import FetchOptions, is_url, resolve_token, token_warnings

    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    samples = getattr(args, "samples", 1)
    if samples < 1:
        raise UsageError("--samples must be at least 1")
    if args.max_bytes < 1024:
        raise UsageError("--max-bytes must be at least 1024")
    if args.insecure and args.cacert:
        raise UsageError("--insecure and --cacert contradict each other")
    token, warnings = resolve_token(args.token, args.token_file)
    if token is None:
        token = _own_probe_token([u for u in urls if is_url(u)])
    for message in warnings + token_warnings([u for u in urls if is_url(u)], token):
        warn(args.command, message)
    if args.insecure and any(u.startswith("https://") for u in urls):
        warn(args.command, "--insecure: TLS certificates are not verified, anyone on the network path "
                           "can pose as the probe" + (" and receive the token" if token else ""))
    options = FetchOptions(timeout=args.timeout, retries=args.retries, cacert=args.cacert, insecure=args.insecure,
                           token=token, max_bytes=args.max_bytes, concurrency=args.concurrency, samples=samples,
                           python_timeout=args.python_timeout)
    if any(u.startswith("https://") for u in urls):
        options.ssl_context()  # a bad --cacert stops the command here, once, not at every target
    return options


def _own_probe_token(urls: Sequence[str]) -> Optional[str]:
    """The token a probe of this user on this host made for itself, for loopback URLs only.

    That file (``~/.config/venvprobe/probe.token`` or
    ``$TMPDIR/venvprobe-<uid>/probe.token``, mode 0600) is what lets a person
    on the host, running as the app's user, fetch without configuring
    anything; it is never sent to another host.
    """
    import urllib.parse

    from venvprobe.fleet import is_loopback
    from venvprobe.probe.config import find_default_token

    if not urls or not all(is_loopback(urllib.parse.urlsplit(u).hostname) for u in urls):
        return None
    return find_default_token(create=False)[0]


def fetch_targets(targets: List[Target], options: FetchOptions, reanalyze: bool = True,
                  on_target: Optional[Callable[[int, TargetResult], None]] = None) -> List[TargetResult]:
    """gather() with a progress line when stderr is a terminal."""
    import dataclasses

    from venvprobe.fleet import Progress, gather

    total = sum(options.samples if t.kind == "url" else 1 for t in targets)

    def retried(index: int, result: TargetResult) -> TargetResult:
        # A probe makes its own token on its first request: if this request
        # was that one, the token is there now.  Asked once more with it.
        if options.token is None and result.error and " 404 " in result.error and targets[index].kind == "url":
            token = _own_probe_token([t.value for t in targets if t.kind == "url"])
            if token:
                again = dataclasses.replace(options, token=token)
                result = gather([targets[index]], again, progress=Progress(0), reanalyze=reanalyze)[0]
        return result

    if on_target is None:
        results = gather(targets, options, progress=Progress(total), reanalyze=reanalyze)
        return [retried(i, r) for i, r in enumerate(results)]
    return gather(targets, options, progress=Progress(total), reanalyze=reanalyze,
                  on_target=lambda i, r: on_target(i, retried(i, r)))


def resolve_embedder(python: "str | None", mod_wsgi: "str | None", uwsgi_plugin: "str | None", server: str):
    """The Embedder chosen by the options (None when nothing is installed to compare with); EmbedError."""
    from venvprobe.offline import embed

    if python:
        return embed.from_python(python)
    if mod_wsgi:
        return embed.from_mod_wsgi(mod_wsgi)
    if uwsgi_plugin or server == "uwsgi":
        return embed.from_uwsgi(uwsgi_plugin or "python3")
    if os.path.exists(embed.DEFAULT_MOD_WSGI):
        return embed.from_mod_wsgi()
    return None


def resolve_user(name: "str | None"):
    """The user to check as: --user, else Apache's configured user (UnknownUser)."""
    from venvprobe.offline.access import lookup_user
    from venvprobe.offline.apache_config import default_apache_user

    return lookup_user(name or default_apache_user())
