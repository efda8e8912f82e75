"""Redaction: secrets become a short keyed hash in every format, equal
secrets give equal marks under one key, another key gives other marks, and
user names can be masked in paths."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from report_helpers import clean_env, make_venv, need_python, venvprobe_cli
from venvprobe.redact import Redactor, redact_report

SECRETS = {
    "DATABASE_URL": "postgres://dbuser:hunter2pw@db.internal/app",
    "SECRET_KEY": "sup3rs3cr3tvalue",
    "PYTHON_API_TOKEN": "tok-XYZ-123456",           # allowlisted prefix, secret-looking name
    "VENVPROBE_DB_URL": "mysql://appuser:dsnpass99@h/db",  # allowlisted prefix, URL with a password
    "PYTHONPATH": "/home/alice/app:/srv/shared",      # a user name in a path
}
LEAKS = ("hunter2pw", "sup3rs3cr3tvalue", "tok-XYZ-123456", "dsnpass99")
MARK = re.compile(r"\[secret:[0-9a-f]{10}\]")


@pytest.fixture(scope="module")
def venv_py(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("redact") / "venv", need_python("3.11"))


def _report(venv_py: Path, *args: str, fmt: str = "json", env_extra: dict = SECRETS) -> str:
    res = venvprobe_cli("report", "--python", str(venv_py), "--format", fmt, *args, env=clean_env(env_extra))
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout.decode()


@pytest.mark.parametrize("fmt", ["json", "text", "markdown", "html"])
def test_no_secret_in_any_format(venv_py: Path, fmt: str) -> None:
    for args in ((), ("--redact", "--redact-key", "k1"), ("--redact-users", "--redact-key", "k1")):
        out = _report(venv_py, *args, fmt=fmt)
        if fmt == "markdown":  # judged as a reader sees it: rendered, with Markdown's escapes undone
            out = html.unescape(MarkdownIt("commonmark").enable("table").render(out))
        for leak in LEAKS:
            assert leak not in out, (args, leak)
        assert "****" not in out
        # The masked values are still there, as marks (not dropped, not truncated;
        # Markdown escapes the brackets).
        assert MARK.search(out.replace("\\[", "[").replace("\\]", "]")), args


def test_marks_are_keyed_and_comparable(venv_py: Path) -> None:
    env = lambda r: json.loads(r)["environment"]["variables"]
    a1 = env(_report(venv_py, "--redact", "--redact-key", "k1"))
    a2 = env(_report(venv_py, "--redact", "--redact-key", "k1"))
    b = env(_report(venv_py, "--redact", "--redact-key", "k2"))
    token = a1["PYTHON_API_TOKEN"]
    assert MARK.fullmatch(token)
    assert a2["PYTHON_API_TOKEN"] == token  # same secret, same key: same mark
    assert b["PYTHON_API_TOKEN"] != token  # another key: another mark
    # Credentials inside a URL: user and host stay, only the password is marked.
    assert re.fullmatch(r"mysql://appuser:\[secret:[0-9a-f]{10}\]@h/db", a1["VENVPROBE_DB_URL"])
    # Variables outside the allowlist never enter the report at all.
    assert "DATABASE_URL" not in a1 and "SECRET_KEY" not in a1
    # A changed secret shows as a changed mark.
    changed = env(_report(venv_py, "--redact", "--redact-key", "k1",
                          env_extra=dict(SECRETS, PYTHON_API_TOKEN="tok-other")))
    assert changed["PYTHON_API_TOKEN"] != token and MARK.fullmatch(changed["PYTHON_API_TOKEN"])


def test_redact_users_masks_home_paths(venv_py: Path) -> None:
    plain = _report(venv_py, "--redact", "--redact-key", "k1")
    assert "/home/alice/app" in plain  # --redact alone keeps user names
    out = _report(venv_py, "--redact-users", "--redact-key", "k1")
    assert "alice" not in out
    report = json.loads(out)
    assert report["redacted"]["users"] is True
    first = report["sys_path"]["entries"][0]["path"]
    assert re.fullmatch(r"/home/\[user:[0-9a-f]{10}\]/app", first)
    # The same user name gets the same mark everywhere in the report.
    assert report["environment"]["variables"]["PYTHONPATH"].startswith(first + ":")


def test_redactor_unit_rules() -> None:
    r = Redactor(b"key-1")
    assert r.text("postgres://u:pw@h/db") == f"postgres://u:{r.mark('pw')}@h/db"
    assert r.text("--password=hunter2") == f"--password={r.mark('hunter2')}"
    assert r.text("plain words and /paths/only") == "plain words and /paths/only"
    assert Redactor(b"key-2").mark("pw") != r.mark("pw")
    assert r.mark("pw") == Redactor(b"key-1").mark("pw")
    # A value already marked is never marked twice (marks stay comparable).
    assert r.text(r.mark("x")) == r.mark("x")


def test_redact_report_keeps_the_original_and_the_structure() -> None:
    report = {"schema": {"name": "venvprobe.report", "version": 1},
              "process": {"cmdline": ["app", "--token", "abc", "DB=postgres://u:secretpw@h/d"], "user": "bob"},
              "sys_path": {"entries": [{"index": 0, "path": "/home/bob/site"}]},
              "findings": [{"code": "x", "message": "/home/bob/site is missing", "evidence": ["token: abc"]}]}
    out = redact_report(report, key=b"k", users=True)
    assert report["process"]["cmdline"][3] == "DB=postgres://u:secretpw@h/d"  # untouched original
    text = json.dumps(out)
    assert "secretpw" not in text and "bob" not in text
    assert out["sys_path"]["entries"][0]["index"] == 0
    assert out["findings"][0]["message"].startswith("/home/[user:")
