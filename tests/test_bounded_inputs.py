"""Every local input is bounded: FIFOs, devices, bombs and deep nesting end as one line and exit 2 (issue 15)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest
from pathlib import Path

from report_helpers import venvprobe_cli

# Far above what any of these takes; a hang is what the cap is there to catch.
BOUND = 30


def _one_line_exit_2(*args, input=None):
    start = time.monotonic()
    res = venvprobe_cli(*args, input=input, timeout=BOUND)
    took = time.monotonic() - start
    err = res.stderr.decode("utf-8", "replace")
    assert res.returncode == 2, (args, res.returncode, err, res.stdout[:500])
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err, took


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bounded")
    fifo = d / "fifo"
    os.mkfifo(fifo)
    (d / "exp.toml").write_text("[interpreter]\n")
    (d / "include-fifo.conf").write_text(f"Include {fifo}\n")
    (d / "ok.ini").write_text("[uwsgi]\nmodule = app\n")
    return d


OFFLINE = ["--no-homes", "--no-predict", "--no-confirm"]


def _commands(d, bad):
    return {
        "report --input": ["report", "--input", bad],
        "diff A": ["diff", bad, str(d / "exp.toml")],
        "compare expectations": ["compare", bad, str(d / "exp.toml")],
        "check-apache": ["check-apache", bad, *OFFLINE],
        "check-uwsgi": ["check-uwsgi", bad, *OFFLINE],
        "explain-log": ["explain-log", bad, "--no-check-homes"],
        "snapshot": ["snapshot", bad],
    }


@pytest.mark.parametrize("command", sorted(_commands(Path("."), "x")))
@pytest.mark.parametrize("what", ["fifo", "/dev/zero", "directory"])
def test_fifo_device_directory_are_refused_at_once(files, command, what):
    bad = {"fifo": str(files / "fifo"), "/dev/zero": "/dev/zero", "directory": str(files)}[what]
    if what == "/dev/zero" and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    err, took = _one_line_exit_2(*_commands(files, bad)[command])
    expected = {"fifo": "FIFO", "/dev/zero": "character device", "directory": "directory"}[what]
    assert expected in err, err


def test_fifo_as_compare_target_is_a_could_not_check(files):
    res = venvprobe_cli("compare", str(files / "exp.toml"), str(files / "fifo"), timeout=BOUND)
    assert res.returncode == 2
    assert "FIFO" in res.stdout.decode(), res.stdout


def test_fifo_as_apache_include(files):
    err, _ = _one_line_exit_2("check-apache", str(files / "include-fifo.conf"), *OFFLINE)
    assert "FIFO" in err


def test_fifo_as_wsgi_script_does_not_block(files, tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text(f"WSGIScriptAlias / {files / 'fifo'}\n")
    res = venvprobe_cli("check-apache", str(conf), *OFFLINE, "--fail-on", "never", timeout=BOUND)
    assert res.returncode == 0, res.stderr


def test_stdin_is_capped(files):
    # 64 MiB of zeros on stdin would be read whole and parsed: refused once over the cap.
    err, _ = _one_line_exit_2("report", "--input", "-", input=b"\0" * ((64 << 20) + 10))
    assert "larger than" in err


def test_define_bomb_is_bounded(tmp_path):
    conf = tmp_path / "bomb.conf"
    conf.write_text("Define A x\n" + "Define A ${A}${A}\n" * 40 + "WSGIPythonHome ${A}\n")
    err, _ = _one_line_exit_2("check-apache", str(conf), *OFFLINE)
    assert "expands to more than" in err


def test_nested_apache_sections(tmp_path):
    conf = tmp_path / "nested.conf"
    conf.write_text("<IfModule !x>\n" * 5000 + "</IfModule>\n" * 5000)
    err, _ = _one_line_exit_2("check-apache", str(conf), *OFFLINE)
    assert "nested deeper than" in err


def test_too_many_lines_in_one_apache_file(tmp_path):
    conf = tmp_path / "long.conf"
    conf.write_text("ServerName x\n" * 200_001)
    err, _ = _one_line_exit_2("check-apache", str(conf), *OFFLINE)
    assert "more than 200,000 directives" in err


def test_deeply_nested_json_report(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for args in (["report", "--input", str(deep)], ["diff", str(deep), str(deep)], ["snapshot", str(deep)]):
        err, _ = _one_line_exit_2(*args)
        assert "nested more than" in err
    # 500 levels parse fine with the C decoder but would blow up every recursive consumer.
    mid = tmp_path / "mid.json"
    mid.write_text(json.dumps({"schema": {"name": "venvprobe.report", "version": 1},
                               "interpreter": json.loads("[" * 500 + "]" * 500)}))
    err, _ = _one_line_exit_2("report", "--input", str(mid))
    assert "nested more than" in err


def test_deeply_nested_toml(tmp_path, files):
    for text in ("a = " + "[" * 100_000 + "]" * 100_000, "a = " + "{b = " * 5000 + "1" + "}" * 5000):
        exp = tmp_path / "deep.toml"
        exp.write_text(text)
        err, _ = _one_line_exit_2("compare", str(exp), str(files / "exp.toml"))
        assert "nested" in err


def test_reversed_range_and_backtracking_globs(tmp_path):
    from venvprobe.expectations import glob_to_regex
    from venvprobe.report import collect_foreign

    report = tmp_path / "r.json"
    report.write_text(json.dumps(collect_foreign(sys.executable)))
    exp = tmp_path / "za.toml"
    exp.write_text('[interpreter]\nprefix = { glob = "/srv/[z-a]" }\n'
                   '[sys_path]\ninclude = ["/' + "*a" * 40 + '*b"]\n')
    res = venvprobe_cli("compare", str(exp), str(report), timeout=BOUND)
    assert res.returncode == 1, res.stdout + res.stderr  # checks not met, no traceback
    assert b"Traceback" not in res.stderr
    assert glob_to_regex("/srv/[z-a]").match("/srv/x") is False
    assert glob_to_regex("/srv/[a-z]").match("/srv/x") is True


def test_uwsgi_50000_mounts(tmp_path):
    ini = tmp_path / "many.ini"
    ini.write_text("[uwsgi]\n" + "".join(f"mount = /a{i}=/srv/a{i}/app.py\n" for i in range(50_000)))
    res = venvprobe_cli("check-uwsgi", str(ini), *OFFLINE, "--format", "json", "--fail-on", "never", timeout=120)
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)["facts"]["apps"]) == 50_000


def test_uwsgi_too_many_lines(tmp_path):
    ini = tmp_path / "long.ini"
    ini.write_text("[uwsgi]\n" + "env = A=1\n" * 200_001)
    err, _ = _one_line_exit_2("check-uwsgi", str(ini), *OFFLINE)
    assert "more than 200,000 lines" in err


def _fake_python(tmp_path, body: str):
    exe = tmp_path / "bin" / "python3"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("#!/bin/sh\ncat > /dev/null\n" + body + "\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.mark.parametrize("fast", [True, False])  # report --python: the fast path; snapshot --python: collect_foreign
@pytest.mark.parametrize("kind", ["deep", "wrong-type", "endless"])
def test_hostile_target_interpreter_output(tmp_path, fast, kind):
    head = "printf '0\\n'; "  # both read venvprobe.ship's answer: the --fail-on line, then the report
    header = '{"schema": {"name": "venvprobe.report", "version": 1}, '
    body = {
        "deep": head + f"printf '{header}\"interpreter\": '; head -c 200000 /dev/zero | tr '\\\\0' '['",
        "wrong-type": head + f"printf '{header}\"interpreter\": {{}}, \"sys_path\": {{\"entries\": 5}}}}'",
        "endless": head + "printf '{'; yes",
    }[kind]
    exe = _fake_python(tmp_path, body)
    err, took = _one_line_exit_2(*(["report", "--python", exe] if fast else ["snapshot", "--python", exe]))
    assert {"deep": "not a report", "wrong-type": "sys_path.entries", "endless": "MiB"}[kind] in err, err
