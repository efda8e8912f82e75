"""Shadowing: two copies of a distribution, stdlib shadowing both ways,
namespace packages, leftovers, and the venv overlay scenarios of the mod_wsgi
wiki (addsitedir appending a venv, activate_this.py, a venv from another
Python)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from report_helpers import (
    DEBIAN_PYTHON, build_wheel, clean_env, codes, collect_in, entries, entry_for, findings, make_venv,
    need_debian_python, need_python, one_finding, pip, pip_install, shadowed_dist, shadowed_module,
    site_packages, write_dist,
)
from venvprobe.render import render


@pytest.fixture(scope="module")
def py311() -> str:
    return need_python("3.11")


def test_two_versions_pip_shows_one_venvprobe_shows_both(tmp_path: Path, py311: str) -> None:
    """pip list hides the second copy; venvprobe shows every copy and which wins."""
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    wheels = tmp_path / "wheels"
    pip_install(py, str(build_wheel(wheels, "twocopies", "1.0", {"twocopies/__init__.py": "V = '1.0'\n"})))
    over = tmp_path / "override"
    pip_install(py, str(build_wheel(wheels, "twocopies", "2.0", {"twocopies/__init__.py": "V = '2.0'\n"})), target=over)
    env = clean_env({"PYTHONPATH": str(over)})

    listed = json.loads(pip(py, "list", "--format", "json", env=env).stdout)
    assert [d["version"] for d in listed if d["name"] == "twocopies"] == ["2.0"]  # pip: one copy only

    report = collect_in(py, "import twocopies; print(twocopies.V)", cwd=tmp_path, env=env)
    assert report["_driver_stdout"].strip() == "2.0"
    copies = [(d["version"], d["location"], d["installer"]) for d in report["distributions"] if d["name"] == "twocopies"]
    assert sorted(copies) == [("1.0", str(site), "pip"), ("2.0", str(over), "pip")]
    item = shadowed_dist(report, "twocopies")
    over_idx, site_idx = entry_for(report, over)["index"], entry_for(report, site)["index"]
    assert item["winner"]["version"] == "2.0" and item["winner"]["location_index"] == over_idx
    assert [(l["version"], l["location_index"]) for l in item["losers"]] == [("1.0", site_idx)]
    assert item["versions_differ"] is True
    assert item["loaded"] == {"twocopies": {"file": str(over / "twocopies" / "__init__.py"), "copy_index": over_idx}}
    f = one_finding(report, "shadowed-distribution")
    assert f["severity"] == "warning"
    assert f["message"] == f"twocopies: 2.0 at sys.path[{over_idx}] {over} wins over 1.0 at sys.path[{site_idx}] {site}"
    assert f["data"] == {"name": "twocopies", "winner": "2.0", "losers": ["1.0"]}
    # The module-level shadowing is the same fact: not reported twice.
    assert not [x for x in findings(report, "shadowed-module") if "twocopies" in x["message"]]
    text = render(report, "text", ["shadowed"])
    assert f"2.0 @ [{over_idx}] {over}" in text and f"1.0 @ [{site_idx}] {site}" in text


def test_equal_versions_in_two_entries_is_info(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    other = tmp_path / "other"
    write_dist(site_packages(py), "samever", "1.5", {"samever.py": ""})
    write_dist(other, "samever", "1.5", {"samever.py": ""})
    report = collect_in(py, f"import sys; sys.path.append({str(other)!r})", cwd=tmp_path)
    assert shadowed_dist(report, "samever")["versions_differ"] is False
    assert one_finding(report, "shadowed-distribution")["severity"] == "info"


def test_local_module_shadows_stdlib(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    app = tmp_path / "app"
    app.mkdir()
    (app / "random.py").write_text("LOCAL = True\n")
    report = collect_in(py, "import random; print(getattr(random, 'LOCAL', False))", script=app / "main.py", cwd=tmp_path)
    assert report["_driver_stdout"].strip() == "True"
    item = shadowed_module(report, "random")
    assert item["stdlib"] is True and item["winner_is_stdlib"] is False
    assert item["winner"]["path"] == str(app / "random.py") and item["winner"]["index"] == 0
    stdlib = report["interpreter"]["sysconfig_paths"]["stdlib"]
    assert [l["path"] for l in item["losers"]] == [os.path.join(stdlib, "random.py")]
    assert item["loaded_file"] == str(app / "random.py")
    f = one_finding(report, "stdlib-shadowed")
    assert f["severity"] == "error"
    assert f["message"] == (f"standard-library module random is shadowed by {app / 'random.py'} (sys.path[0]); "
                            f"currently loaded from {app / 'random.py'}")


def test_backport_in_site_packages_is_ignored(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    write_dist(site, "enum34", "1.1.10", {"enum/__init__.py": "BACKPORT = True\n"})
    write_dist(site, "typing", "3.7.4.3", {"typing.py": "BACKPORT = True\n"})
    report = collect_in(py, "import enum, typing; print(hasattr(enum, 'BACKPORT'), hasattr(typing, 'BACKPORT'))", cwd=tmp_path)
    assert report["_driver_stdout"].strip() == "False False"
    stdlib = report["interpreter"]["sysconfig_paths"]["stdlib"]
    for name, path in (("enum", site / "enum"), ("typing", site / "typing.py")):
        item = shadowed_module(report, name)
        assert item["winner_is_stdlib"] is True
        assert item["winner"]["path"] == os.path.join(stdlib, name + ".py")
        assert [l["path"] for l in item["losers"]] == [str(path)]
    msgs = sorted(f["message"] for f in findings(report, "stdlib-backport-ignored"))
    assert msgs == [f"enum in {site} is never used: the standard library's enum wins",
                    f"typing in {site} is never used: the standard library's typing wins"]
    assert "stdlib-shadowed" not in codes(report)


def test_namespace_split_and_poisoned(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    d1, d2, d0 = tmp_path / "d1", tmp_path / "d2", tmp_path / "d0"
    for d, sub in ((d1, "a"), (d2, "b")):
        (d / "nsp" / sub).mkdir(parents=True)
        (d / "nsp" / sub / "__init__.py").write_text("")
    setup = f"import sys; sys.path[1:1] = [{str(d1)!r}, {str(d2)!r}]; import nsp.a, nsp.b; print(list(nsp.__path__))"
    report = collect_in(py, setup, cwd=tmp_path)
    item = shadowed_module(report, "nsp")
    assert item["kind"] == "namespace_split"
    assert [p["path"] for p in item["portions"]] == [str(d1 / "nsp"), str(d2 / "nsp")]
    f = one_finding(report, "namespace-split")
    assert f["severity"] == "info" and f["evidence"] == [str(d1 / "nsp"), str(d2 / "nsp")]

    # A regular package (stray __init__.py) anywhere on sys.path hides every portion,
    # even when it comes *after* them: the import system keeps looking for one.
    (d0 / "nsp").mkdir(parents=True)
    (d0 / "nsp" / "__init__.py").write_text("")
    setup = (f"import sys; sys.path[1:1] = [{str(d1)!r}, {str(d2)!r}, {str(d0)!r}]\n"
             "import nsp\ntry:\n    import nsp.a\nexcept ImportError as e:\n    print('hidden:', e.name)")
    report = collect_in(py, setup, cwd=tmp_path)
    assert "hidden: nsp.a" in report["_driver_stdout"]
    item = shadowed_module(report, "nsp")
    assert item["kind"] == "namespace_poisoned" and item["winner"]["path"] == str(d0 / "nsp")
    f = one_finding(report, "namespace-poisoned")
    assert f["severity"] == "error"
    assert f["message"] == f"{d0 / 'nsp'} is a regular package and hides the namespace portions of nsp"
    assert f"hidden: {d1 / 'nsp'}" in f["evidence"] and f"hidden: {d2 / 'nsp'}" in f["evidence"]


def test_distribution_whose_files_are_gone(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    wheels = tmp_path / "wheels"
    pip_install(py, str(build_wheel(wheels, "leftover", "0.3", {"leftover/__init__.py": "", "leftover/core.py": ""})),
                str(build_wheel(wheels, "intact", "1.0", {"intact.py": ""})))
    import shutil

    shutil.rmtree(site / "leftover")  # e.g. removed by hand or a half-finished uninstall
    report = collect_in(py, "", cwd=tmp_path)
    [d] = [d for d in report["distributions"] if d["name"] == "leftover"]
    assert d["missing_files"] == ["leftover"] and d["top_level"] == ["leftover"]
    f = one_finding(report, "distribution-files-missing")
    assert f["message"] == f"leftover 0.3 in {site}: metadata present but its files are gone (leftover)"
    assert not [x for x in report["distributions"] if x["name"] == "intact" and x.get("missing_files")]


def test_addsitedir_appends_venv_after_base_site(tmp_path: Path, py311: str) -> None:
    """The mod_wsgi wiki scenario: the base interpreter overlays an app venv with
    site.addsitedir(), which APPENDS -- so the base installation's copies win."""
    base_site = site_packages(py311)
    base_pip = [p.name for p in base_site.glob("pip-*.dist-info")]
    if not base_pip:
        pytest.skip(f"no pip in {base_site}")
    base_pip_version = base_pip[0][len("pip-"):-len(".dist-info")]
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    write_dist(site, "pip", "1.0", {"pip/__init__.py": "VENV = True\n"})
    report = collect_in(py311, f"import site; site.addsitedir({str(site)!r}); import pip; print(hasattr(pip, 'VENV'))",
                        cwd=tmp_path)
    assert report["_driver_stdout"].strip() == "False"  # the base pip won
    assert report["interpreter"]["in_venv"] is False
    e = entry_for(report, site)
    assert e["index"] == len(entries(report)) - 1
    assert e["origin"]["kind"] == "runtime_venv_site"
    assert e["origin"]["venv_root"] == str(tmp_path / "venv")
    assert e["origin"]["pyvenv_cfg"]["version"] == report["interpreter"]["version"]
    b = entry_for(report, base_site)
    f = one_finding(report, "venv-site-after-base-site")
    assert f["message"] == (f"venv site-packages {site} (sys.path[{e['index']}]) comes after base site-packages "
                            f"{base_site} (sys.path[{b['index']}]): packages in the base installation win")
    item = shadowed_dist(report, "pip")
    assert item["winner"]["version"] == base_pip_version and item["winner"]["location_index"] == b["index"]
    assert [(l["version"], l["location_index"]) for l in item["losers"]] == [("1.0", e["index"])]
    assert item["loaded"]["pip"]["copy_index"] == b["index"]
    assert "base-site-visible" in codes(report) and "base-site-imported" in codes(report)
    assert "no-venv" not in codes(report)  # a venv is meant to be used
    assert "venv-python-mismatch" not in codes(report)

    # The wiki's fix: move the new entries to the front.  The venv wins, no ordering finding.
    fix = (f"import site, sys; n = len(sys.path); site.addsitedir({str(site)!r}); "
           "sys.path[:] = sys.path[n:] + sys.path[:n]; import pip; print(hasattr(pip, 'VENV'))")
    report = collect_in(py311, fix, cwd=tmp_path)
    assert report["_driver_stdout"].strip() == "True"
    assert "venv-site-after-base-site" not in codes(report)
    assert shadowed_dist(report, "pip")["winner"]["version"] == "1.0"


