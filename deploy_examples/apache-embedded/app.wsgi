# Wrapped by the probe middleware: /_venvprobe/ reports the embedded interpreter.
from venvprobe.middleware import ProbeMiddleware


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from the embedded app\n"]


application = ProbeMiddleware(app)
