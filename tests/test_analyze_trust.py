"""Issue 10's severity rules on hand-written reports (the corpus, tests/test_corpus.py, checks the
same on real environments): what runs decides a venv mismatch, not where the binary sits; what the
user asked for is info; a stray file hiding an installed package, a .pth naming a missing directory,
two metadata directories of one distribution and another Python's site-packages are reported."""

from __future__ import annotations

from typing import List

from test_analyze_report import PREFIX, _entry, mini_report
from venvprobe.analyze import analyze

SITE = PREFIX + "/lib/python3.11/site-packages"


def of(report: dict, code: str) -> List[dict]:
    return [f for f in analyze(report) if f["code"] == code]


def copies_report(**cfg: str) -> dict:
    """A `venv --copies` venv run by its own copy of /opt/py's python (a static build: no libpython)."""
    r = mini_report(server="none")
    r["interpreter"].update(base_prefix="/opt/py", base_prefix_real="/opt/py", version="3.11.2",
                            real_executable=PREFIX + "/bin/python3.11", mapped_objects=[])
    r["interpreter"]["pyvenv_cfg"].update(dict({"home": "/opt/py/bin", "version": "3.11.2"}, **cfg))
    return r


def test_venv_copies_of_the_same_python_is_not_a_mismatch() -> None:
    r = copies_report()
    assert not of(r, "venv-python-mismatch") and not of(r, "interpreter-installation-mismatch")


def test_venv_copies_with_another_release_or_foreign_libpython_still_is() -> None:
    older = copies_report(version="3.11.1")
    assert [f["severity"] for f in of(older, "venv-python-mismatch")] == ["error"]
    foreign = copies_report()
    foreign["interpreter"]["mapped_objects"] = ["/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"]
    got = of(foreign, "venv-python-mismatch")
    assert len(got) == 1
    assert "mapped /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 is not under base_prefix /opt/py" in got[0]["evidence"]


def _system_site(asked: bool) -> dict:
    r = mini_report(server="none")
    r["interpreter"]["pyvenv_cfg"]["include_system_site_packages"] = asked
    r["sys_path"]["entries"].append(_entry(3, "/usr/lib/python3/dist-packages", "base_site"))
    r["distributions"] = [
        {"name": "pip", "version": "24.3.1", "location": SITE, "location_index": 2, "metadata_path": SITE + "/pip-24.3.1.dist-info"},
        {"name": "pip", "version": "23.0.1", "location": "/usr/lib/python3/dist-packages", "location_index": 3,
         "metadata_path": "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info"},
    ]
    r["shadowed"]["distributions"] = [{
        "name": "pip", "versions_differ": True,
        "winner": {"version": "24.3.1", "location": SITE, "location_index": 2, "metadata_path": SITE + "/pip-24.3.1.dist-info"},
        "losers": [{"version": "23.0.1", "location": "/usr/lib/python3/dist-packages", "location_index": 3,
                    "metadata_path": "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info"}],
    }]
    return r


def test_system_site_packages_asked_for_is_info() -> None:
    asked = _system_site(True)
    assert [f["severity"] for f in of(asked, "base-site-visible")] == ["info"]
    assert [f["severity"] for f in of(asked, "shadowed-distribution")] == ["info"]
    not_asked = _system_site(False)  # base dirs appended by hand: not what the venv was made for
    assert [f["severity"] for f in of(not_asked, "base-site-visible")] == ["warning"]
    assert [f["severity"] for f in of(not_asked, "shadowed-distribution")] == ["warning"]


def _shadow(winner_owned: bool) -> dict:
    r = mini_report(server="none")
    r["sys_path"]["entries"].insert(0, _entry(0, "/srv/app", "script_dir"))
    for i, e in enumerate(r["sys_path"]["entries"]):
        e["index"] = i
    r["distributions"] = [{"name": "requests", "version": "2.32.3", "location": SITE, "location_index": 3,
                           "top_level": ["requests"]}]
    if winner_owned:
        r["distributions"].append({"name": "requests", "version": "2.0", "location": "/srv/app", "location_index": 0,
                                   "top_level": ["requests"]})
    r["shadowed"]["modules"] = [{
        "name": "requests", "kind": "module", "stdlib": False,
        "winner": {"index": 0, "entry": "/srv/app", "kind": "module", "path": "/srv/app/requests.py"},
        "losers": [{"index": 3, "entry": SITE, "kind": "package", "path": SITE + "/requests"}],
    }]
    return r


