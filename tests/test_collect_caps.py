"""Collection is bounded whatever the host holds, and says what it skipped (issue 15).

The .pth files sit in a directory appended to sys.path at run time: the
collector parses .pth files of every sys.path directory, while site.py (which
would spend its own minutes on millions of lines at start-up) does not.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from report_helpers import collect_in, entries
from venvprobe.collect import collector, common


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("caps")
    line = b"/nonexistent/short-line\n"
    for i in range(12):  # 12 MiB of .pth in all: past the 8 MiB total and the listed-lines cap
        (d / f"big{i:02d}.pth").write_bytes(line * ((1 << 20) // len(line)))
    # A .pth line far past the caps that really does put an entry on sys.path.
    (d / "real-target").mkdir()
    meta = d / "evil-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    if os.path.exists("/dev/urandom"):
        os.symlink("/dev/urandom", meta / "RECORD")
    many = d / "many-1.0.dist-info"
    many.mkdir()
    (many / "METADATA").write_text("Metadata-Version: 2.1\nName: many\nVersion: 1.0\n")
    (many / "RECORD").write_text("".join(f"top{i}/__init__.py,,\n" for i in range(5000)) + "x" * 1000 + ",,\n")
    return d


@pytest.fixture(scope="module")
def capped_report(hostile_dir: Path) -> dict:
    setup = f"import sys; sys.path.append({str(hostile_dir)!r}); sys.path.insert(1, '/srv/nul\\x00byte')"
    return collect_in(sys.executable, setup=setup, timeout=120)


def test_pth_bytes_and_lines_are_capped_and_said(capped_report: dict) -> None:
    size = len(json.dumps(capped_report))
    assert size < 8 << 20, size
    pth = [p for p in capped_report["sys_path"]["pth_files"] if os.path.basename(p["file"]).startswith("big")]
    assert len(pth) == 12
    listed = sum(len(p["lines"]) for p in pth)
    assert 0 < listed <= common.MAX_PTH_LINES  # other .pth files of this venv count too
    assert sum(p.get("skipped_lines", 0) for p in pth) > 0
    assert any("not read" in (p.get("error") or "") for p in pth)
    skipped = {s["what"] for s in capped_report["collector"]["skipped"]}
    assert {"pth_lines", "pth_files"} <= skipped


@pytest.mark.skipif(not os.path.exists("/dev/urandom"), reason="no /dev/urandom")
def test_record_on_a_device_adds_nothing(capped_report: dict) -> None:
    evil = next(d for d in capped_report["distributions"] if d.get("name") == "evil")
    assert evil.get("top_level") in ([], None) and not evil.get("missing_files")
    assert "record" in {s["what"] for s in capped_report["collector"]["skipped"]}


def test_record_names_are_capped(capped_report: dict) -> None:
    many = next(d for d in capped_report["distributions"] if d.get("name") == "many")
    assert len(many.get("missing_files") or []) <= common.MAX_RECORD_TOPS
    assert "record_names" in {s["what"] for s in capped_report["collector"]["skipped"]}


def test_nul_byte_loses_one_entry_not_a_section(capped_report: dict) -> None:
    for section in ("interpreter", "identity", "sys_path", "distributions", "shadowed", "modules"):
        value = capped_report.get(section)
        assert not (isinstance(value, dict) and set(value) == {"error"}), (section, value)
    nul = [e for e in entries(capped_report) if "\x00" in e["path"]]
    assert len(nul) == 1 and nul[0]["exists"] is False and "null" in nul[0]["error"]


def test_report_size_backstop(monkeypatch) -> None:
    report = {"schema": {}, "generated_at": "x", "collector": {}, "findings": [],
              "sys_path": {"entries": ["x" * 1000] * 100}, "modules": {"top_level": ["y" * 10] * 10}}
    monkeypatch.setattr(collector, "MAX_REPORT_BYTES", 5000)
    out = collector._shrink(report, len(collector.dumps(report)))
    assert "error" in out["sys_path"] and "over the report" in out["sys_path"]["error"]
    assert out["modules"] == {"top_level": ["y" * 10] * 10}
    assert out["collector"]["skipped"][0]["what"] == "sys_path"
    assert len(collector.dumps(out)) <= 5000
