"""sys.path origins, duplicates, .pth files, editable installs, user site,
PYTHONPATH and the install scheme -- each set up for real inside the target
interpreter, then checked entry by entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from report_helpers import (
    clean_env, codes, collect_in, entries, entry_for, findings, make_editable_project, make_venv,
    need_python, one_finding, origins, pip_install, site_packages, write_dist,
)


@pytest.fixture(scope="module")
def py311() -> str:
    return need_python("3.11")


@pytest.fixture(scope="module")
def editable_venv(tmp_path_factory: pytest.TempPathFactory, py311: str):
    """One venv with two `pip install -e` projects: a static-.pth editable and a setuptools-finder one."""
    root = tmp_path_factory.mktemp("editable")
    py = make_venv(root / "venv", py311)
    p1 = make_editable_project(root / "p1", "pthproj", "1.0", "pthpkg", style="pth")
    p2 = make_editable_project(root / "p2", "finderproj", "0.2", "finderpkg", style="finder")
    pip_install(py, "-e", str(p1), "-e", str(p2))
    return root, py


def test_script_dir_pythonpath_stdlib_and_site_origins(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    app = tmp_path / "app"
    app.mkdir()
    pp1, pp2 = tmp_path / "pp1", tmp_path / "pp-missing"
    pp1.mkdir()
    report = collect_in(py, script=app / "main.py", cwd=tmp_path,
                        env=clean_env({"PYTHONPATH": f"{pp1}:{pp2}"}))
    got = origins(report)
    assert got[0] == (str(app), "script_dir")
    assert got[1] == (str(pp1), "pythonpath")
    assert got[2] == (str(pp2), "pythonpath")
    assert [k for _, k in got[3:]] == ["stdlib_zip", "stdlib", "lib_dynload", "venv_site"]
    assert entries(report)[2]["exists"] is False and entries(report)[1]["exists"] is True
    f = one_finding(report, "sys-path-missing")
    assert f["message"] == f"sys.path[2] = {pp2} does not exist"
    assert f["evidence"] == ["origin: PYTHONPATH environment variable"]
    # PYTHONPATH is only a finding in a server process; here it is a plain fact.
    assert "pythonpath-from-env" not in codes(report)
    assert report["environment"]["variables"]["PYTHONPATH"] == f"{pp1}:{pp2}"


def test_runtime_entries_and_duplicates(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    extra = tmp_path / "extra"
    extra.mkdir()
    link = tmp_path / "site-link"
    link.symlink_to(site)
    setup = f"""
        import sys
        sys.path.insert(0, {str(extra)!r})
        sys.path.append({str(extra)!r})        # the same string twice
        sys.path.append({str(link)!r})         # the venv site again, through a symlink
        sys.path.append({str(tmp_path / 'gone')!r})
    """
    report = collect_in(py, setup, cwd=tmp_path)
    first = entry_for(report, extra)
    assert first["index"] == 0 and first["origin"]["kind"] == "runtime"
    es = entries(report)
    assert es[-3]["path"] == str(extra) and es[-3]["duplicate_of"] == 0
    assert es[-2]["path"] == str(link) and es[-2]["real_path"] == os.path.realpath(site)
    assert es[-2]["duplicate_of"] == entry_for(report, site)["index"]
    dups = findings(report, "sys-path-duplicate")
    assert [f["message"] for f in dups] == [
        f"sys.path[{es[-3]['index']}] = {extra} repeats sys.path[0]",
        f"sys.path[{es[-2]['index']}] = {link} repeats sys.path[{entry_for(report, site)['index']}]",
    ]
    assert one_finding(report, "sys-path-missing")["message"].endswith(f"{tmp_path / 'gone'} does not exist")


def test_pth_files_paths_and_import_lines(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    site = site_packages(py)
    rel_target, abs_target = tmp_path / "rel-target", tmp_path / "abs-target"
    rel_target.mkdir()
    abs_target.mkdir()
    (site / "paths.pth").write_text(
        "# a comment\n\n"
        f"{os.path.relpath(rel_target, site)}\n"
        f"{abs_target}\n"
        f"{tmp_path / 'never-created'}\n"
        "import os; os.environ['VENVPROBE_PTH_RAN'] = '1'\n")
    report = collect_in(py, "import os; print('pth ran:', os.environ.get('VENVPROBE_PTH_RAN'))", cwd=tmp_path)
    assert "pth ran: 1" in report["_driver_stdout"]  # site.py really processed it
    pth = str(site / "paths.pth")
    rel = entry_for(report, rel_target)
    assert rel["origin"] == {"kind": "pth", "detail": f"{pth} line 3", "pth_file": pth, "line": 3}
    assert entry_for(report, abs_target)["origin"]["line"] == 4
    # site.py skips lines naming missing directories: not on sys.path at all.
    assert str(tmp_path / "never-created") not in [e["path"] for e in entries(report)]
    record = [p for p in report["sys_path"]["pth_files"] if p["file"] == pth][0]
    assert [(l["line"], l["kind"]) for l in record["lines"]] == [(3, "path"), (4, "path"), (5, "path"), (6, "import")]
    assert record["lines"][2]["exists"] is False
    f = one_finding(report, "pth-executable-line")
    assert f["message"] == f"{pth} runs code at start-up: import os; os.environ['VENVPROBE_PTH_RAN'] = '1'"
    assert f["evidence"] == [f"{pth}:6: import os; os.environ['VENVPROBE_PTH_RAN'] = '1'"]


def test_pth_in_pythonpath_dir_is_never_processed(tmp_path: Path, py311: str) -> None:
    py = make_venv(tmp_path / "venv", py311)
    by_hand = tmp_path / "by-hand"
    target = tmp_path / "lib-from-pth"
    by_hand.mkdir()
    target.mkdir()
    (target / "hidden_mod.py").write_text("X = 1\n")
    (by_hand / "extra.pth").write_text(f"{target}\n")
    report = collect_in(py, "", cwd=tmp_path, env=clean_env({"PYTHONPATH": str(by_hand)}))
    assert entry_for(report, by_hand)["origin"]["kind"] == "pythonpath"
    assert str(target) not in [e["path"] for e in entries(report)]
    f = one_finding(report, "pth-not-processed")
    assert f["severity"] == "warning"
    assert f["message"] == (f"{by_hand / 'extra.pth'} was never processed: its directory was put on sys.path by hand "
                            f"(PYTHONPATH environment variable), so {target} is not importable")
    # The same directory added with site.addsitedir() is processed: no finding.
    report = collect_in(py, f"import site; site.addsitedir({str(by_hand)!r})", cwd=tmp_path)
    assert entry_for(report, target)["origin"]["kind"] == "pth"
    assert "pth-not-processed" not in codes(report)


def test_editable_installs_pth_and_finder(editable_venv, tmp_path: Path) -> None:
    root, py = editable_venv
    site = site_packages(py)
    report = collect_in(py, "import pthpkg, finderpkg", cwd=tmp_path)
    src = entry_for(report, root / "p1" / "src")
    pth = str(site / "__editable__.pthproj-1.0.pth")
    assert src["origin"] == {"kind": "editable", "detail": f"{pth} line 1", "pth_file": pth, "line": 1}
    by_name = {d["name"]: d for d in report["distributions"]}
    p1, p2 = by_name["pthproj"], by_name["finderproj"]
    assert p1["editable"] is True and p1["editable_mode"] == "pth-path"
    assert p1["editable_paths"] == [str(root / "p1" / "src")]
    assert p1["direct_url"] == f"file://{root / 'p1'}" and p1["installer"] == "pip"
    assert p2["editable"] is True and p2["editable_mode"] == "finder"
    assert p2["editable_mapping"] == {"finderpkg": str(root / "p2" / "code")}
    assert p2["top_level"] == ["finderpkg"]
    [finder] = report["sys_path"]["editable_finders"]
    assert finder["module"] == "__editable___finderproj_0_2_finder"
    mods = {m["name"]: m for m in report["modules"]["top_level"]}
    assert mods["finderpkg"]["file"] == str(root / "p2" / "code" / "__init__.py")
    assert mods["finderpkg"]["matches_sys_path"] is True
    assert mods["pthpkg"]["file"] == str(root / "p1" / "src" / "pthpkg" / "__init__.py")
    assert mods["pthpkg"]["matches_sys_path"] is True
    # Both are standard mechanisms: no executable-line noise, no missing entries.
    assert report["findings"] == []


def test_editable_finder_loses_to_a_copy_on_sys_path(editable_venv, tmp_path: Path) -> None:
    """setuptools appends its finder to sys.meta_path: a stray copy on sys.path wins."""
    root, py = editable_venv
    stray = tmp_path / "stray"
    (stray / "finderpkg").mkdir(parents=True)
    (stray / "finderpkg" / "__init__.py").write_text("WHERE = 'stray'\n")
    report = collect_in(py, "import finderpkg; print(finderpkg.WHERE)", cwd=tmp_path,
                        env=clean_env({"PYTHONPATH": str(stray)}))
    assert report["_driver_stdout"].strip() == "stray"
    item = [m for m in report["shadowed"]["modules"] if m["name"] == "finderpkg"][0]
    assert item["winner"]["path"] == str(stray / "finderpkg")
    assert [l["kind"] for l in item["losers"]] == ["editable_finder"]
    assert item["losers"][0]["path"] == str(root / "p2" / "code")
    f = [f for f in findings(report, "shadowed-module") if "finderpkg" in f["message"]][0]
    assert str(stray / "finderpkg") in f["message"] and str(root / "p2" / "code") in f["message"]


def test_user_site_active(tmp_path: Path, py311: str) -> None:
    home = tmp_path / "home"
    user_site = home / ".local" / "lib" / "python3.11" / "site-packages"
    write_dist(user_site, "userdist", "3.0", {"userdist.py": "X = 1\n"})
    report = collect_in(py311, "", cwd=tmp_path, env=clean_env(home=str(home)))
    us = report["interpreter"]["user_site"]
    assert us["ENABLE_USER_SITE"] is True and us["USER_SITE"] == str(user_site) and us["HOME"] == str(home)
    e = entry_for(report, user_site)
    assert e["origin"]["kind"] == "user_site"
    # site.py puts the user site before the base installation's site-packages.
    base = [x for x in entries(report) if x["origin"]["kind"] == "base_site"]
    assert base and e["index"] < base[0]["index"]
    [d] = [d for d in report["distributions"] if d["name"] == "userdist"]
    assert d["location_index"] == e["index"]
    f = one_finding(report, "user-site-active")
    assert f["severity"] == "info"  # not a server process
    assert f["message"] == f"user site-packages {user_site} is on sys.path (HOME={home})"
    # A venv switches the user site off (site.py's rule).
    py = make_venv(tmp_path / "venv", py311)
    report = collect_in(py, "", cwd=tmp_path, env=clean_env(home=str(home)))
    assert report["interpreter"]["user_site"]["ENABLE_USER_SITE"] is False
    assert "user-site-active" not in codes(report)


def test_install_scheme_not_on_path(tmp_path: Path, py311: str) -> None:
    # -S: site.py never runs, so no site-packages is on sys.path (and, since
    # site.py is what detects a venv, sys.prefix stays the base installation)
    # -- but `python -S -m pip install` still writes to purelib.
    report = collect_in(py311, "", cwd=tmp_path, args=["-S"])
    purelib = report["interpreter"]["sysconfig_paths"]["purelib"]
    assert report["interpreter"]["flags"]["no_site"] == 1
    assert purelib == str(site_packages(py311))
    assert purelib not in [e["path"] for e in entries(report)]
    f = one_finding(report, "install-scheme-not-on-path")
    assert f["message"] == f"`pip install` with this interpreter writes to purelib = {purelib}, which is not on sys.path"
    # The normal start-up has it: no finding.
    assert "install-scheme-not-on-path" not in codes(collect_in(py311, "", cwd=tmp_path))
