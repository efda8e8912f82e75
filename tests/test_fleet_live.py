"""The live probe under gunicorn: snapshot, compare with --samples across real
worker processes, a token, and a worker left on old code after a partial restart."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

import probe_helpers
from test_compare_helpers import cli

REPO = Path(__file__).resolve().parents[1]
TOKEN = "live-t0ken-for-tests"

pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(not (REPO / "venvprobe" / "wsgi.py").exists(), reason="venvprobe/wsgi.py (the probe) not built yet"),
]


def _distinct(rc_out_err) -> int:
    rc, out, _ = rc_out_err
    return len(json.loads(out)["targets"][0]["workers"])


def test_live_probe_under_gunicorn(gunicorn_factory, shared_tmp, monkeypatch):
    venv = probe_helpers.make_probe_venv(shared_tmp / "venv", packages=("venvprobe", "gunicorn"))
    # TTL 0: every request builds a fresh report, so each sample shows its worker as it is now.
    gu = gunicorn_factory(venv, "venvprobe.wsgi:application", workers=3,
                          env={"VENVPROBE_TOKEN": TOKEN, "VENVPROBE_TTL": "0"})
    workers_up = time.time() if len(gu.wait_for_workers(3)) == 3 else time.time() + 5
    url = gu.url + "/"
    exp = shared_tmp / "expectations.toml"

    # Without the token the probe answers 404: could not check.
    monkeypatch.delenv("VENVPROBE_TOKEN", raising=False)
    rc, out, _ = cli("compare", str(REPO / "docs" / "expectations.example.toml"), url, "--retries", "0")
    assert rc == 2 and "HTTP 404" in out

    monkeypatch.setenv("VENVPROBE_TOKEN", TOKEN)
    rc, _, err = cli("snapshot", url, "-o", str(exp))
    assert rc == 0, err
    text = exp.read_text()
    assert f'prefix = "{venv.root}"' in text and 'server = "gunicorn"' in text and "flask = " in text.lower()

    # Several samples reach several real workers; all of them match the snapshot.
    for _ in range(5):
        result = cli("compare", str(exp), url, "--samples", "12", "-f", "json")
        if _distinct(result) >= 2:
            break
    rc, out, err = result
    data = json.loads(out)
    target = data["targets"][0]
    assert rc == 0, out
    assert len(target["workers"]) >= 2
    assert {c["check"]: c["status"] for c in target["checks"]}["workers.identical"] == "pass"

    # A partial restart: the venv's venvprobe source changes, then two of the
    # three workers are restarted and load it anew; the third still runs what
    # it imported before the change.
    pids = gu.wait_for_workers(3)
    assert len(pids) == 3
    # The collector flags a source file only when it changed more than a
    # second after the process started (start times are approximate).
    time.sleep(max(0.0, workers_up + 2.0 - time.time()))
    init = next(Path(venv.site_packages).glob("venvprobe/__init__.py"))
    now = time.time()
    os.utime(init, (now, now))
    time.sleep(0.2)  # the replacements start clearly after the change
    old = pids[0]
    for pid in pids[1:]:
        os.kill(pid, signal.SIGTERM)  # workers of the gunicorn this test started
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = gu.wait_for_workers(3)
        if len(current) == 3 and not set(pids[1:]) & set(current):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"gunicorn did not replace workers {pids[1:]}: now {gu.wait_for_workers(3)}")

    for _ in range(8):
        result = cli("compare", str(exp), url, "--samples", "15", "-f", "json")
        if _distinct(result) == 3:
            break
    rc, out, _ = result
    target = json.loads(out)["targets"][0]
    assert len(target["workers"]) == 3, target["workers"]
    assert rc == 1, out
    checks = {c["check"]: c for c in target["checks"]}
    identical = checks["workers.identical"]
    assert identical["status"] == "fail"
    assert identical["workers"] == [f"pid {old}"]
    assert "code: +venvprobe" in identical["actual"]
    # The old worker also reports the changed source as a finding the snapshot did not allow.
    assert checks["findings.max: warning"]["workers"] == [f"pid {old}"]

    rc, _, err = cli("fetch", url, "--samples", "15", "--output-dir", str(shared_tmp / "workers"))
    assert rc in (0, 1)
    saved = list((shared_tmp / "workers").glob("pid-*.json"))
    assert saved and all(json.loads(p.read_text())["identity"]["server"]["kind"] == "gunicorn" for p in saved)
