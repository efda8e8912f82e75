"""Hostile environments never crash the collector or make it hang: missing,
unreadable, zip, symlink-loop, special-file and non-UTF-8 sys.path entries,
broken metadata, and a directory with 100,000 entries."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from report_helpers import (
    COLLECT_SRC,
    clean_env, codes, collect_in, entries, findings, need_debian_python, need_python,
)
from venvprobe.render import render

NOBODY = 65534


def _noise(n: int) -> bytes:
    """Deterministic binary garbage (reproducible failures, never a lucky "Name:" line)."""
    import random

    return bytes(b if b not in (10, 13) else 0 for b in random.Random(n).randbytes(n))


@pytest.fixture(scope="module")
def py311() -> str:
    return need_python("3.11")


def _entry(report: dict, path: os.PathLike) -> dict:
    want = os.fsdecode(os.fspath(path))
    for e in entries(report):
        if e["path"] == want or e.get("abs_path") == want:
            return e
    raise AssertionError(f"{want!r} not in {[e['path'] for e in entries(report)]}")


def _renders_everywhere(report: dict) -> None:
    for fmt in ("text", "markdown", "html", "json"):
        out = render(report, fmt)
        assert out and "Traceback" not in out
    json.loads(render(report, "json"))


def test_hostile_sys_path_entries(tmp_path: Path, py311: str) -> None:
    missing = tmp_path / "missing"
    good_zip = tmp_path / "good.zip"
    with zipfile.ZipFile(good_zip, "w") as zf:
        zf.writestr("zmod.py", "X = 1\n")
        zf.writestr("zdist-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zdist\nVersion: 1.0\n\n")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04" + _noise(300))
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello\n")
    loop_a, loop_b = tmp_path / "loop-a", tmp_path / "loop-b"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo_entry = tmp_path / "fifo-entry"
    os.mkfifo(fifo_entry)
    # A directory added by hand holding a FIFO named like a .pth file and a
    # dist-info whose METADATA and RECORD are FIFOs: opening them would block forever.
    by_hand = tmp_path / "by-hand"
    (by_hand / "fifo_dist-1.0.dist-info").mkdir(parents=True)
    os.mkfifo(by_hand / "evil.pth")
    os.mkfifo(by_hand / "fifo_dist-1.0.dist-info" / "METADATA")
    os.mkfifo(by_hand / "fifo_dist-1.0.dist-info" / "RECORD")
    # Non-UTF-8 names (a Latin-1 directory, a module and a dist-info inside it).
    latin = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(latin)
    with open(os.path.join(latin, b"latin_mod.py"), "w") as fh:
        fh.write("X = 1\n")
    os.mkdir(os.path.join(latin, b"lat\xefn-1.0.dist-info"))
    with open(os.path.join(latin, b"lat\xefn-1.0.dist-info", b"METADATA"), "wb") as fh:
        fh.write(b"Name: lat\xefn\nVersion: 1.0\n\n")
    # Broken metadata of every kind.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nometa-1.0.dist-info").mkdir()                                  # no METADATA at all
    (broken / "noname-2.0.dist-info").mkdir()
    (broken / "noname-2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 2.0\n\n")
    (broken / "garbage-3.0.dist-info").mkdir()
    (broken / "garbage-3.0.dist-info" / "METADATA").write_bytes(_noise(4096))
    (broken / "badrecord-4.0.dist-info").mkdir()
    (broken / "badrecord-4.0.dist-info" / "METADATA").write_text("Name: badrecord\nVersion: 4.0\n\n")
    (broken / "badrecord-4.0.dist-info" / "RECORD").write_bytes(
        b'"unterminated,\n,,,,\n/abs/path.py,x,1\n../../escape.py,,\n\xff\xfe\x00garbage\n' + b"x" * 100000 + b"\n")
    (broken / "dir.egg-info").write_text("not a dir, not metadata")
    (broken / "huge.pth").write_bytes(b"# " + b"y" * (3 << 20) + b"\n")
    (broken / "binary.pth").write_bytes(_noise(2000))

    setup = f"""
        import os, sys
        sys.path.extend([{str(missing)!r}, {str(good_zip)!r}, {str(bad_zip)!r}, {str(not_zip)!r},
                         {str(loop_a)!r}, {str(dangling)!r}, {str(fifo_entry)!r}, {str(by_hand)!r},
                         os.fsdecode({latin!r}), {str(broken)!r}])
        sys.path.append(b"/bytes/entry")
        sys.path.append("/tmp/embedded\\x00nul")
        sys.path.append({str(missing)!r})
    """
    started = time.monotonic()
    report = collect_in(py311, setup, cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"collector took {elapsed:.1f}s"

    assert _entry(report, missing)["exists"] is False
    z = _entry(report, good_zip)
    assert z["is_zip"] is True and z["exists"] is True and "error" not in z
    assert _entry(report, bad_zip)["error"]
    assert _entry(report, bad_zip)["readable"] is False
    assert _entry(report, not_zip)["is_zip"] is False
    loop = _entry(report, loop_a)
    assert loop["exists"] is False and "symlink loop" in loop["error"]
    assert _entry(report, dangling)["exists"] is False
    fifo = _entry(report, fifo_entry)
    assert fifo["exists"] is True and fifo["is_dir"] is False and fifo["error"] == "neither a directory nor a regular file"
    lat = _entry(report, os.fsdecode(latin).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
    assert lat["non_utf8"] is True and lat["exists"] is True
    assert lat["path"].endswith("caf\\xe9")  # shown, escaped, never dropped
    bytes_entry = [e for e in entries(report) if e["origin"]["kind"] == "invalid"]
    assert len(bytes_entry) == 1 and bytes_entry[0]["origin"]["detail"] == "not a str: bytes"

    dists = {d["name"]: d for d in report["distributions"]}
    assert dists["zdist"]["version"] == "1.0" and dists["zdist"]["format"] == "dist-info (zip)"
    assert dists["nometa"]["metadata_missing"] is True and dists["nometa"]["version"] == "1.0"
    assert dists["noname"]["metadata_missing"] is True and dists["noname"]["version"] == "2.0"
    assert dists["garbage"]["metadata_missing"] is True
    assert dists["badrecord"]["version"] == "4.0"
    assert dists["fifo_dist"]["metadata_missing"] is True  # FIFO METADATA skipped, not read
    assert [d for d in report["distributions"] if d["name"].startswith("lat")]
    fifo_pth = [p for p in report["sys_path"]["pth_files"] if p["file"].endswith("evil.pth")][0]
    assert fifo_pth["lines"] == [] and "error" not in fifo_pth  # read as empty, never blocked on

    nul = [e for e in entries(report) if "\x00" in e["path"]]
    assert len(nul) == 1 and nul[0]["exists"] is False and nul[0]["error"].startswith("ValueError")
    missing_msgs = [f["message"] for f in findings(report, "sys-path-missing")]
    assert any(str(loop_a) in m for m in missing_msgs) and any(str(dangling) in m for m in missing_msgs)
    dup = [f for f in findings(report, "sys-path-duplicate") if str(missing) in f["message"]]
    assert len(dup) == 1
    _renders_everywhere(report)


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temp dir an unprivileged user can traverse (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="venvprobe-nobody-"))
    path.chmod(0o755)
    yield path
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_entries_as_unprivileged_user(world_tmp: Path) -> None:
    """Root bypasses permissions, so this runs the target as `nobody` (setpriv)."""
    python = need_debian_python()
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is missing")
    if not os.access(str(COLLECT_SRC), os.R_OK):
        pytest.skip("checkout not readable")
    locked = world_tmp / "locked"
    locked.mkdir()
    (locked / "hidden.py").write_text("")
    locked.chmod(0o000)
    closed_parent = world_tmp / "closed"
    (closed_parent / "inner").mkdir(parents=True)
    closed_parent.chmod(0o000)
    site = world_tmp / "site"
    (site / "private-1.0.dist-info").mkdir(parents=True)
    (site / "private-1.0.dist-info" / "METADATA").write_text("Name: private\nVersion: 1.0\n\n")
    (site / "private-1.0.dist-info" / "METADATA").chmod(0o000)
    (site / "secret.pth").write_text("/somewhere\n")
    (site / "secret.pth").chmod(0o000)
    setup = f"import sys; sys.path += [{str(locked)!r}, {str(closed_parent / 'inner')!r}, {str(site)!r}]"
    report = collect_in(python, setup, cwd=world_tmp, user=str(NOBODY))
    assert report["process"]["uids"][1] == NOBODY

    lk = _entry(report, locked)
    assert lk["exists"] is True and lk["readable"] is False and "PermissionError" in lk["error"]
    inner = _entry(report, closed_parent / "inner")
    assert inner["readable"] is False and "PermissionError" in inner["error"]
    unreadable = [f["message"] for f in findings(report, "sys-path-unreadable")]
    assert unreadable == [
        f"sys.path[{lk['index']}] = {locked} exists but is not readable by this process",
        f"sys.path[{inner['index']}] = {closed_parent / 'inner'} exists but is not readable by this process",
    ]
    assert findings(report, "sys-path-unreadable")[0]["severity"] == "error"
    [priv] = [d for d in report["distributions"] if d["name"] == "private"]
    assert priv["metadata_missing"] is True and priv["version"] == "1.0"
    [pth] = [p for p in report["sys_path"]["pth_files"] if p["file"].endswith("secret.pth")]
    assert "PermissionError" in pth["error"]
    _renders_everywhere(report)


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """tmpfs when there is one: creating 100,000 files on disk costs ~20 s here, on tmpfs ~2 s."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        path = Path(tempfile.mkdtemp(prefix="venvprobe-big-", dir="/dev/shm"))
        yield path
        shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path


