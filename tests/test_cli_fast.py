"""The CLI's fast paths (venvprobe._quick) give what the full argparse CLI gives.

`--version`, `--help` and `report --python X -f json` skip argparse, json,
subprocess and typing (their cost is measured in benchmarks/bench_report.py);
these tests hold them to the full CLI's output, exit codes and one-line errors.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from report_helpers import REPO, clean_env, make_venv, need_python, pyenv_python, venvprobe_cli

from venvprobe import _cli, _quick
from venvprobe.rules import registry


def _argparse_help() -> str:
    return _cli.build_parser(["--help"]).format_help()  # as main() builds it for --help


def _commands():
    return [(name, text) for name, (_, text) in _cli.COMMANDS.items()]


def test_help_is_argparse_help_at_every_width(monkeypatch: pytest.MonkeyPatch) -> None:
    answered = 0
    for columns in range(20, 260):
        monkeypatch.setenv("COLUMNS", str(columns))
        fast = _quick.top_help(_commands())
        if fast is None:
            assert columns < 80, columns  # falls back only where argparse wraps the usage line
            continue
        answered += 1
        assert fast == _argparse_help(), columns
    assert answered >= 170


_OTHER_PYTHON_SCRIPT = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
from venvprobe import _cli, _quick
from venvprobe.rules import registry
cmds = [(n, t) for n, (_, t) in _cli.COMMANDS.items()]
bad, answered = [], 0
for columns in range(20, 260):
    os.environ["COLUMNS"] = str(columns)
    fast = _quick.top_help(cmds)
    if fast is None:
        continue
    answered += 1
    if fast != _cli.build_parser(["--help"]).format_help():
        bad.append(columns)
print(answered, bad)
"""


@pytest.mark.parametrize("minor", ["3.9", "3.10", "3.12", "3.13"])
def test_help_matches_argparse_of_other_pythons(minor: str) -> None:
    py = need_python(minor)
    res = subprocess.run([py, "-S", "-c", _OTHER_PYTHON_SCRIPT, str(REPO)], capture_output=True, text=True,
                         env=clean_env())
    assert res.returncode == 0, res.stderr
    answered, bad = res.stdout.split(" ", 1)
    assert int(answered) >= 170 and bad.strip() == "[]", res.stdout


def test_version_help_and_no_command_as_argparse(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        _cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"venvprobe {_cli.__version__}\n"
    for argv in (["--help"], ["-h"]):
        with pytest.raises(SystemExit) as exc:
            _cli.main(argv)
        assert exc.value.code == 0
        assert capsys.readouterr().out == _argparse_help()
    assert _cli.main([]) == 2
    assert capsys.readouterr().out == _argparse_help()


def test_severity_ranks_agree() -> None:
    assert _quick.SEVERITY_RANK == registry.SEVERITY_RANK


_IMPORTS_SCRIPT = r"""
import io, sys
sys.path.insert(0, sys.argv[1])
from venvprobe._cli import main
real = sys.stdout
sys.stdout = io.StringIO()
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
out = sys.stdout.getvalue()
sys.stdout = real
heavy = [m for m in ("argparse", "json", "subprocess", "typing", "re", "enum", "venvprobe.commands", "shutil")
         if m in sys.modules]
print(code, len(out), heavy)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv whose report has a finding: a .pth file with an executable line."""
    root = tmp_path_factory.mktemp("fast") / "venv"
    make_venv(root, need_python("3.11"))
    site = next(root.glob("lib/python3*/site-packages"))
    (site / "zz_fast_test.pth").write_text("import os\n")
    return root


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["report", "--python", "{venv}", "-f", "json"],
                                  ["report", "--python={venv}", "--format=json", "--timeout", "30"],
                                  ["report", "--python", "{venv}"], ["report", "--python", "{venv}", "-fmarkdown"]])
def test_fast_paths_import_no_heavy_module(venv: Path, argv) -> None:
    argv = [a.format(venv=venv) for a in argv]
    # -S: no site, so nothing but the CLI itself imports anything.
    res = subprocess.run([sys.executable, "-S", "-c", _IMPORTS_SCRIPT, str(REPO), *argv], capture_output=True,
                         text=True, env=clean_env())
    assert res.returncode == 0, res.stderr
    code, length, heavy = res.stdout.strip().split(" ", 2)
    assert code == "0" and int(length) > 10 and heavy == "[]", res.stdout


