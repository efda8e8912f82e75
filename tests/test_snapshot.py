"""`venvprobe snapshot`: generated expectations pin a real report and pass against it."""

from __future__ import annotations

import copy

import pytest

from test_compare_helpers import PYV, base_truth, cli, save, statuses, venv_report
from venvprobe.compare import FAIL, PASS, compare
from venvprobe.expectations import load_file, loads
from venvprobe.snapshot import REASON_PLACEHOLDER, snapshot

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("snap")
    return {
        "base": base,
        "plain": venv_report(base / "plain", dists=[("demo-app", "1.4.2"), ("odd-version", "2024-custom")]),
        "system": venv_report(base / "system", system_site=True, dists=[("demo-app", "1.4.2")]),
        "shadow": venv_report(base / "shadow", dists=[("demo-app", "1.4.2")],
                              pth={"extra.pth": str(base / "shadow" / "extra") + "\n"},
                              extra_sites={"extra": [("demo-app", "1.0.0")]}),
        # Every character TOML and globs treat specially, in a real venv's path.
        "weird": venv_report(base / 'we ird "q" [1]*?\\x \u00e9\u4e2d'),
        "other": venv_report(base / "other", dists=[("demo-app", "1.5.0")]),
    }


@pytest.mark.parametrize("name", ["plain", "system", "shadow", "weird"])
def test_snapshot_passes_against_its_own_report(reports, name):
    report = reports[name]
    text = snapshot(report, f"{name}.json")
    results = compare(loads(text, "snap.toml"), report)
    assert [r for r in results if r.status == FAIL] == []
    assert sum(r.status == PASS for r in results) >= 8


def test_snapshot_pins_what_should_not_drift(reports):
    report = reports["plain"]
    data = tomllib.loads(snapshot(report, "plain.json"))
    root = str(reports["base"] / "plain")
    assert data["version"] == 1
    assert data["interpreter"] == {"python": PYV, "implementation": "cpython", "prefix": root,
                                   "base_prefix": report["interpreter"]["base_prefix"]}
    assert data["identity"] == {"in_venv": True}  # collected outside a server: no server pins
    assert data["sys_path"]["include"] == [f"{root}/lib/python{PYV}/site-packages"]
    assert data["sys_path"]["exclude"] == ["origin:user_site", "origin:pythonpath", "origin:base_site"]
    assert data["distributions"]["only_from_venv"] is True
    assert data["distributions"]["require"] == {"demo-app": "==1.4.2", "odd-version": "===2024-custom"}
    assert data["shadowing"] == {"allow": []}
    assert data["findings"]["max"] == {"error": 0, "warning": 0, "info": 0}
    assert data["workers"] == {"identical": True}


def test_snapshot_of_a_system_site_venv_keeps_the_order(reports):
    data = tomllib.loads(snapshot(reports["system"]))
    assert data["sys_path"]["before"] == [["origin:venv_site", "origin:base_site"]]
    assert "origin:base_site" not in data["sys_path"]["exclude"]
    allowed = {a["code"]: a["reason"] for a in data["findings"]["allow"]}
    assert "base-site-visible" in allowed and set(allowed.values()) == {REASON_PLACEHOLDER}
    # The base's packages are visible: every one is pinned, with ==.
    dist = base_truth()["dist"]
    assert data["distributions"]["require"][dist["name"]] == f"=={dist['version']}"


def test_snapshot_allows_existing_shadowing_with_a_placeholder(reports):
    data = tomllib.loads(snapshot(reports["shadow"]))
    assert data["shadowing"]["allow"] == [{"name": "demo-app", "reason": REASON_PLACEHOLDER},
                                          {"name": "demo_app", "reason": REASON_PLACEHOLDER}]
    assert data["distributions"]["require"]["demo-app"] == "==1.4.2"  # the copy import finds


def test_snapshot_pins_mod_wsgi_identity(reports):
    report = copy.deepcopy(reports["plain"])
    report["identity"]["server"] = {"kind": "mod_wsgi", "mode": "daemon", "process_group": "shop",
                                    "application_group": ""}
    report["process"]["user"] = "www-data"
    text = snapshot(report)
    data = tomllib.loads(text)
    assert data["identity"] == {"in_venv": True, "main_interpreter": True, "server": "mod_wsgi", "mode": "daemon",
                                "process_group": "shop", "application_group": "%{GLOBAL}", "user": "www-data"}
    assert all(r.status == PASS for r in compare(loads(text), report) if r.check.startswith("identity"))


def test_snapshot_catches_drift_to_another_venv(reports):
    exp = loads(snapshot(reports["plain"]))
    got = statuses(compare(exp, reports["other"]))
    failing = {k for k, v in got.items() if v == FAIL}
    assert failing == {"interpreter.prefix", f"sys_path.include: {reports['base']}/plain/lib/python{PYV}/site-packages",
                       "distributions.require: demo-app", "distributions.require: odd-version"}


def test_cli_snapshot_writes_and_refuses_to_overwrite(reports, tmp_path):
    report_file = save(reports["plain"], tmp_path / "plain.json")
    out = tmp_path / "exp.toml"
    rc, stdout, err = cli("snapshot", str(report_file), "-o", str(out))
    assert (rc, stdout) == (0, "")
    assert err == f"venvprobe snapshot: wrote {out}\n"
    assert load_file(str(out)).distributions.require
    rc, _, err = cli("compare", str(out), str(report_file))
    assert rc == 0
    out.write_text("# trimmed by hand\n")
    rc, _, err = cli("snapshot", str(report_file), "-o", str(out))
    assert rc == 2 and "use --force" in err
    assert out.read_text() == "# trimmed by hand\n"
    rc, _, _ = cli("snapshot", str(report_file), "-o", str(out), "--force", "--no-distributions")
    assert rc == 0 and "[distributions" not in out.read_text()


def test_cli_snapshot_of_an_interpreter_and_of_this_one(reports, tmp_path):
    python = reports["base"] / "shadow" / "bin" / "python"
    rc, text, err = cli("snapshot", "--python", str(python))
    assert rc == 0 and err == ""
    assert 'name = "demo-app"' in text
    rc, text2, _ = cli("snapshot", f"python:{python}")
    assert rc == 0 and text2.splitlines()[5:] == text.splitlines()[5:]
    rc, text, _ = cli("snapshot")
    assert rc == 0 and "the interpreter running venvprobe" in text
    rc, _, err = cli("snapshot", str(tmp_path / "missing.json"))
    assert rc == 2 and "does not exist" in err
