"""Helpers (no tests) for the compare / snapshot / diff / fleet tests.

Reports come from real venvs made with ``python -m venv`` and tiny real
installed distributions (``probe_helpers.write_dist``), collected by running
the collector inside the venv's interpreter exactly as
``venvprobe report --python`` does.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import probe_helpers

from venvprobe._cli import main
from venvprobe.report import collect_foreign

BASE_PYTHON = sys.executable  # pyenv 3.11.7: its base site-packages holds six, idna, tabulate...


def make_venv(root: Path, system_site: bool = False, python: str = BASE_PYTHON) -> Tuple[Path, Path]:
    """A real venv (no pip: fast); returns (python, site-packages)."""
    cmd = [python, "-m", "venv", "--without-pip"] + (["--system-site-packages"] if system_site else []) + [str(root)]
    subprocess.run(cmd, check=True, capture_output=True)
    vpython = root / "bin" / "python"
    site = subprocess.run([str(vpython), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    return vpython, Path(site)


def venv_report(root: Path, system_site: bool = False, dists: Iterable[Tuple[str, str]] = (),
                pth: Optional[Dict[str, str]] = None, extra_sites: Optional[Dict[str, Sequence[Tuple[str, str]]]] = None,
                files: Optional[Dict[str, str]] = None) -> dict:
    """Make a venv at *root* with *dists* installed, optional .pth files and
    other files in site-packages ({file name: text}), and extra directories
    holding more dists ({dir name under root: [(name, version)]}); collect
    its report."""
    vpython, site = make_venv(root, system_site)
    for name, version in dists:
        probe_helpers.write_dist(site, name, version)
    for dirname, more in (extra_sites or {}).items():
        for name, version in more:
            probe_helpers.write_dist(root / dirname, name, version)
    for filename, text in {**(pth or {}), **(files or {})}.items():
        (site / filename).write_text(text)
    return collect_foreign(str(vpython))


def save(report: dict, path: Path) -> Path:
    """Write *report* as JSON and return the path."""
    path.write_text(json.dumps(report, indent=1))
    return path


def cli(*args: str, stdin: Optional[bytes] = None) -> Tuple[int, str, str]:
    """Run ``venvprobe ARGS`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(list(args))
            except SystemExit as exc:  # argparse errors
                rc = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    return rc, out.getvalue(), err.getvalue()


def statuses(results: List) -> Dict[str, str]:
    """{check id: status} of compare() results."""
    return {r.check: r.status for r in results}
