"""/identity pages are laid out once per content; each request still shows its own timestamp."""

from __future__ import annotations

import pytest

from venvprobe.probe.core import Probe
from venvprobe.render import render


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_identity_page_is_the_rendered_page(fmt: str) -> None:
    probe = Probe()
    data = probe.identity()
    for stamp in (data["generated_at"], "2031-01-02T03:04:05.678Z", "1999-12-31T23:59:59.999Z"):
        now = dict(data, generated_at=stamp)
        page = probe._identity_page(now, fmt)
        assert page == render(now, fmt, ["identity"], stdlib_only=True).encode("utf-8")
        assert stamp.encode() in page
    assert len(probe._identity_pages) == 1  # laid out once, whatever the timestamp
    # Different content, different page.
    other = dict(data, probe={"mount": "elsewhere"})
    assert probe._identity_page(other, fmt) == render(other, fmt, ["identity"], stdlib_only=True).encode("utf-8")
    # A timestamp of another shape is rendered as is.
    odd = dict(data, generated_at="yesterday")
    assert probe._identity_page(odd, fmt) == render(odd, fmt, ["identity"], stdlib_only=True).encode("utf-8")


def test_identity_memory_stays_flat_over_requests() -> None:
    """The reused masker must not remember per-request strings (the timestamp): RSS grew under load once."""
    import time

    probe = Probe()
    probe._identity_page(probe.identity(), "text")
    remembered = len(probe._identity_collector.masker._memo)
    for _ in range(30):
        time.sleep(0.002)  # a new millisecond: a new generated_at
        probe._identity_page(probe.identity(), "text")
    assert len(probe._identity_collector.masker._memo) == remembered
    assert len(probe._identity_pages) == 1


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
