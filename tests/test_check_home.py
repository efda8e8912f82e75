"""check-home on real venvs (no server): classification, installation match, access as www-data, prediction."""

from __future__ import annotations

import os

import pytest

from offline_helpers import codes, finding, run_cli, run_json
from report_helpers import pyenv_python
from venvprobe.offline import access, home

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="checking as www-data needs root")


def test_good_venv_is_clean_and_predicted(venv_factory):
    venv = venv_factory("venv")
    rc, res = run_json("check-home", str(venv.root))
    assert rc == 0 and res["findings"] == []
    facts = res["facts"]
    assert facts["kind"] == "venv" and facts["pyvenv_cfg"]["home"] in ("/usr/bin", "/bin")
    assert facts["embedder"]["libpython"].endswith("libpython3.11.so.1.0")
    assert "Py_SetProgramName" in facts["action"]
    pred = facts["prediction"]
    assert pred["ok"] and pred["values"]["prefix"] == str(venv.root) and pred["values"]["base_prefix"] == "/usr"
    assert str(venv.site_packages) in pred["values"]["path"]
    # the prediction really ran as the server user, not as root
    assert pred["as_user"] == ("www-data" if os.geteuid() == 0 else str(os.geteuid()))


@pytest.mark.parametrize("suffix", ["bin/python", "bin/python3", "lib/python3.11", "lib/python3.11/site-packages"])
def test_path_inside_the_venv_names_the_root(venv_factory, suffix):
    venv = venv_factory("venv")
    rc, res = run_json("check-home", f"{venv.root}/{suffix}")
    assert rc == 1
    f = finding(res, "python-home-not-venv-root")
    assert f"use python-home={venv.root}" in f["message"]
    assert res["facts"]["suggested"] == str(venv.root)
    assert res["facts"]["prediction"]["ok"] is False  # and mod_wsgi would die on it
    assert codes(res) == ["python-home-not-venv-root"]


def test_missing_not_a_venv_and_installation(tmp_path):
    rc, res = run_json("check-home", str(tmp_path / "nope"), "--no-predict")
    assert codes(res) == ["python-home-missing"]
    (tmp_path / "empty").mkdir()
    rc, res = run_json("check-home", str(tmp_path / "empty"), "--no-predict", "--user", "root")
    assert codes(res) == ["python-home-not-a-venv"]
    rc, res = run_json("check-home", "/usr", "--user", "root")
    assert rc == 0 and codes(res) == ["no-venv"]  # a full installation works, but is no venv
    assert res["facts"]["prediction"]["values"]["prefix"] == "/usr"


@root_only
def test_private_parent_and_unreadable_cfg_as_www_data(venv_factory, shared_tmp):
    private = shared_tmp / "private"
    private.mkdir()
    hidden = venv_factory("private/venv")
    os.chmod(private, 0o700)
    rc, res = run_json("check-home", str(hidden.root))
    f = finding(res, "python-home-inaccessible")
    assert f"{private} (drwx------ root:root)" in f["message"]
    assert any("confirmed by running test -x as www-data" in e for e in f["evidence"])
    # root itself would be fine: the check is about the user
    rc, res = run_json("check-home", str(hidden.root), "--user", "root")
    assert rc == 0
    locked = venv_factory("locked")
    os.chmod(locked.root / "pyvenv.cfg", 0o600)
    rc, res = run_json("check-home", str(locked.root))
    f = finding(res, "pyvenv-cfg-unreadable")
    assert "Py_SetPythonHome" in f["message"] and "encodings" in f["message"]
    assert "Py_SetPythonHome" in res["facts"]["action"]
    assert codes(res) == ["pyvenv-cfg-unreadable"]
    # group permission counts: www-data's group may read it
    os.chown(locked.root / "pyvenv.cfg", 0, access.lookup_user("www-data").gid)
    os.chmod(locked.root / "pyvenv.cfg", 0o640)
    assert run_json("check-home", str(locked.root))[0] == 0


