# The application. Anything WSGI works; this one is tiny on purpose.
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from the app\n"]
