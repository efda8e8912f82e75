"""A Flask app with the probe as an extension (a blueprint under /_venvprobe)."""

from flask import Flask

from venvprobe.probe import VenvProbe

app = Flask(__name__)
VenvProbe(app)  # or: probe = VenvProbe(); probe.init_app(app)


@app.route("/")
def index() -> str:
    return "hello from flask\n"
