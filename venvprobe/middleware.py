"""WSGI middleware: wrap any WSGI app (Django, Pyramid, bare WSGI) and answer under a prefix.

    from venvprobe.middleware import ProbeMiddleware
    application = ProbeMiddleware(get_wsgi_application())

Requests under ``prefix`` (default ``/_venvprobe``) go to the probe; all
others go to the wrapped app untouched.  Because it runs inside the app's own
WSGI callable, it always reports exactly the app's interpreter.  It imports
only the standard library (never Flask), and when the app's ``sys.path``
breaks that, the probe answers by naming the file that did it, while the app's
own requests pass through as before.
"""

from __future__ import annotations

DEFAULT_PREFIX = "/_venvprobe"  # the same as venvprobe.probe.config.DEFAULT_PREFIX (imported late)

try:
    from venvprobe.probe.core import Probe
    _IMPORT_ERROR = None
except Exception as _exc:  # a shadowed or broken standard-library module
    Probe = None  # type: ignore[assignment,misc]
    _IMPORT_ERROR = _exc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, Optional

    from venvprobe.probe.config import ProbeConfig


class ProbeMiddleware:
    """Answer probe requests under *prefix*; pass everything else to *app*."""

    def __init__(self, app: Callable, prefix: str = DEFAULT_PREFIX, config: Optional[ProbeConfig] = None):
        self.app = app
        self.prefix = "/" + prefix.strip("/")
        if Probe is None:
            from venvprobe.probe.guard import BrokenProbe

            self.probe = None
            self._broken = BrokenProbe(_IMPORT_ERROR, self.prefix, app)
        else:
            self.probe = Probe(config, mount="middleware")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        prefix = self.prefix
        # The prefix itself or a path under it, without building prefix + "/" per request.
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            if self.probe is None:
                return self._broken(environ, start_response)
            return self.probe.wsgi(environ, start_response, path[len(self.prefix):] or "/")
        return self.app(environ, start_response)
