# App 2, wrapped by the probe middleware: /app2/_venvprobe/ reports this app's own interpreter.
from venvprobe.middleware import ProbeMiddleware


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from app2\n"]


application = ProbeMiddleware(app)
