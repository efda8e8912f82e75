"""Helpers for the offline-diagnosis tests (check-home, check-apache, check-uwsgi, explain-log).

* :func:`run_cli` runs the real ``venvprobe`` CLI entry point in-process and
  returns (exit code, stdout, stderr); :func:`run_json` parses ``--format json``.
* :func:`codes` / :func:`finding` pick findings out of a result.
* :func:`normalise_log` / :func:`expand_log` turn a captured error log into a
  fixture with ``@ROOT@`` for the test's private directory and back, so
  unit tests can replay real logs against paths they create themselves.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

DATA = Path(__file__).resolve().parent / "data" / "offline"
ROOT_TOKEN = "@ROOT@"

APP_WSGI = """\
import sys


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s" % (sys.prefix, sys.path)).encode()]
"""


def run_cli(*argv: str, stdin: Optional[str] = None) -> Tuple[int, str, str]:
    """Run ``venvprobe *argv`` through its real entry point; (rc, stdout, stderr)."""
    from venvprobe._cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(list(argv))
            except SystemExit as exc:  # argparse errors
                rc = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    return rc, out.getvalue(), err.getvalue()


def run_json(*argv: str, stdin: Optional[str] = None) -> Tuple[int, Dict[str, Any]]:
    """``run_cli(*argv, "--format", "json")`` with the output parsed."""
    rc, out, err = run_cli(*argv, "--format", "json", stdin=stdin)
    assert rc in (0, 1), f"venvprobe {' '.join(argv)} -> {rc}\nstdout: {out}\nstderr: {err}"
    return rc, json.loads(out)


def codes(result: Dict[str, Any]) -> List[str]:
    return [f["code"] for f in result["findings"]]


def finding(result: Dict[str, Any], code: str) -> Dict[str, Any]:
    """The (first) finding with *code*; fails the test with all findings shown otherwise."""
    for f in result["findings"]:
        if f["code"] == code:
            return f
    raise AssertionError(f"no {code!r} finding; got: " + json.dumps(
        [(f["code"], f["message"]) for f in result["findings"]], indent=1))


def write_app(directory: Path, name: str = "app.wsgi") -> Path:
    path = directory / name
    path.write_text(APP_WSGI)
    os.chmod(path, 0o644)
    return path


def normalise_log(text: str, root: Path) -> str:
    """Replace the private run directory with ``@ROOT@`` (for saving fixtures)."""
    return text.replace(str(root), ROOT_TOKEN)


def expand_log(name: str, root: Path) -> str:
    """A saved fixture with ``@ROOT@`` replaced by *root*."""
    return (DATA / name).read_text().replace(ROOT_TOKEN, str(root))


def save_fixture(name: str, text: str, root: Path) -> None:
    """Save a real log excerpt as a fixture when VENVPROBE_SAVE_OFFLINE_FIXTURES=1."""
    if os.environ.get("VENVPROBE_SAVE_OFFLINE_FIXTURES") == "1":
        DATA.mkdir(parents=True, exist_ok=True)
        (DATA / name).write_text(normalise_log(text, root))
