"""One minimum Python for venvprobe itself: stated once (pyproject.toml), said so in the README, and true.

The minimum is installed and run for real (a venv of that pyenv interpreter, the repo's wheel and its
dependencies from the configured index), and the version below it is refused by pip at install time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from report_helpers import need_python
from servers import REPO_ROOT, repo_wheel

try:
    import tomllib
except ImportError:  # Python < 3.11: pip vendors the same parser
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]


def _minimum() -> tuple:
    spec = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert spec.startswith(">=") and "," not in spec, f"one lower bound expected, got {spec!r}"
    return tuple(int(x) for x in spec[2:].split("."))


def _install_wheel(py: str, venv: Path, *options: str) -> subprocess.CompletedProcess:
    """A venv of *py* with pip (unlike the harness's make_venv), and this repo's wheel installed into it."""
    wheel = repo_wheel()
    assert wheel is not None
    subprocess.run([py, "-m", "venv", str(venv)], check=True, timeout=300)
    return subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", *options, str(wheel)],
                          capture_output=True, text=True, timeout=600)


def test_the_minimum_is_stated_once_and_the_readme_says_it() -> None:
    major, minor = _minimum()
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"runs on **Python {major}.{minor} or later**" in readme
    tools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]
    assert tools["ruff"]["target-version"] == f"py{major}{minor}"


def test_installs_and_runs_on_the_minimum_python(tmp_path: Path) -> None:
    major, minor = _minimum()
    py = need_python(f"{major}.{minor}")
    venv = tmp_path / "venv"
    res = _install_wheel(py, venv)
    assert res.returncode == 0, res.stdout + res.stderr
    out = subprocess.run([str(venv / "bin/venvprobe"), "report", "-f", "json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode in (0, 1), out.stderr
    report = json.loads(out.stdout)
    assert report["interpreter"]["version_info"][:2] == [major, minor]
    assert report["interpreter"]["prefix"] == str(venv)
    # the full CLI (argparse, offline checks, flask-free rendering) on that Python too
    home = subprocess.run([str(venv / "bin/venvprobe"), "check-home", str(venv), "--python", py,
                           "--user", "root", "-f", "json"],
                          capture_output=True, text=True, timeout=120)
    assert home.returncode in (0, 1), home.stderr
    assert json.loads(home.stdout)["findings"] == []


def test_the_python_below_the_minimum_is_refused_at_install(tmp_path: Path) -> None:
    major, minor = _minimum()
    res = _install_wheel(need_python(f"{major}.{minor - 1}"), tmp_path / "venv", "--no-deps")
    assert res.returncode != 0
    assert f"Requires-Python >={major}.{minor}" in res.stdout + res.stderr or \
        "requires a different Python" in res.stdout + res.stderr


def test_this_interpreter_meets_it() -> None:
    assert sys.version_info[:2] >= _minimum()
