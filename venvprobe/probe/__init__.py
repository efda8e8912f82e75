"""The probe: a WSGI endpoint that reports the interpreter it runs in.

Ways to mount it (see README and deploy_examples/):

- ``venvprobe.wsgi.application`` — a WSGI script of its own (Flask app);
- :class:`venvprobe.middleware.ProbeMiddleware` — wraps any WSGI app and answers
  under ``/_venvprobe``; guarantees the app's own interpreter;
- :class:`VenvProbe` — a Flask extension (blueprint) for Flask apps;
- ``venvprobe serve`` — a quick local look.
"""

from venvprobe.probe.config import DEFAULT_PREFIX, ProbeConfig
from venvprobe.probe.core import Probe

__all__ = ["DEFAULT_PREFIX", "Probe", "ProbeConfig", "VenvProbe", "create_app"]


def __getattr__(name: str):
    # Flask is imported only by those who ask for the Flask adapters, so the
    # middleware never pulls Flask into a Django or Pyramid process.
    if name in ("VenvProbe", "create_app"):
        from venvprobe.probe import flask_app

        return getattr(flask_app, name)
    raise AttributeError(name)
