"""Flask adapters: an app factory and a blueprint around :class:`~venvprobe.probe.core.Probe`."""

from __future__ import annotations

from typing import Optional

from flask import Blueprint, Flask, Response, request

from venvprobe.probe.config import DEFAULT_PREFIX, ProbeConfig
from venvprobe.probe.core import Probe


def _view(probe: Probe, subpath: str) -> Response:
    """Answer through :meth:`Probe.respond`, which also turns failures into a 500 from the probe only."""
    resp = probe.respond(request.environ, subpath)
    out = Response(resp.body, status=resp.status)
    out.headers.clear()
    for name, value in resp.headers:
        out.headers.add(name, value)
    return out


def make_blueprint(probe: Probe, name: str = "venvprobe") -> Blueprint:
    """A blueprint serving the probe at its root and its sub-resources."""
    bp = Blueprint(name, __name__)

    def root() -> Response:
        return _view(probe, "/")

    def section(section: str) -> Response:
        return _view(probe, "/" + section)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    bp.add_url_rule("/", "root", root, methods=methods, strict_slashes=False)
    bp.add_url_rule("/<section>", "section", section, methods=methods)
    return bp


class VenvProbe:
    """Flask extension: ``VenvProbe(app)`` or ``VenvProbe().init_app(app)``.

    Serves the probe at ``url_prefix`` (default ``/_venvprobe``) inside the
    host Flask app, so it reports exactly the app's interpreter.
    """

    def __init__(self, app: Optional[Flask] = None, url_prefix: str = DEFAULT_PREFIX,
                 config: Optional[ProbeConfig] = None):
        self.url_prefix = url_prefix
        self.probe = Probe(config, mount="blueprint")
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.register_blueprint(make_blueprint(self.probe), url_prefix=self.url_prefix)


def create_app(config: Optional[ProbeConfig] = None, mount: str = "wsgi-script") -> Flask:
    """A Flask app that is only the probe, served at its root.

    Used by :mod:`venvprobe.wsgi` (``WSGIScriptAlias /_venvprobe ...``),
    gunicorn (``venvprobe.wsgi:application``) and ``venvprobe serve``.
    """
    app = Flask("venvprobe")
    probe = Probe(config, mount=mount)
    app.extensions["venvprobe"] = probe
    app.register_blueprint(make_blueprint(probe))

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return Response("Not Found\n", status=404, mimetype="text/plain", headers={"Cache-Control": "no-store"})

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return Response("Not Found\n", status=404, mimetype="text/plain", headers={"Cache-Control": "no-store"})

    return app