def test_venv_from_another_python_version_added_at_runtime(tmp_path: Path, py311: str) -> None:
    py39 = need_python("3.9")
    py = make_venv(tmp_path / "venv39", py39)
    site39 = site_packages(py)
    report = collect_in(py311, f"import site; site.addsitedir({str(site39)!r})", cwd=tmp_path)
    e = entry_for(report, site39)
    assert e["origin"]["kind"] == "runtime_venv_site"
    f = one_finding(report, "venv-python-mismatch")
    v39 = e["origin"]["pyvenv_cfg"]["version"]
    assert v39.startswith("3.9.")
    assert f["message"] == (f"venv {tmp_path / 'venv39'} was made by Python {v39} but this process runs "
                            f"Python {report['interpreter']['version']}")
    assert f["severity"] == "error"


def test_venv_run_by_another_installation_of_same_version(tmp_path: Path, py311: str) -> None:
    """What mod_wsgi does with python-home=<venv>: it runs ITS libpython (Debian's
    3.11.2) as <venv>/bin/python, so a venv from pyenv 3.11.7 gets a foreign binary."""
    need_debian_python()
    debian_real = os.path.realpath(DEBIAN_PYTHON)
    py = make_venv(tmp_path / "venv", py311)
    from venvprobe.analyze import analyze
    from venvprobe import ship

    res = subprocess.run([str(py), "-c", ship.BOOTSTRAP], executable=debian_real,
                         input=ship.payload(analyse=False, cache=False),
                         capture_output=True, env=clean_env(), cwd=tmp_path, check=True)
    head, _, body = res.stdout.partition(b"\n")
    assert head == b"0"
    report = json.loads(body)
    it = report["interpreter"]
    assert it["real_executable"] == debian_real
    assert it["base_prefix"] == os.path.dirname(os.path.dirname(py311))
    assert it["version"] != it["pyvenv_cfg"]["version"]
    found = [f for f in analyze(report) if f["code"] == "venv-python-mismatch"]
    assert len(found) == 1
    assert found[0]["message"] == (f"venv {tmp_path / 'venv'} was made by Python {it['pyvenv_cfg']['version']} from "
                                   f"{os.path.dirname(py311)}, but this process runs Python {it['version']} from {debian_real}")
    assert f"running binary {debian_real} is not under base_prefix {it['base_prefix']}" in found[0]["evidence"]


