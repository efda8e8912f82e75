"""`venvprobe report` end to end: --python on a venv that has nothing of
venvprobe in it, every format, --input round trips, and one-line errors with
exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from report_helpers import clean_env, make_venv, need_python, pyenv_python, venvprobe_cli


def _tree(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with nothing but the interpreter: no venvprobe, no pip, no psutil, no tabulate."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    make_venv(root, need_python("3.11"))
    return root


def test_python_on_bare_venv_all_formats_and_nothing_written(bare_venv: Path, tmp_path: Path) -> None:
    py = bare_venv / "bin" / "python"
    check = subprocess.run([str(py), "-c", "import venvprobe"], capture_output=True, cwd=tmp_path, env=clean_env())
    assert check.returncode != 0  # really nothing of venvprobe in there
    before = _tree(bare_venv)
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))
    outputs = {}
    for fmt in ("json", "text", "markdown", "html"):
        res = venvprobe_cli("report", "--python", str(py), "--format", fmt, env=env)
        assert res.returncode == 0, res.stderr.decode()
        assert res.stderr == b""
        outputs[fmt] = res.stdout.decode()
    report = json.loads(outputs["json"])
    assert report["schema"] == {"name": "venvprobe.report", "version": 1}
    for key in ("generated_at", "interpreter", "identity", "sys_path", "distributions", "shadowed",
                "findings", "process", "modules", "environment", "collector"):
        assert key in report, key
    assert report["interpreter"]["prefix"] == str(bare_venv)
    assert report["collector"]["in_process"] is False
    assert report["findings"] == []
    site = report["sys_path"]["entries"][-1]["path"]
    assert site in outputs["text"] and "== sys.path (in order) ==" in outputs["text"]
    assert "| `venv_site` |" in outputs["markdown"] and outputs["markdown"].startswith("# venvprobe report: ")
    assert outputs["html"].startswith("<!DOCTYPE html>") and site in outputs["html"]
    assert _tree(bare_venv) == before  # nothing installed or compiled into the target
    # The collector's bytecode is cached outside the target, per cache tag.
    # (every format above takes the CLI's fast path: collector + analysis cached as one "report-" entry)
    cached = list((tmp_path / "cache" / "venvprobe").glob("report-*-cpython-311.bin"))
    assert len(cached) == 1


def test_sections_and_output_file(bare_venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = venvprobe_cli("report", "--python", str(bare_venv), "-f", "json", "--section", "path", "-o", str(out),
                        env=clean_env())
    assert res.returncode == 0 and res.stdout == b""
    data = json.loads(out.read_text())
    assert set(data) == {"schema", "generated_at", "identity", "sys_path", "sections"}
    # Part of a report is not a report: re-reading it would analyse absent sections.
    res = venvprobe_cli("report", "--input", str(out), "-f", "text", "--section", "path", env=clean_env())
    assert res.returncode == 2 and res.stdout == b""
    err = res.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "part of a report (it holds: identity, sys_path)" in err


def test_input_round_trip_reanalyses(bare_venv: Path, tmp_path: Path) -> None:
    res = venvprobe_cli("report", "--python", str(bare_venv), "-f", "json", env=clean_env())
    report = json.loads(res.stdout)
    # Analysis is a pure function of the data: edit the saved report, re-read it.
    report["sys_path"]["entries"].append({"index": 99, "path": "/gone", "exists": False, "origin": {"kind": "runtime", "detail": "x"}})
    report["findings"] = []
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(report))
    res = venvprobe_cli("report", "--input", str(saved), "-f", "json", "--fail-on", "warning", env=clean_env())
    assert res.returncode == 1  # a warning now exists
    again = json.loads(res.stdout)
    assert [f["code"] for f in again["findings"]] == ["sys-path-missing"]
    res = venvprobe_cli("report", "--input", "-", "-f", "text", env=clean_env(), input=saved.read_bytes())
    assert res.returncode == 0 and b"sys-path-missing" in res.stdout


@pytest.mark.parametrize("args,message", [
    (["--python", "/nonexistent/python"], "no interpreter at '/nonexistent/python'"),
    (["--python", "/etc/hostname"], ("'/etc/hostname' is not executable", "cannot run /etc/hostname: Exec format error")),
    (["--python", "/bin/false"], "/bin/false exited with status 1: no error output"),
    (["--python", "/bin/echo"], "/bin/echo printed something that is not a report"),
    (["--python", "/etc"], "'/etc' is a directory with no bin/python in it"),
    (["--input", "/nonexistent.json"], "report '/nonexistent.json' does not exist"),
    (["--input", "/etc"], "report '/etc' is a directory"),
    (["--input", "/etc/hostname"], "'/etc/hostname' is not JSON"),
])
def test_errors_are_one_line_exit_2(args, message, tmp_path: Path) -> None:
    res = venvprobe_cli("report", *args, env=clean_env())
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert res.stdout == b""
    assert err.count("\n") == 1 and "Traceback" not in err
    messages = message if isinstance(message, tuple) else (message,)
    assert err.startswith("venvprobe report: ") and any(m in err for m in messages), err


def test_error_old_python_and_bad_reports(tmp_path: Path) -> None:
    py27 = pyenv_python("2.7")
    cases = []
    if py27:
        cases.append((["--python", py27], "the collector needs Python 3.6 or newer, this is 2.7."))
    not_report = tmp_path / "list.json"
    not_report.write_text("[1, 2]")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": {"name": "something.else", "version": 1}}))
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema": {"name": "venvprobe.report", "version": 99}}))
    cases += [
        (["--input", str(not_report)], "is not a venvprobe report (no schema header)"),
        (["--input", str(other)], "is not a venvprobe report (schema 'something.else')"),
        (["--input", str(newer)], "uses report schema version 99; this venvprobe reads up to 1: upgrade venvprobe"),
    ]
    for args, message in cases:
        res = venvprobe_cli("report", *args, env=clean_env())
        err = res.stderr.decode()
        assert res.returncode == 2 and err.count("\n") == 1 and message in err, err


def test_current_interpreter_report_runs(tmp_path: Path) -> None:
    res = venvprobe_cli("report", "-f", "json", env=clean_env(home=str(tmp_path)))
    assert res.returncode == 0, res.stderr.decode()
    report = json.loads(res.stdout)
    assert report["collector"]["in_process"] is True
    assert report["process"]["source"] in ("psutil", "/proc")
    assert report["identity"]["pid"] == report["process"]["pid"]


def test_nested_name_value_secrets_are_masked_by_the_cli_too():
    """Servers pass NAME=value pairs inside values (GUNICORN_CMD_ARGS, --env=...): the collector masks them."""
    import subprocess
    import sys

    env = dict(os.environ, GUNICORN_CMD_ARGS="--env DB_PASSWORD=pw-nested-1 --workers 2",
               PYTHONWARNINGS="ignore")
    for fmt in ("json", "text", "markdown", "html"):
        out = subprocess.run([sys.executable, "-m", "venvprobe._cli", "report", "-f", fmt, "--section", "environment",
                              "--section", "process", "--section", "interpreter"],
                             env=env, capture_output=True, text=True, check=True).stdout
        assert "pw-nested-1" not in out, fmt
        assert "DB_PASSWORD=" in out and "--workers 2" in out
