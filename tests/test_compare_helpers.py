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

#: The installation the test runner's interpreter comes from (the runner is usually a venv): venvs
#: made here see its site-packages with ``--system-site-packages``.
BASE_PYTHON = getattr(sys, "_base_executable", None) or sys.executable
PYV = "%d.%d" % sys.version_info[:2]

_BASE_TRUTH = r"""
import importlib.metadata as md, json, os, site, sys
dirs = [d for d in site.getsitepackages() if os.path.isdir(d)]
dists = []
for d in dirs:
    for dist in md.distributions(path=[d]):
        top = (dist.read_text("top_level.txt") or "").split()
        if not top:
            top = sorted({f.parts[0].split(".")[0] for f in (dist.files or [])
                          if f.suffix == ".py" and len(f.parts) <= 2 and not f.parts[0].endswith(".dist-info")})
        if top and dist.metadata["Name"]:
            dists.append({"name": dist.metadata["Name"], "version": dist.version, "module": top[0], "dir": d})
print(json.dumps({"base_prefix": sys.base_prefix, "site_dirs": dirs, "dists": dists}))
"""


def base_truth() -> dict:
    """What the base installation holds, computed by the base interpreter itself (not by venvprobe):
    its prefix, site directories, and one distribution with an importable top-level module, preferring
    small pure-Python ones. Fails when the base holds none (the test command installs pip there)."""
    out = subprocess.run([BASE_PYTHON, "-I", "-c", _BASE_TRUTH], check=True, capture_output=True, text=True).stdout
    truth = json.loads(out)
    by_name = {d["name"].lower(): d for d in truth["dists"]}
    pick = next((by_name[n] for n in ("six", "idna", "packaging", "pip") if n in by_name), None)
    assert pick or truth["dists"], f"the base installation at {truth['base_prefix']} holds no distribution"
    truth["dist"] = pick or truth["dists"][0]
    return truth


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


# Expectations with a met check, two unmet ones (line 5 holds demo-app's rule) and one skipped, for
# a report of venv_report(..., dists=[("demo-app", "1.4.2")]) collected with --python.
MIXED_EXPECTATIONS = ('version = 1\n'
                      '[interpreter]\npython = "3.11"\n'            # met
                      '[identity]\nserver = "mod_wsgi"\n'           # not met: collected by --python
                      '[distributions.require]\ndemo-app = "==2.0"\n'  # not met
                      '[workers]\nidentical = true\n')              # skipped: one sample
