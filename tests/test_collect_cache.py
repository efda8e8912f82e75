"""The per-interpreter .dist-info cache must never serve stale facts after a (re)install."""

from __future__ import annotations

import os
import sys

from venvprobe.collect.collector import collect


def _dist_info(site, name, version):
    meta = site / f"{name}-{version}.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    (meta / "RECORD").write_text(f"{name}/__init__.py,,\n{meta.name}/METADATA,,\n")
    return meta


def _versions(report, name):
    return [d.get("version") for d in report["distributions"] if d.get("name") == name]


def test_reinstall_and_upgrade_are_seen(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "cachepkg").mkdir()
    (site / "cachepkg" / "__init__.py").write_text("")
    meta = _dist_info(site, "cachepkg", "1.0")
    monkeypatch.setattr(sys, "path", sys.path + [str(site)])
    assert _versions(collect(), "cachepkg") == ["1.0"]
    assert _versions(collect(), "cachepkg") == ["1.0"]  # served from the cache

    # An in-place reinstall rewrites the files: pip replaces them, which bumps the directory's mtime.
    (meta / "METADATA").unlink()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: cachepkg\nVersion: 1.0.post1\n\n")
    st = os.stat(meta)
    os.utime(meta, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert _versions(collect(), "cachepkg") == ["1.0.post1"]

    # An upgrade is a new .dist-info directory.
    for child in meta.iterdir():
        child.unlink()
    meta.rmdir()
    _dist_info(site, "cachepkg", "2.0")
    assert _versions(collect(), "cachepkg") == ["2.0"]

    # Files removed behind the metadata's back are found on the next report, cache or not.
    (site / "cachepkg" / "__init__.py").unlink()
    (site / "cachepkg").rmdir()
    dist = [d for d in collect()["distributions"] if d.get("name") == "cachepkg"][0]
    assert dist["missing_files"] == ["cachepkg"]