def _volatile_free(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report.pop("generated_at", None)
    report.pop("process", None)
    report["interpreter"].pop("orig_argv", None)
    report["modules"].pop("process_start", None)
    for key in ("pid", "ppid", "started_at", "threads", "interpreter_id", "process_start"):
        report["identity"].pop(key, None)
    return report


def test_fast_report_is_the_full_report(venv: Path, tmp_path: Path) -> None:
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))
    for fail_on, want in (("never", 0), ("info", 1), ("error", 0)):
        fast = venvprobe_cli("report", "--python", str(venv), "-f", "json", "--fail-on", fail_on, env=env)
        assert fast.returncode == want and fast.stderr == b"", fast.stderr
        # -o takes the full argparse path; it writes exactly what stdout would get.
        out = tmp_path / f"full-{fail_on}.json"
        full = venvprobe_cli("report", "--python", str(venv), "-f", "json", "--fail-on", fail_on, "-o", str(out),
                             env=env)
        assert full.returncode == want and full.stderr == b"", full.stderr
        fast_text, full_text = fast.stdout.decode(), out.read_text()
        assert fast_text.endswith("}\n") and full_text.endswith("}\n")
        fast_report, full_report = json.loads(fast_text), json.loads(full_text)
        assert "pth-executable-line" in {f["code"] for f in fast_report["findings"]}
        assert _volatile_free(fast_report) == _volatile_free(full_report)
        # Same encoder: only the volatile values may differ in the text.
        assert set(fast_text) <= set(full_text) | set("0123456789")
    # The analysis modules are cached with the collector, once per cache tag.
    assert len(list((tmp_path / "cache" / "venvprobe").glob("report-*-cpython-311.bin"))) == 1


def test_no_cache_is_made_where_home_does_not_exist(venv: Path, tmp_path: Path) -> None:
    """As root, os.makedirs(~/.cache/venvprobe) created a missing HOME (every test run made
    /nonexistent-venvprobe-home): a tool must not create someone's home to keep a cache."""
    for env in (clean_env(home=str(tmp_path / "no-home")),
                clean_env({"XDG_CACHE_HOME": str(tmp_path / "no-xdg" / "cache")}, home=str(tmp_path / "no-home"))):
        res = venvprobe_cli("report", "--python", str(venv), "-f", "json", env=env)
        assert res.returncode in (0, 1) and res.stderr == b"", res.stderr
        assert json.loads(res.stdout)["interpreter"]["prefix"] == str(venv)
    assert not (tmp_path / "no-home").exists() and not (tmp_path / "no-xdg").exists()
    # An existing home gets its ~/.cache/venvprobe as before.
    (tmp_path / "home").mkdir()
    res = venvprobe_cli("report", "--python", str(venv), "-f", "json", env=clean_env(home=str(tmp_path / "home")))
    assert res.returncode in (0, 1), res.stderr
    assert list((tmp_path / "home" / ".cache" / "venvprobe").glob("report-*.bin"))


