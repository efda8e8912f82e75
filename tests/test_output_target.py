"""`-o PATH` where PATH is not a regular file: written into, never replaced.

Found in the field (well, on this team's machine): `-o /dev/null` as root replaced the device node
with a regular file, breaking apt and every daemon that opens /dev/null as another user. A FIFO
stands in for the device here so a regression cannot do that damage again.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

from report_helpers import venvprobe_cli
from venvprobe.report import build_report


def _saved_report(tmp_path: Path) -> Path:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(build_report()))
    return path


def test_output_into_a_fifo_is_written_and_the_fifo_stays(tmp_path: Path) -> None:
    report, fifo = _saved_report(tmp_path), tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        res = venvprobe_cli("report", "--input", str(report), "-f", "json", "-o", str(fifo), timeout=60)
    finally:
        if reader.is_alive():  # unblock the reader if the CLI never opened the FIFO
            with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                pass
        reader.join(10)
    assert res.returncode == 0, res.stderr.decode()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(got[0])["schema"]["name"] == "venvprobe.report"
    assert list(tmp_path.glob("out.fifo.tmp*")) == []


def test_output_into_a_fifo_nobody_reads_is_one_line_exit_2(tmp_path: Path) -> None:
    report, fifo = _saved_report(tmp_path), tmp_path / "out.fifo"
    os.mkfifo(fifo)
    res = venvprobe_cli("report", "--input", str(report), "-o", str(fifo), timeout=30)
    err = res.stderr.decode()
    assert res.returncode == 2 and err.count("\n") == 1 and "cannot write" in err, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_into_a_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    res = venvprobe_cli("report", "--input", str(_saved_report(tmp_path)), "-o", str(tmp_path), timeout=30)
    err = res.stderr.decode()
    assert res.returncode == 2 and err.count("\n") == 1 and "cannot write" in err, err
    assert tmp_path.is_dir()
