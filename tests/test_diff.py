"""`venvprobe diff A B` on reports of real venvs."""

from __future__ import annotations

import copy
import json

import pytest

from test_compare_helpers import PYV, base_truth, cli, save, venv_report
from venvprobe.diff import diff_reports, render_diff, summary_line
from venvprobe.report import collect_foreign


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    staging = venv_report(base / "staging", dists=[("demo-app", "1.4.2"), ("helper-lib", "0.9")])
    return {
        "base": base,
        "staging": staging,
        "staging_again": collect_foreign(str(base / "staging" / "bin" / "python")),
        "prod": venv_report(base / "prod", system_site=True, dists=[("demo-app", "1.5.0"), ("extra-lib", "2.0")]),
    }


def test_two_processes_of_one_venv_do_not_differ(reports):
    a, b = reports["staging"], reports["staging_again"]
    assert a["identity"]["pid"] != b["identity"]["pid"]
    d = diff_reports(a, b)
    assert d["same"], d
    assert summary_line(d) is None
    assert "No differences" in render_diff(d)


def test_staging_vs_prod(reports):
    a, b = reports["staging"], reports["prod"]
    d = diff_reports(a, b)
    assert not d["same"]
    fields = {c["field"]: c for c in d["interpreter"]}
    assert fields["prefix"]["a"] == str(reports["base"] / "staging")
    assert fields["prefix"]["b"] == str(reports["base"] / "prod")
    assert fields["pyvenv_cfg.include_system_site_packages"] == {
        "field": "pyvenv_cfg.include_system_site_packages", "a": False, "b": True, "only_in": None}
    # sys.path: the prod venv's site-packages replaces staging's, and the base's is added after it.
    ops = [(l["op"], l["origin"]) for l in d["sys_path"]["lines"] if l["op"] != "="]
    base_dirs = base_truth()["site_dirs"]  # Debian's base has two (/usr/local/lib/... and /usr/lib/python3/...)
    assert ops == [("-", "venv_site"), ("+", "venv_site")] + [("+", "base_site")] * len(base_dirs)
    dists = d["distributions"]
    assert [x["name"] for x in dists["removed"]] == ["helper-lib"]
    assert "extra-lib" in [x["name"] for x in dists["added"]]
    assert base_truth()["dist"]["name"] in [x["name"] for x in dists["added"]]  # visible from the base installation
    assert dists["changed"] == [{
        "name": "demo-app", "a_version": "1.4.2", "b_version": "1.5.0",
        "a_location": str(reports["base"] / "staging" / "lib" / f"python{PYV}" / "site-packages"),
        "b_location": str(reports["base"] / "prod" / "lib" / f"python{PYV}" / "site-packages"),
        "a_origin": "venv_site", "b_origin": "venv_site"}]
    assert "base-site-visible" in [f["code"] for f in d["findings"]["added"]]
    assert summary_line(d).startswith("differ: ")


def test_moved_sys_path_entry_and_origin_change(reports):
    a = reports["staging"]
    b = copy.deepcopy(a)
    entries = b["sys_path"]["entries"]
    entries.append(entries.pop(1))  # stdlib moved to the end
    entries[0]["origin"] = {"kind": "pythonpath"}
    d = diff_reports(a, b)["sys_path"]
    assert d["moved"] == [a["sys_path"]["entries"][1]["path"]]
    assert {l["op"] for l in d["lines"] if l.get("moved")} == {"-", "+"}
    assert d["origins_changed"] == [{"path": entries[0]["path"], "a": a["sys_path"]["entries"][0]["origin"]["kind"],
                                     "b": "pythonpath"}]


def test_cli_formats_and_exit_codes(reports, tmp_path):
    a = save(reports["staging"], tmp_path / "staging.json")
    b = save(reports["prod"], tmp_path / "prod.json")
    again = save(reports["staging_again"], tmp_path / "again.json")
    rc, out, err = cli("diff", str(a), str(again))
    assert (rc, err) == (0, "") and "No differences" in out
    rc, out, _ = cli("diff", str(a), str(b))
    assert rc == 1
    assert "== sys.path order" in out and "== Distributions" in out
    assert any(l.startswith("changed") and "demo-app" in l and "1.4.2" in l and "1.5.0" in l for l in out.splitlines())
    rc, md, _ = cli("diff", str(a), str(b), "--format", "markdown")
    assert rc == 1 and md.startswith("# venvprobe diff: A and B differ: ") and f"- A: `{a}`\n- B: `{b}`" in md
    assert "### Distributions" in md and "| changed | `demo-app` | `1.4.2` | `1.5.0` |" in md
    rc, js, _ = cli("diff", str(a), str(b), "-f", "json")
    data = json.loads(js)
    assert rc == 1 and data["same"] is False and data["a"] == str(a) and data["b"] == str(b)
    rc, out, _ = cli("diff", "-", str(b), stdin=a.read_bytes())
    assert rc == 1 and "<stdin>" in out
    python = reports["base"] / "staging" / "bin" / "python"
    rc, out, _ = cli("diff", str(a), f"python:{python}")
    assert rc == 0, out


def test_cli_errors_exit_2(reports, tmp_path):
    a = save(reports["staging"], tmp_path / "a.json")
    rc, out, err = cli("diff", str(a), str(tmp_path / "missing.json"))
    assert rc == 2 and out == "" and "does not exist" in err and "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": {"name": "venvprobe.report", "version": 99}}')
    rc, _, err = cli("diff", str(a), str(bad))
    assert rc == 2 and "upgrade venvprobe" in err
