"""A WSGI app served by gunicorn from the venv, with the probe under /_venvprobe."""

from venvprobe.middleware import ProbeMiddleware


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from gunicorn\n"]


application = ProbeMiddleware(hello)