def test_stray_file_hiding_an_installed_package_is_a_warning() -> None:
    got = of(_shadow(False), "shadowed-module")
    assert [f["severity"] for f in got] == ["warning"]
    assert "/srv/app/requests.py (sys.path[0]) hides" in got[0]["message"]
    assert "the hidden copy is the installed distribution requests 2.32.3" in got[0]["message"]
    assert [f["severity"] for f in of(_shadow(True), "shadowed-module")] == ["info"]
    # An app's tests/ over the tests/ a badly packaged distribution installed: nothing imports that one.
    leftover = _shadow(False)
    leftover["distributions"][0]["top_level"] = ["requests", "tests"]
    leftover["shadowed"]["modules"][0]["name"] = "tests"
    assert [f["severity"] for f in of(leftover, "shadowed-module")] == ["info"]


def test_pth_line_naming_a_missing_directory() -> None:
    r = mini_report(server="none")
    r["sys_path"]["pth_files"] = [{"file": SITE + "/deploy.pth", "dir": SITE, "lines": [
        {"line": 1, "kind": "path", "text": "/srv/lib-typo", "target": "/srv/lib-typo", "exists": False, "on_sys_path": False},
        {"line": 2, "kind": "path", "text": "/srv/lib", "target": "/srv/lib", "exists": True, "on_sys_path": True},
    ]}]
    (f,) = of(r, "pth-path-missing")
    assert f["severity"] == "warning"
    assert f["message"].startswith(f"{SITE}/deploy.pth line 1 names /srv/lib-typo, which does not exist")
    assert f["evidence"] == [f"{SITE}/deploy.pth:1: /srv/lib-typo -> /srv/lib-typo (missing)"]


def test_two_metadata_directories_in_one_directory() -> None:
    r = mini_report(server="none")
    r["distributions"] = [
        {"name": "six", "version": v, "location": "/srv/t", "location_index": 3, "format": "dist-info",
         "metadata_path": f"/srv/t/six-{v}.dist-info"} for v in ("1.15.0", "1.16.0")]
    (f,) = of(r, "duplicate-distribution-metadata")
    assert f["severity"] == "warning"
    assert "six has 2 metadata directories in /srv/t: 1.15.0 (six-1.15.0.dist-info), 1.16.0 (six-1.16.0.dist-info)" in f["message"]
    # Debian ships <name>.egg-info beside <name>-<v>.dist-info of the same version: untidy, harmless.
    r["distributions"][1].update(version="1.15.0", format="egg-info", metadata_path="/srv/t/six.egg-info")
    assert [f["severity"] for f in of(r, "duplicate-distribution-metadata")] == ["info"]


def test_site_packages_of_another_python() -> None:
    r = mini_report(server="none")
    other = "/srv/old/lib/python3.9/site-packages"
    r["sys_path"]["entries"].insert(0, _entry(0, other, "pythonpath", other_python_site={
        "python": "3.9", "venv_root": "/srv/old", "venv_version": "3.9.18", "venv_home": "/usr/local/bin"}))
    r["sys_path"]["entries"][0]["origin"]["detail"] = "PYTHONPATH environment variable"
    (f,) = of(r, "site-packages-other-python")
    assert f["severity"] == "error"
    assert f["message"] == (f"sys.path[0] = {other} is the site-packages of the venv /srv/old made by Python 3.9.18, "
                            "added by PYTHONPATH environment variable; this process runs Python 3.11.2")
    # Added at run time, the venv-python-mismatch check names it already: one cause, one finding.
    r["sys_path"]["entries"][0]["origin"]["kind"] = "runtime_venv_site"
    assert not of(r, "site-packages-other-python")
