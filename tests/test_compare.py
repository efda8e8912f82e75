"""Each kind of expectation rule, passing and failing, against reports of real venvs."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest

from test_compare_helpers import BASE_PYTHON, PYV, base_truth, statuses, venv_report
from venvprobe.compare import FAIL, PASS, SKIP, compare, compare_workers
from venvprobe.expectations import loads
from venvprobe.report import collect_foreign


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("cmp")
    plain = venv_report(base / "plain", dists=[("demo-app", "1.4.2"), ("helper-lib", "0.9")])
    # A venv that sees the base installation and imports a module of one of its distributions at
    # start-up (sitecustomize runs once every site dir is on sys.path).
    truth = base_truth()
    system = venv_report(base / "system", system_site=True, dists=[("demo-app", "1.4.2")],
                         files={name: f"import {truth['dist']['module']}\n"
                                # Debian's stdlib has a sitecustomize of its own that wins; usercustomize
                                # runs too (user site stays on with system site packages).
                                for name in ("sitecustomize.py", "usercustomize.py")})
    # Two copies of demo-app: the venv's wins, the one a .pth file appends loses.
    shadow = venv_report(base / "shadow", dists=[("demo-app", "1.4.2")],
                         pth={"extra.pth": str(base / "shadow" / "extra") + "\n"},
                         extra_sites={"extra": [("demo-app", "1.0.0")]})
    return {"plain": plain, "system": system, "shadow": shadow, "base": base, "truth": truth,
            "plain_again": collect_foreign(str(base / "plain" / "bin" / "python"))}


def check(text: str, report: dict, **kw):
    results = compare(loads(textwrap.dedent(text), "exp.toml"), report, **kw)
    return statuses(results), results


def test_interpreter_rules(reports):
    plain = reports["plain"]
    root = str(reports["base"] / "plain")
    got, results = check(f"""\
        [interpreter]
        python = "{PYV}"
        prefix = "{root}"
        base_prefix = {{ glob = "{reports['truth']['base_prefix']}*" }}
        version = {{ version = "=={PYV}.*" }}
        implementation = {{ one_of = ["cpython", "pypy"] }}
        in_venv = true
        """, plain)
    assert set(got.values()) == {PASS}, results
    got, results = check(f"""\
        [interpreter]
        python = "3.12"
        prefix = "{root}-other"
        base_prefix = {{ glob = "/usr/*" }}
        version = {{ version = "~=3.10.0" }}
        implementation = {{ one_of = ["pypy"] }}
        in_venv = false
        """, plain)
    assert set(got.values()) == {FAIL}
    by_id = {r.check: r for r in results}
    assert by_id["interpreter.python"].actual == PYV
    assert by_id["interpreter.python"].line == 2
    assert by_id["interpreter.prefix"].actual == root
    assert by_id["interpreter.version"].expected == "version ~=3.10.0"


def test_identity_rules(reports):
    plain = reports["plain"]
    got, results = check("""\
        [identity]
        in_venv = true
        main_interpreter = true
        interpreter_id = 0
        server = "none"
        user = "root"
        """, plain)
    assert set(got.values()) == {PASS}, results
    got, results = check("""\
        [identity]
        server = { one_of = ["mod_wsgi", "uwsgi"] }
        process_group = "shop"
        """, plain)
    assert got == {"identity.server": FAIL, "identity.process_group": FAIL}
    assert results[0].actual == "none"
    assert results[1].actual == "(missing)"


def test_mod_wsgi_global_application_group_alias(reports):
    # compare() is pure: give a real report the identity a mod_wsgi daemon would have.
    report = copy.deepcopy(reports["plain"])
    report["identity"]["server"] = {"kind": "mod_wsgi", "mode": "daemon", "process_group": "shop",
                                    "application_group": ""}
    text = """\
        [identity]
        server = "mod_wsgi"
        mode = "daemon"
        process_group = "shop"
        application_group = "%{GLOBAL}"
        """
    got, results = check(text, report)
    assert set(got.values()) == {PASS}
    assert results[-1].actual == '"" (%{GLOBAL})'
    report["identity"]["server"]["application_group"] = "shop.example|/"
    got, _ = check(text, report)
    assert got["identity.application_group"] == FAIL


def test_fields_rules(reports):
    got, results = check("""\
        [fields]
        "interpreter.flags.isolated" = 0
        "sys_path.entries.0.origin.kind" = "stdlib_zip"
        identity.server.kind = { one_of = ["none", "other"] }
        "interpreter.pyvenv_cfg.include_system_site_packages" = false
        "process.no_such_field" = "x"
        """, reports["plain"])
    assert got == {"interpreter.flags.isolated": PASS, "sys_path.entries.0.origin.kind": PASS,
                   "identity.server.kind": PASS, "interpreter.pyvenv_cfg.include_system_site_packages": PASS,
                   "process.no_such_field": FAIL}, results
    assert results[-1].actual == "(missing)"


def test_sys_path_rules(reports):
    plain, system = reports["plain"], reports["system"]
    base_prefix = reports["truth"]["base_prefix"]
    text = f"""\
        [sys_path]
        first = "{base_prefix}/lib/python{PYV.replace('.', '')}.zip"
        before = [["origin:venv_site", "origin:base_site"], ["origin:stdlib", "**/site-packages"]]
        include = ["{reports['base']}/*/lib/python3.*/site-packages", "origin:lib_dynload"]
        exclude = ["origin:user_site", "origin:pythonpath"]
        """
    got, results = check(text, system)
    assert set(got.values()) == {PASS}, results
    # The plain venv has no base site-packages: "before" is met vacuously.
    got, results = check(text, plain)
    assert set(got.values()) == {PASS}, results
    assert "nothing matches origin:base_site" in results[1].actual

    got, results = check(f"""\
        [sys_path]
        first = "origin:venv_site"
        before = [["origin:base_site", "origin:venv_site"], ["origin:user_site", "origin:stdlib"]]
        include = ["/opt/*/site-packages"]
        exclude = ["origin:base_site", "{base_prefix}/lib/python{PYV}/**"]
        """, system)
    assert set(got.values()) == {FAIL}, results
    by_id = {r.check: r for r in results}
    assert by_id["sys_path.first"].actual.startswith("[0] ")
    assert " after " in by_id["sys_path.before: origin:base_site < origin:venv_site"].actual
    assert by_id["sys_path.before: origin:user_site < origin:stdlib"].actual == "no entry matches origin:user_site"
    assert by_id["sys_path.include: /opt/*/site-packages"].actual == "no entry matches"
    assert any(d in by_id["sys_path.exclude: origin:base_site"].actual for d in reports["truth"]["site_dirs"])


def test_distribution_rules(reports):
    plain = reports["plain"]
    got, results = check("""\
        [distributions]
        forbid = ["pycrypto"]
        only_from_venv = true
        [distributions.require]
        demo-app = ">=1.4,<2"
        Helper_Lib = ""
        """, plain)
    assert set(got.values()) == {PASS}, results
    got, results = check("""\
        [distributions]
        forbid = ["helper.lib"]
        [distributions.require]
        demo-app = "==1.4.1"
        flask = ">=2"
        """, plain)
    assert set(got.values()) == {FAIL}
    by_id = {r.check: r for r in results}
    assert by_id["distributions.require: demo-app"].actual == "1.4.2"
    assert by_id["distributions.require: demo-app"].detail == f"from {reports['base']}/plain/lib/python{PYV}/site-packages"
    assert by_id["distributions.require: flask"].actual == "not installed (not on sys.path)"
    assert by_id["distributions.forbid: helper.lib"].actual == "0.9 installed"


def test_only_from_venv(reports):
    text = "[distributions]\nonly_from_venv = true\n"
    got, results = check(text, reports["system"])
    assert got["distributions.only_from_venv"] == FAIL
    dist = reports["truth"]["dist"]
    assert f"{dist['name']} ({dist['dir']}/" in results[0].detail, results[0].detail
    got, results = check(text, collect_foreign(BASE_PYTHON))
    assert got["distributions.only_from_venv"] == FAIL
    assert results[0].actual.startswith("no venv in use")


def test_shadowing_rules(reports):
    shadow = reports["shadow"]
    got, results = check("[shadowing]\n", shadow)
    assert got == {"shadowing": FAIL}
    assert results[0].actual == "shadowed: demo-app, demo_app"
    assert "1.4.2" in results[0].detail and "1.0.0" in results[0].detail
    got, results = check("""\
        [shadowing]
        allow = [
          { name = "demo-app", reason = "old copy kept for the rollback script" },
          { name = "demo_app", reason = "its module" },
        ]
        """, shadow)
    assert got == {"shadowing": PASS}
    assert "old copy kept for the rollback script" in results[0].detail
    assert check("[shadowing]\n", reports["plain"])[0] == {"shadowing": PASS}


def test_findings_rules(reports):
    system = reports["system"]
    codes = {f["code"] for f in system["findings"]}
    assert {"base-site-visible", "base-site-imported", "pth-executable-line"} <= codes
    # The venv was made with --system-site-packages: base packages in use are
    # what was asked for, so they are info, not warnings (issue 10).
    got, results = check("""\
        [findings]
        max = { error = 0, warning = 0, info = 0 }
        forbid = ["base-site-imported", "stdlib-shadowed"]
        """, system)
    assert got == {"findings.max: error": PASS, "findings.max: warning": PASS, "findings.max: info": FAIL,
                   "findings.forbid: base-site-imported": FAIL, "findings.forbid: stdlib-shadowed": PASS}
    assert "base-site-imported" in results[2].actual
    got, results = check("""\
        [findings]
        max = { error = 0, warning = 0, info = 0 }
        allow = [
          { code = "base-site-visible", reason = "Debian tools in the base are visible on purpose" },
          { code = "base-site-imported", reason = "six comes from the base, ticket OPS-12" },
          { code = "pth-executable-line", reason = "our own .pth" },
        ]
        """, system)
    other = {f["code"] for f in system["findings"]} - {"base-site-visible", "base-site-imported", "pth-executable-line"}
    assert set(got.values()) == ({PASS} if not other else {PASS, FAIL}), (other, results)
    assert "ticket OPS-12" in results[1].detail


def test_workers_identical(reports):
    text = "[workers]\nidentical = true\n"
    exp = loads(text)
    one = compare(exp, reports["plain"])
    assert [(r.status, r.actual) for r in one] == [(SKIP, "1 sample")]
    # Two real processes of the same venv: two workers, the same fingerprint.
    two = compare_workers(exp, [reports["plain"], reports["plain_again"]])
    assert [(r.status, r.actual) for r in two] == [(PASS, "2 workers, all identical")]
    # A worker of another venv behind the same URL: caught, and named.
    odd = reports["system"]
    three = compare_workers(exp, [reports["plain"], reports["plain_again"], odd])
    (result,) = three
    assert result.status == FAIL
    label = f"pid {odd['identity']['pid']}"
    assert result.workers == [label]
    assert result.actual.startswith(f"{label} differs: interpreter: ")
    assert f"prefix {odd['interpreter']['prefix']} (others: {reports['plain']['interpreter']['prefix']})" in result.actual
    assert "sys_path: +" in result.actual
    ignoring = loads('[workers]\nidentical = true\nignore = ["interpreter", "sys_path", "distributions", "findings", "code"]\n')
    assert compare_workers(ignoring, [reports["plain"], odd])[0].status == PASS


def test_per_worker_results_are_merged(reports):
    exp = loads('[distributions]\nonly_from_venv = true\n[interpreter]\npython = "3.11"\n')
    merged = compare_workers(exp, [reports["plain"], reports["system"]])
    by_id = {r.check: r for r in merged}
    assert by_id["interpreter.python"].status == PASS and by_id["interpreter.python"].workers == []
    r = by_id["distributions.only_from_venv"]
    assert r.status == FAIL
    assert r.workers == [f"pid {reports['system']['identity']['pid']}"]
    assert r.actual.startswith(f"pid {reports['system']['identity']['pid']}: ")  # failing first
    assert " from outside: " in r.actual
    assert f"; pid {reports['plain']['identity']['pid']}: all from the venv" in r.actual


def test_section_not_collected_fails_with_the_reason(reports):
    report = copy.deepcopy(reports["plain"])
    report["sys_path"] = {"error": "PermissionError: [Errno 13] nope"}
    got, results = check('[sys_path]\ninclude = ["/x"]\n', report)
    assert got == {"sys_path.include: /x": FAIL}
    assert results[0].actual == "(not collected: PermissionError: [Errno 13] nope)"


def test_results_carry_the_line_of_their_rule(reports):
    text = Path(__file__).resolve().parents[1].joinpath("docs", "expectations.example.toml").read_text()
    results = {r.check: r for r in compare(loads(text, "example.toml"), reports["plain"])}
    lines = text.splitlines()
    assert all(r.line for r in results.values())

    def line(check: str) -> str:
        return lines[results[check].line - 1]

    assert line("interpreter.prefix").startswith('prefix = "/srv/shop/venv"')
    assert line("identity.application_group").startswith("application_group =")
    assert line("sys_path.before: origin:venv_site < origin:base_site").startswith("before =")
    assert line("distributions.require: django").startswith("django =")
    assert line("findings.forbid: stdlib-shadowed").startswith("forbid =")
    assert line("workers.identical").startswith("identical = true")
    assert line("interpreter.home.source").startswith('"interpreter.home.source"')
