"""The probe: a WSGI endpoint that reports the interpreter it runs in.

Ways to mount it (see README and deploy_examples/):

- ``venvprobe.wsgi.application`` — a WSGI script of its own (no framework);
- :class:`venvprobe.middleware.ProbeMiddleware` — wraps any WSGI app and answers
  under ``/_venvprobe``; guarantees the app's own interpreter;
- :class:`VenvProbe` — a Flask extension (blueprint) for Flask apps;
- ``venvprobe serve`` — a quick local look;
- ``venvprobe probe-script`` — one standard-library-only file, nothing installed.

Nothing is imported here up front: :mod:`venvprobe.probe.guard` must stay
importable when the rest cannot be (a shadowed standard-library module), and
Flask is imported only by those who ask for the Flask adapters.
"""

__all__ = ["DEFAULT_PREFIX", "Probe", "ProbeApp", "ProbeConfig", "VenvProbe", "create_app"]

_WHERE = {"DEFAULT_PREFIX": "config", "ProbeConfig": "config", "Probe": "core", "ProbeApp": "core",
          "VenvProbe": "flask_app", "create_app": "flask_app"}


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(name)
    module = __import__("venvprobe.probe." + where, fromlist=[name])
    return getattr(module, name)
