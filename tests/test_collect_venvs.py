"""Real venvs (python -m venv and virtualenv, with and without system site
packages, from pyenv and Debian interpreters) reported with
``collect_foreign`` -- the code path of ``venvprobe report --python X``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from report_helpers import (
    DEBIAN_PYTHON, codes, entries, make_venv, need_debian_python, need_python, one_finding,
    origins, site_packages,
)
from venvprobe.report import collect_foreign

# (label, how to find the interpreter)
PYTHONS = [
    ("3.11-pyenv", lambda: need_python("3.11")),
    ("3.9-pyenv", lambda: need_python("3.9")),
    ("3.13-pyenv", lambda: need_python("3.13")),
    ("debian", need_debian_python),
]


def _base_facts(python: str) -> dict:
    code = ("import sys, sysconfig, json; print(json.dumps({'base_prefix': sys.base_prefix, "
            "'version': '%d.%d.%d' % sys.version_info[:3], 'stdlib': sysconfig.get_path('stdlib'), "
            "'bindir': __import__('os').path.dirname(sys.executable)}))")
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout)


@pytest.mark.parametrize("tool", ["venv", "virtualenv"])
@pytest.mark.parametrize("label,find", PYTHONS, ids=[p[0] for p in PYTHONS])
def test_virgin_venv_facts(tmp_path: Path, label: str, find, tool: str) -> None:
    base_python = find()
    base = _base_facts(base_python)
    py = make_venv(tmp_path / "venv", base_python, tool=tool)
    report = collect_foreign(str(py))

    it = report["interpreter"]
    assert it["prefix"] == str(tmp_path / "venv")
    assert it["base_prefix"] == base["base_prefix"]
    assert it["in_venv"] is True
    assert it["version"] == base["version"]
    assert it["has_real_prefix"] is False
    cfg = it["pyvenv_cfg"]
    assert cfg["path"] == str(tmp_path / "venv" / "pyvenv.cfg")
    assert cfg["home"] == base["bindir"]
    assert cfg["version"] == base["version"]
    assert cfg["include_system_site_packages"] is False
    assert cfg["creator"] == tool
    # No venv disables the user site by itself except through site.py's rule (venv => no user site).
    assert it["user_site"]["ENABLE_USER_SITE"] is False

    kinds = [k for _, k in origins(report)]
    # `python -c` put the cwd first; the collector drops it (no server has it).
    assert report["collector"]["removed_sys_path_0"] == ""
    assert kinds == ["stdlib_zip", "stdlib", "lib_dynload", "venv_site"]
    venv_site = entries(report)[-1]
    assert venv_site["path"] == str(site_packages(py))
    assert venv_site["exists"] and venv_site["is_dir"] and venv_site["readable"]
    assert entries(report)[1]["path"] == base["stdlib"]
    assert report["identity"]["server"]["kind"] == "none"
    assert report["identity"]["main_interpreter"] in (True, None)
    assert report["distributions"] == []
    assert report["shadowed"] == {"modules": [], "distributions": []}
    # A virgin venv is the healthy baseline: nothing to report at all.
    assert report["findings"] == [], report["findings"]


@pytest.mark.parametrize("tool", ["venv", "virtualenv"])
def test_system_site_packages_venv(tmp_path: Path, tool: str) -> None:
    base_python = need_python("3.11")
    base = _base_facts(base_python)
    py = make_venv(tmp_path / "venv", base_python, tool=tool, system_site=True)
    report = collect_foreign(str(py))
    cfg = report["interpreter"]["pyvenv_cfg"]
    assert cfg["include_system_site_packages"] is True
    kinds = [k for _, k in origins(report)]
    assert kinds[:4] == ["stdlib_zip", "stdlib", "lib_dynload", "venv_site"]
    assert kinds[4:] and set(kinds[4:]) == {"base_site"}
    base_site = entries(report)[4]
    assert base_site["path"].startswith(base["base_prefix"])
    # The venv's own site-packages comes first: no ordering problem ...
    assert "venv-site-after-base-site" not in codes(report)
    # ... every base distribution is importable, which is reported, as info:
    # include-system-site-packages is what the user asked for (issue 10).
    in_base = [d for d in report["distributions"] if d["location_index"] == 4]
    assert in_base, "the base installation should hold at least pip"
    f = one_finding(report, "base-site-visible")
    assert f["severity"] == "info"
    assert "as configured: include-system-site-packages = true" in f["message"]
    assert f"{len(in_base)} distributions from the base installation" in f["message"]
    assert f"sys.path[4] = {base_site['path']}" in f["evidence"]
    # Collected in a fresh process: nothing was imported from there.
    assert "base-site-imported" not in codes(report)


def test_debian_system_site_venv(tmp_path: Path) -> None:
    need_debian_python()
    py = make_venv(tmp_path / "venv", DEBIAN_PYTHON, system_site=True)
    report = collect_foreign(str(py))
    assert report["interpreter"]["base_prefix"] == "/usr"
    base_paths = [p for p, k in origins(report) if k == "base_site"]
    # Debian's site.py adds the dist-packages directories that exist.
    assert "/usr/lib/python3/dist-packages" in base_paths
    assert all(os.path.isdir(p) for p in base_paths)


def test_no_venv_at_all(tmp_path: Path) -> None:
    base_python = need_python("3.11")
    report = collect_foreign(base_python)
    it = report["interpreter"]
    assert it["in_venv"] is False and it["pyvenv_cfg"] is None
    assert it["prefix"] == it["base_prefix"]
    f = one_finding(report, "no-venv")
    assert f["severity"] == "info"  # not a server process
    assert it["prefix"] in f["message"]


def test_venv_root_as_python_argument(tmp_path: Path) -> None:
    py = make_venv(tmp_path / "venv", need_python("3.11"))
    report = collect_foreign(str(tmp_path / "venv"))
    assert report["interpreter"]["prefix"] == str(tmp_path / "venv")
    assert report["interpreter"]["executable"] == str(py)


def test_venv_whose_base_python_is_gone(tmp_path: Path) -> None:
    """pyvenv.cfg names a home that no longer exists (the base Python was removed
    or moved): the symlinked binary still starts, from wherever it resolves."""
    py = make_venv(tmp_path / "venv", need_python("3.11"))
    cfg = tmp_path / "venv" / "pyvenv.cfg"
    cfg.write_text("\n".join("home = /opt/python-removed/bin" if l.startswith("home") else l
                             for l in cfg.read_text().splitlines()) + "\n")
    report = collect_foreign(str(py))
    assert report["interpreter"]["pyvenv_cfg"]["home_exists"] is False
    f = one_finding(report, "venv-base-missing")
    assert f["severity"] == "error"
    assert f["message"] == (f"the Python that venv {tmp_path / 'venv'} was made from (/opt/python-removed/bin) "
                            "no longer exists")
    assert "venv-python-mismatch" not in codes(report)  # one cause, one finding