def _fake_python(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_fast_report_errors_are_one_line(tmp_path: Path) -> None:
    broken = _fake_python(tmp_path / "python-broken", "cat >/dev/null\necho 'Traceback (most recent call last):' >&2\n"
                                                       "echo 'ModuleNotFoundError: No module named encodings' >&2\n"
                                                       "exit 1\n")
    res = venvprobe_cli("report", "--python", str(broken), "-f", "json", env=clean_env())
    assert res.returncode == 2 and res.stdout == b""
    assert res.stderr.decode() == (f"venvprobe report: {broken} exited with status 1: "
                                   "ModuleNotFoundError: No module named encodings\n")
    slow = _fake_python(tmp_path / "python-slow", "exec sleep 30\n")
    t0 = time.monotonic()
    res = venvprobe_cli("report", "--python", str(slow), "-f", "json", "--timeout", "0.5", env=clean_env())
    assert time.monotonic() - t0 < 15
    assert res.returncode == 2
    assert res.stderr.decode() == f"venvprobe report: {slow} did not finish collecting within 0.5 s\n"
    garbage = _fake_python(tmp_path / "python-garbage", "cat >/dev/null\necho hello\n")
    res = venvprobe_cli("report", "--python", str(garbage), "-f", "json", env=clean_env())
    assert res.returncode == 2 and b"printed something that is not a report" in res.stderr
    assert res.stderr.count(b"\n") == 1
    res = venvprobe_cli("report", "--python", str(tmp_path / "nope"), "-f", "json", env=clean_env())
    assert res.returncode == 2 and res.stderr.decode() == f"venvprobe report: no interpreter at '{tmp_path / 'nope'}'\n"


def test_old_target_falls_back_to_the_full_path(tmp_path: Path) -> None:
    py = pyenv_python("3.6")
    if py is None:
        pytest.skip("no Python 3.6 installed (pyenv)")
    res = venvprobe_cli("report", "--python", py, "-f", "json", env=clean_env())
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["collector"]["python"].startswith("3.6.")


def test_installed_command_starts_without_re(tmp_path: Path) -> None:
    """The wheel's `venvprobe` is bin/venvprobe (no pip entry-point wrapper, which imports re first)."""
    import zipfile

    wheels = tmp_path / "wheels"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    wheel = next(wheels.glob("venvprobe-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        script = zf.read(next(n for n in zf.namelist() if n.endswith(".data/scripts/venvprobe"))).decode()
        assert not any(n.endswith("entry_points.txt") and b"venvprobe" in zf.read(n) for n in zf.namelist())
    assert script.startswith("#!python\n") and "\nimport re" not in script
    venv = tmp_path / "venv"
    make_venv(venv, need_python("3.11"))
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                          "--no-deps", str(wheel)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    command = venv / "bin" / "venvprobe"
    assert command.read_text().startswith(f"#!{venv / 'bin' / 'python'}")
    res = subprocess.run([str(command), "--version"], capture_output=True, text=True, env=clean_env())
    assert res.returncode == 0 and res.stdout == f"venvprobe {_cli.__version__}\n", res.stderr


@pytest.mark.parametrize("minor", ["3.7", "3.8", "3.13"])
def test_fast_report_analyses_inside_old_and_new_targets(minor: str, tmp_path: Path) -> None:
    """The analysis runs inside X on the fast path: it must work on every Python the loader accepts (>= 3.7)."""
    py = pyenv_python(minor)
    if py is None:
        pytest.skip(f"no Python {minor} installed (pyenv)")
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))
    fast = venvprobe_cli("report", "--python", py, "-f", "json", env=env)
    assert fast.returncode == 0 and fast.stderr == b"", fast.stderr
    out = tmp_path / "full.json"
    full = venvprobe_cli("report", "--python", py, "-f", "json", "-o", str(out), env=env)
    assert full.returncode == 0, full.stderr
    fast_report, full_report = json.loads(fast.stdout), json.loads(out.read_text())
    assert fast_report["collector"]["python"].startswith(minor + ".")
    assert fast_report["findings"] == full_report["findings"]


_FAKE_PYTHON = r'''#!{python}
# A stand-in for a target interpreter: answers the fast path (which asks X to
# analyse) and the full path (which analyses itself) with the same canned
# report, and notes which it got.  The payload is venvprobe.ship's: the stub
# (as long as the bootstrap reads), the loader's length and cache stem, the
# loader, then key, cache stem, analyse flag, ...
import sys
data = sys.stdin.buffer.read()
stub = int(sys.argv[2].rsplit("read(", 1)[1].rstrip(")"))
size, _, rest = data[stub:].split(b"\n", 2)
fast = rest[int(size):].split(b"\n")[2] == b"1"
with open({log!r}, "a") as log:
    log.write("fast\n" if fast else "full\n")
with open({fast_out!r} if fast else {full_out!r}, "rb") as data:
    sys.stdout.buffer.write(data.read())
'''


@pytest.mark.parametrize("columns", [None, "100"])
def test_fast_text_markdown_html_are_the_full_paths_bytes(venv: Path, tmp_path: Path, columns) -> None:
    """Same report in, same bytes out: the fast path renders as `report` does (width, newline, format)."""
    from venvprobe.collect.jsonout import dumps
    from venvprobe.analyze import analyze
    from venvprobe.report import collect_foreign

    raw = collect_foreign(str(venv))
    raw.pop("findings")
    analysed = dict(raw, findings=analyze(json.loads(json.dumps(raw))))
    (tmp_path / "full.out").write_bytes(b"0\n" + dumps(raw).encode())
    (tmp_path / "fast.out").write_bytes(b"0\n" + dumps(analysed).encode())
    fake = tmp_path / "python"
    fake.write_text(_FAKE_PYTHON.format(python=sys.executable, log=str(tmp_path / "log"),
                                        fast_out=str(tmp_path / "fast.out"), full_out=str(tmp_path / "full.out")))
    fake.chmod(0o755)
    env = clean_env({"COLUMNS": columns} if columns else None)
    env.pop("COLUMNS", None) if columns is None else None
    for fmt in ("text", "markdown", "html", "json"):
        args = ["report", "--python", str(fake)] + (["-f", fmt] if fmt != "text" else [])
        fast = venvprobe_cli(*args, env=env)
        out = tmp_path / f"{fmt}.full"
        full = venvprobe_cli(*args, "-o", str(out), env=env)
        assert fast.returncode == full.returncode == 0, (fast.stderr, full.stderr)
        assert fast.stdout == out.read_bytes(), fmt
        assert (tmp_path / "log").read_text().splitlines()[-2:] == ["fast", "full"], fmt


def test_fast_formats_are_render_formats() -> None:
    from venvprobe import render

    assert set(_quick.REPORT_FORMATS_FAST) == set(render.FORMATS)