def test_directory_with_100000_entries(tmp_path: Path, fast_tmp: Path, py311: str) -> None:
    big = fast_tmp / "big"
    big.mkdir()
    fd_flags = os.O_CREAT | os.O_WRONLY
    for i in range(100_000):
        os.close(os.open(big / f"m{i}.py", fd_flags, 0o644))
    base = collect_in(py311, "", cwd=tmp_path)  # warm caches, and the baseline
    t0 = time.monotonic()
    collect_in(py311, "", cwd=tmp_path)
    baseline = time.monotonic() - t0
    t0 = time.monotonic()
    report = collect_in(py311, "", cwd=tmp_path, env=clean_env({"PYTHONPATH": str(big)}))
    elapsed = time.monotonic() - t0
    print(f"\n100,000-entry directory: {elapsed:.2f}s (baseline {baseline:.2f}s)")
    e = _entry(report, big)
    assert e["entries"] == 100_000 and e["origin"]["kind"] == "pythonpath"
    assert elapsed < 10.0, f"collector took {elapsed:.1f}s on a 100,000-entry directory"
    assert codes(report) == codes(base)  # nothing invented from the noise


def test_deleted_current_directory(tmp_path: Path, py311: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    report = collect_in(py311, "import os; os.rmdir(os.getcwd())", cwd=work)
    first = entries(report)[0]
    assert first["path"] == "" and first["exists"] is False
    assert report["process"]["cwd"] is None
    assert "error" not in report["sys_path"] and "error" not in report["distributions"]
    _renders_everywhere(report)