def test_activate_this_rewrites_prefix(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311, tool="virtualenv")
    site = site_packages(py)
    write_dist(site, "appdist", "4.2", {"appdist.py": ""})
    activate = tmp_path / "venv" / "bin" / "activate_this.py"
    assert activate.is_file()
    setup = f"exec(open({str(activate)!r}).read(), {{'__file__': {str(activate)!r}}})"
    report = collect_in(py311, setup, cwd=tmp_path)
    it = report["interpreter"]
    assert it["has_real_prefix"] is True
    assert it["prefix"] == str(tmp_path / "venv")
    assert it["real_prefix"] == os.path.dirname(os.path.dirname(py311))
    f = one_finding(report, "prefix-rewritten")
    assert f["message"] == (f"sys.real_prefix exists ({it['real_prefix']}): activate_this.py rewrote sys.prefix "
                            f"to {tmp_path / 'venv'}")
    # activate_this.py PREPENDS the venv's site-packages (unlike a bare addsitedir).
    e = entry_for(report, site)
    base = [x for x in entries(report) if x["origin"]["kind"] == "base_site"]
    assert base and e["index"] < base[0]["index"]
    assert e["origin"]["kind"] in ("venv_site", "runtime_venv_site")
    assert "venv-site-after-base-site" not in codes(report)
    assert [d["location_index"] for d in report["distributions"] if d["name"] == "appdist"] == [e["index"]]