@root_only
def test_unreadable_site_packages_is_the_live_code(venv_factory):
    venv = venv_factory("venv")
    os.chmod(venv.site_packages, 0o700)
    rc, res = run_json("check-home", str(venv.root))
    assert codes(res) == ["sys-path-unreadable"]  # same code the live report uses


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_venv_from_another_installation(venv_factory, version):
    exe = pyenv_python(version)
    if exe is None:
        pytest.skip(f"no pyenv Python {version}")
    venv = venv_factory("venv", python=exe)
    rc, res = run_json("check-home", str(venv.root))
    f = finding(res, "venv-python-mismatch")
    assert os.path.dirname(exe) in f["message"] and "3.11.2" in f["message"]
    if version == "3.12":
        assert "lib/python3.12" in f["message"]
        assert any("none of the venv's site-packages" in e for e in f["evidence"])
    else:
        assert "same 3.11 is not enough" in f["message"]
    # --python names the embedding interpreter directly: then that venv matches
    rc, res = run_json("check-home", str(venv.root), "--python", exe, "--user", "root")
    assert rc == 0, res["findings"]


def test_base_installation_gone(venv_factory, tmp_path):
    venv = venv_factory("venv")
    cfg = venv.root / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("home = /usr/bin", f"home = {tmp_path}/gone/bin"))
    rc, res = run_json("check-home", str(venv.root), "--no-predict")
    assert "venv-base-missing" in codes(res) and "venv-python-mismatch" in codes(res)


def test_uwsgi_plugin_mode(venv_factory):
    venv = venv_factory("venv")
    rc, res = run_json("check-home", str(venv.root), "--uwsgi-plugin", "python3")
    assert rc == 0 and "PEP 405" in res["facts"]["action"]
    assert res["facts"]["embedder"]["linked"]["object"].endswith("python3_plugin.so")
    rc, res = run_json("check-home", f"{venv.root}/bin/python", "--server", "uwsgi")
    f = finding(res, "python-home-not-venv-root")
    assert f"use home={venv.root}" in f["message"] and "home = <venv root>" in f["fix"]


def test_usage_errors_exit_2(tmp_path):
    for argv, words in ((["--user", "no-such-user-xyz"], "no user"), (["--python", str(tmp_path / "py")], "no interpreter"),
                        (["--mod-wsgi", str(tmp_path / "m.so")], "no mod_wsgi module")):
        rc, out, err = run_cli("check-home", "/usr", *argv)
        assert rc == 2 and words in err and "Traceback" not in err, err


def test_text_and_markdown(venv_factory):
    venv = venv_factory("venv")
    rc, out, err = run_cli("check-home", f"{venv.root}/bin/python")
    assert rc == 1 and "python-home-not-venv-root" in out and "== Python home ==" in out
    assert "predicted start-up" in out and "encodings" in out
    rc, out, err = run_cli("check-home", f"{venv.root}/bin/python", "--format", "markdown", "--fail-on", "never")
    assert rc == 0 and out.startswith("# venvprobe check-home: problems found \\(1 error, ")
    assert "- **error** `python-home-not-venv-root`: " in out


def test_classify_and_subinterpreter_scan(tmp_path):
    assert home.classify(str(tmp_path / "x")) == ("missing", None, None)
    sp = tmp_path / "site-packages"
    (sp / "lxml-5.0.dist-info").mkdir(parents=True)
    (sp / "fast").mkdir()
    (sp / "fast" / "_native.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF....pyo3_runtime....")
    found = dict(home.subinterpreter_unsafe([str(sp)]))
    assert set(found) == {"lxml", "fast"} and "PyO3" in found["fast"]


def test_permission_model_against_the_kernel(shared_tmp):
    """Mode-bit answers for www-data agree with test(1) run as www-data."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to www-data")
    user = access.lookup_user("www-data")
    d = shared_tmp / "perm"
    d.mkdir()
    cases = []
    for mode in (0o700, 0o750, 0o755, 0o711, 0o644, 0o600, 0o604):
        p = d / f"m{mode:o}"
        if mode & 0o100 or mode in (0o700,):
            p.mkdir()
        else:
            p.write_text("x")
        os.chmod(p, mode)
        for want in ("r", "x"):
            cases.append((str(p), want))
    kernel = access.confirm_as_user(cases, user)
    assert kernel is not None
    for path, want in cases:
        assert access.check_access(path, user, want).ok == kernel[(path, want)], (path, want)
