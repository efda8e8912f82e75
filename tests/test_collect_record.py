"""RECORD and INSTALLER as the collector reads them per distribution (its hot loop)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from venvprobe.collect import collector, distributions, metadata
from venvprobe.collect.context import Context


def _hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_known_installer_hashes_are_those_contents() -> None:
    for content in (b"pip\n", b"pip", b"uv\n", b"uv", b"conda\n", b"poetry\n", b"pdm\n"):
        assert metadata._KNOWN_INSTALLERS[_hash(content)] == content.decode().strip()
    assert len(metadata._KNOWN_INSTALLERS) == 7


def _dist(site: Path, name: str, installer: bytes, record_lines: list, list_installer: bool = True) -> str:
    meta = site / f"{name}-1.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n\nlong\n\ndescription\n" % name.encode())
    (meta / "INSTALLER").write_bytes(installer)
    lines = list(record_lines)
    if list_installer:
        lines.append(f"{meta.name}/INSTALLER,sha256={_hash(installer)},{len(installer)}")
    lines.append(f"{meta.name}/RECORD,,")
    (meta / "RECORD").write_text("\n".join(lines) + "\n")
    return str(meta)


def test_installer_from_record_or_from_the_file(tmp_path: Path) -> None:
    c = Context({"foreign": True})
    known = _dist(tmp_path, "known", b"pip\n", [])
    other = _dist(tmp_path, "other", b"my-tool 2.0\n", [])
    unlisted = _dist(tmp_path, "unlisted", b"uv\n", [], list_installer=False)
    assert distributions._dist_info_cached(c, known)["installer"] == "pip"
    assert distributions._dist_info_cached(c, other)["installer"] == "my-tool 2.0"
    assert distributions._dist_info_cached(c, unlisted)["installer"] == "uv"
    # The header ends at the first empty line; the description is not parsed.
    assert distributions._dist_info_cached(c, known)["name"] == "known" and distributions._dist_info_cached(c, known)["version"] == "1.0"


def test_record_top_level_names(tmp_path: Path) -> None:
    meta = _dist(tmp_path, "pkg", b"pip\n", [
        "pkg/__init__.py,sha256=abc,1",
        "pkg/sub/mod.py,sha256=abc,1",
        '"pkg_quoted/a,b.py",sha256=abc,1',
        "single.py,sha256=abc,1",
        "single_ext.cpython-311-x86_64-linux-gnu.so,sha256=abc,1",
        "__pycache__/single.cpython-311.pyc,,",
        "../../../bin/pkg-cli,sha256=abc,1",
        "/etc/absolute.conf,,",
        "extra.pth,sha256=abc,1",
        "other-2.0.dist-info/METADATA,,",
        "data/readme.txt,,",
        "",
    ])
    c = Context({"foreign": True})
    modules, tops, count, direct = distributions._record(c, meta)
    assert modules == ["data", "pkg", "pkg_quoted", "single", "single_ext"]
    assert tops == ["data", "extra.pth", "pkg", "pkg_quoted", "single.py", "single_ext.cpython-311-x86_64-linux-gnu.so"]
    assert count == 13 and direct is False
    assert distributions._record(c, meta, (Path(meta) / "RECORD").read_text()) == (modules, tops, count, direct)
    assert distributions._record(c, str(tmp_path / "missing.dist-info")) == ([], [], 0, False)


def test_identity_is_cached_but_follows_modules_and_pid(monkeypatch) -> None:
    """/identity reuses the last identity while nothing it shows can have changed."""
    import os
    import sys
    import types

    first = collector.Collector({}).identity()
    assert collector.Collector({}).identity() == first
    monkeypatch.setitem(sys.modules, "_mod_wsgi_cachetest", types.ModuleType("_mod_wsgi_cachetest"))
    assert "_mod_wsgi_cachetest" in collector.Collector({}).identity()["wsgi_script_modules"]
    monkeypatch.delitem(sys.modules, "_mod_wsgi_cachetest")
    assert "_mod_wsgi_cachetest" not in collector.Collector({}).identity()["wsgi_script_modules"]
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    assert collector.Collector({}).identity()["pid"] == 4242
