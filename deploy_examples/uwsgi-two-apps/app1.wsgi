# App 1, wrapped by the probe middleware: /app1/_venvprobe/ reports this app's own interpreter.
from venvprobe.middleware import ProbeMiddleware


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from app1\n"]


application = ProbeMiddleware(app)
