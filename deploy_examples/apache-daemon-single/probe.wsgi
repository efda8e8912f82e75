from venvprobe.wsgi import application  # noqa: F401
