"""Both expectation writers (snapshot, check-apache/check-uwsgi --expectations) share one TOML writer,
and any path -- non-ASCII, emoji, quotes, backslashes, controls, glob characters -- round-trips."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline_helpers import run_cli, write_app
from test_analyze_report import _entry, mini_report
from venvprobe.compare import FAIL, compare
from venvprobe.expectations import load_file, loads
from venvprobe.offline.expect import render_toml, validate
from venvprobe.snapshot import snapshot
from venvprobe.tomlwrite import toml_key, toml_string, toml_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

AWKWARD = "/srv/café/🐍 \"quoted\" 'single' back\\slash/tab\there/*[x]?/日本"
# Any text a path can hold (no NUL) plus the characters that trip TOML writers up.
paths = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40).map(
    lambda s: "/" + s) | st.sampled_from([AWKWARD, "/a\\", '/"', "/\\u00e9", "/x\x7fy", "/line\nbreak", "/🐍🐍"])


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",))), st.text(st.characters(blacklist_categories=("Cs",))))
def test_writer_round_trips_any_text(key, value):
    doc = tomllib.loads(f"{toml_key(key or 'k')} = {toml_string(value)}\nt = {toml_value({key or 'k': [value, True, 3]})}\n")
    assert doc[key or "k"] == value and doc["t"] == {key or "k": [value, True, 3]}


def test_undecodable_names_are_refused_not_written():
    with pytest.raises(ValueError, match="U\\+DCFF"):
        toml_string("/srv/caf\udcff")


def _report(path: str) -> dict:
    r = mini_report()
    r["interpreter"]["prefix"] = path
    r["sys_path"]["entries"][2] = _entry(2, path + "/lib/python3.11/site-packages", "venv_site")
    return r


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths)
def test_snapshot_round_trips_paths(path):
    report = _report(path)
    text = snapshot(report, source=path)
    exp = loads(text, "snapshot")
    assert [r for r in compare(exp, report) if r.status == FAIL] == []
    pinned = tomllib.loads(text)["interpreter"]["prefix"]
    assert pinned in (path, {"equals": path})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths)
def test_config_expectations_round_trip_paths(path):
    site = path + "/lib/python3.11/site-packages"
    text = render_toml(f"mod_wsgi app {path}", {"server": "mod_wsgi", "process_group": path, "user": path},
                       {"python": "3.11", "in_venv": True, "prefix": path}, [site], source=path)
    assert validate(text, "generated") is None, text
    doc = tomllib.loads(text)
    assert doc["identity"]["process_group"] == path and doc["interpreter"]["prefix"] in (path, {"equals": path})
    report = _report(path)
    report["identity"]["server"]["process_group"] = path
    report["process"] = {"user": path}
    assert [r for r in compare(loads(text, "generated"), report) if r.status == FAIL] == []


def test_check_apache_expectations_with_an_emoji_home(tmp_path):
    """The reported bug: a python-home with an emoji made check-apache write TOML it could not read."""
    home = tmp_path / "vénv 🐍"
    (home / "bin").mkdir(parents=True)
    (home / "pyvenv.cfg").write_text(f"home = {os.path.dirname(sys.executable)}\nversion = 3.11.0\n")
    write_app(tmp_path)
    conf = tmp_path / "site.conf"
    conf.write_text(f'WSGIDaemonProcess shop python-home="{home}"\n'
                    f'WSGIScriptAlias /shop {tmp_path}/app.wsgi process-group=shop application-group=%{{GLOBAL}}\n')
    out = tmp_path / "exp"
    rc, text, err = run_cli("check-apache", str(conf), "--expectations", str(out), "--no-predict", "--no-confirm",
                            "--format", "json")
    assert rc in (0, 1), err
    (written,) = sorted(Path(out).iterdir())
    exp = load_file(str(written))  # it loads (it exited 2, "not valid TOML", before)
    assert tomllib.loads(written.read_text(encoding="utf-8"))["interpreter"]["prefix"] == str(home)
    assert "🐍" in written.read_text(encoding="utf-8")  # written as UTF-8, not as \\ud83d surrogate escapes
    assert json.loads(text)["facts"]["apps"][0]["python_home"] == str(home) and exp
