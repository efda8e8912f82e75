"""Real Apache + mod_wsgi: an app whose directory (holding a stray random.py) goes first on sys.path,
and the installed probe in the same process group and application group.  Before issue 8 the probe
died at import (Flask -> Werkzeug -> ``from random import random``) and mod_wsgi sent its bare 500."""

from __future__ import annotations

import json

import pytest

import probe_helpers as ph
import servers

JSON = {"Accept": "application/json"}

APP_WSGI = """import os, sys
# The app's own directory first on sys.path (what many deploy scripts do).
sys.path.insert(0, os.path.dirname(__file__))
import random  # the app's random.py

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("app picked %d\\n" % random.pick()).encode()]
"""

PROBE_WSGI = """import os, sys
sys.path.insert(0, os.path.dirname(__file__))
from venvprobe.wsgi import application  # noqa: F401
"""


@pytest.mark.servers
def test_apache_probe_answers_with_random_py_first_on_sys_path(apache_factory, shared_tmp):
    app = ph.copy_example("apache-daemon-single", shared_tmp)
    venv = ph.make_probe_venv(shared_tmp / "venv")
    (app / "random.py").write_text("def pick():\n    return 4\n")
    (app / "app.wsgi").write_text(APP_WSGI)
    (app / "probe.wsgi").write_text(PROBE_WSGI)
    servers.make_world_readable(shared_tmp)
    apache = apache_factory((app / "apache.conf").read_text())

    status, _, body = apache.get("/")
    assert (status, body) == (200, b"app picked 4\n"), apache.logs()
    auth = ph.bearer_for(apache)  # the probe's own token, as a person on the host reads it
    status, headers, body = apache.get("/_venvprobe/", headers=dict(JSON, **auth), timeout=30)
    assert status == 200, f"{status}: {body[:2000]!r}\n{apache.logs()}"
    assert headers["content-type"] == "application/json"
    report = json.loads(body)
    assert report["interpreter"]["prefix"] == str(venv.root)
    ident = report["identity"]
    assert ident["server"]["kind"] == "mod_wsgi" and ident["server"]["process_group"] == "myapp"
    assert ident["server"]["application_group"] == "" and ident["main_interpreter"] is True
    # Same interpreter as the app: both scripts are loaded there.
    assert {str(app / "app.wsgi"), str(app / "probe.wsgi")} <= {s["file"] for s in report["modules"]["wsgi_scripts"]}
    shadow = [f for f in report["findings"] if f["code"] == "stdlib-shadowed"]
    assert len(shadow) == 1 and shadow[0]["severity"] == "error", report["findings"]
    assert shadow[0]["message"].startswith(f"standard-library module random is shadowed by {app}/random.py")
    # Nothing outside the standard library was imported to answer.
    loaded = {m["name"] for m in report["modules"]["top_level"]}
    assert not loaded & {"flask", "werkzeug", "jinja2", "tabulate", "psutil"}, sorted(loaded)
    # Every format answers.
    for fmt in ("text", "html", "markdown"):
        status, _, body = apache.get(f"/_venvprobe/?format={fmt}", headers=auth, timeout=30)
        assert status == 200 and f"{app}/random.py".encode() in body, (fmt, status, body[:500])
