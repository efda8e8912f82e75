"""WSGI middleware: wrap any WSGI app (Django, Pyramid, bare WSGI) and answer under a prefix.

    from venvprobe.middleware import ProbeMiddleware
    application = ProbeMiddleware(get_wsgi_application())

Requests under ``prefix`` (default ``/_venvprobe``) go to the probe; all
others go to the wrapped app untouched.  Because it runs inside the app's own
WSGI callable, it always reports exactly the app's interpreter.  It does not
import Flask.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from venvprobe.probe.config import DEFAULT_PREFIX, ProbeConfig
from venvprobe.probe.core import Probe


class ProbeMiddleware:
    """Answer probe requests under *prefix*; pass everything else to *app*."""

    def __init__(self, app: Callable, prefix: str = DEFAULT_PREFIX, config: Optional[ProbeConfig] = None):
        self.app = app
        self.prefix = "/" + prefix.strip("/")
        self.probe = Probe(config, mount="middleware")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return self.probe.wsgi(environ, start_response, path[len(self.prefix):] or "/")
        return self.app(environ, start_response)
