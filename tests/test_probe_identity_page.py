"""/identity pages are laid out once per content; each request still shows its own timestamp."""

from __future__ import annotations

import pytest

from venvprobe.probe import core
from venvprobe.probe.core import Probe
from venvprobe.render import render


def answer(probe: Probe, fmt: str) -> bytes:
    resp = probe._identity_answer(fmt)
    assert resp.status == "200 OK"
    return resp.body


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_identity_page_is_the_rendered_page(fmt: str, monkeypatch) -> None:
    probe = Probe()
    data = probe.identity()
    for stamp in (data["generated_at"], "2031-01-02T03:04:05.678Z", "1999-12-31T23:59:59.999Z"):
        monkeypatch.setattr(core, "_iso_now", lambda stamp=stamp: stamp)
        page = answer(probe, fmt)
        assert page == render(dict(probe.identity(), generated_at=stamp), fmt, ["identity"],
                              stdlib_only=True).encode("utf-8")
        assert stamp.encode() in page
    assert len(probe._identity_answers) == 1  # laid out once, whatever the timestamp
    # Different content, different page.
    probe.mount = "elsewhere"
    other = answer(probe, fmt)
    assert other == render(dict(probe.identity(), generated_at=stamp), fmt, ["identity"],
                           stdlib_only=True).encode("utf-8")
    assert b"elsewhere" in other
    # A timestamp of another shape (a year past 9999) is rendered as is.
    monkeypatch.setattr(core, "_iso_now", lambda: "10000-01-01T00:00:00.000Z")
    assert answer(probe, fmt) == render(dict(probe.identity(), generated_at="10000-01-01T00:00:00.000Z"), fmt,
                                        ["identity"], stdlib_only=True).encode("utf-8")


def test_identity_memory_stays_flat_over_requests() -> None:
    """The reused masker must not remember per-request strings (the timestamp): RSS grew under load once."""
    import time

    probe = Probe()
    answer(probe, "text")
    remembered = len(probe._identity_collector.masker._memo)
    for _ in range(30):
        time.sleep(0.002)  # a new millisecond: a new generated_at
        answer(probe, "text")
    assert len(probe._identity_collector.masker._memo) == remembered
    assert len(probe._identity_answers) == 1


def test_identity_data_is_the_scrubbed_identity(monkeypatch) -> None:
    """The identity masked once and reused equals masking it whole on every request."""
    import os
    import sys
    import types

    probe = Probe()
    for _ in range(2):
        data = probe.identity()
        collector = probe._identity_collector
        whole = collector.masker.scrub(dict(data, identity=collector.identity()))
        assert data == dict(whole, generated_at=data["generated_at"])
        assert list(data) == ["schema", "generated_at", "identity", "interpreter", "probe"]
    # A new module: a new identity, masked again.
    monkeypatch.setitem(sys.modules, "_mod_wsgi_maskedtest", types.ModuleType("_mod_wsgi_maskedtest"))
    assert "_mod_wsgi_maskedtest" in probe.identity()["identity"]["wsgi_script_modules"]
    monkeypatch.setattr(os, "getppid", lambda: 777)
    assert probe.identity()["identity"]["ppid"] == 777


def test_identity_survives_an_import_racing_its_modules_scan(monkeypatch) -> None:
    """Another thread importing between ``reversed(sys.modules)`` and ``next()`` made /identity a 500
    (48 concurrent first requests under threads, seen in a full run): the identity is collected afresh."""
    import sys

    from venvprobe.collect import identity as identity_mod

    class RacingModules(dict):
        def __reversed__(self):
            raise RuntimeError("dictionary changed size during iteration")

    class RacingSys:
        modules = RacingModules(sys.modules)

        def __getattr__(self, name):
            return getattr(sys, name)

    probe = Probe()
    before = probe.identity()
    monkeypatch.setattr(identity_mod, "sys", RacingSys())
    after = probe.identity()
    assert after["interpreter"] == before["interpreter"]
    assert after["identity"]["pid"] == before["identity"]["pid"]
    assert after["identity"]["server"] == before["identity"]["server"]
