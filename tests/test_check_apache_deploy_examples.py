"""Every server config in deploy_examples/ passes check-apache / check-uwsgi cleanly.

Each example folder is materialised the way tests/test_deploy_examples.py
does it: ``/srv/example`` becomes a private, www-data-readable directory,
the folder's files go to ``<dir>/app`` and every ``/srv/example/venv*`` it
names is created with Debian's /usr/bin/python3 (the Python Debian's
mod_wsgi and uWSGI embed).  The check then runs for real: python-home as
www-data, the libpython of mod_wsgi.so, start-up prediction.  "Cleanly"
means exit 0 with the default ``--fail-on warning``: info findings are allowed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import List, Tuple

import pytest

import servers
from offline_helpers import run_cli
from venvprobe.expectations import load_file

EXAMPLES = servers.REPO_ROOT / "deploy_examples"
PLACEHOLDER = "/srv/example"


def _configs() -> List[Tuple[str, str]]:
    found = []
    if EXAMPLES.is_dir():
        for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
            for f in sorted(folder.iterdir()):
                if f.is_file() and ((f.name.startswith("apache") and f.suffix == ".conf") or f.suffix == ".ini"):
                    found.append((folder.name, f.name))
    return found


CONFIGS = _configs()


def test_deploy_examples_have_server_configs():
    if not CONFIGS:
        msg = f"no apache*.conf or *.ini under {EXAMPLES}"
        if servers.in_ci():
            pytest.fail(msg + " (CI=true)")
        pytest.skip(msg)


def _materialise(folder: str, config: str, base: Path) -> Path:
    root = base / "example"
    app = root / "app"
    shutil.copytree(EXAMPLES / folder, app)
    text = (EXAMPLES / folder / config).read_text()
    for venv in sorted(set(re.findall(re.escape(PLACEHOLDER) + r"/(venv[\w.-]*)", text))):
        servers.make_venv(root / venv)
    for f in app.rglob("*"):
        if f.is_file():
            try:
                f.write_text(f.read_text().replace(PLACEHOLDER, str(root)))
            except UnicodeDecodeError:
                pass
    servers.make_world_readable(root)
    return app / config


@pytest.mark.parametrize("folder,config", CONFIGS or [pytest.param("-", "-", marks=pytest.mark.skip("no configs"))])
def test_deploy_example_passes_cleanly(folder, config, shared_tmp):
    path = _materialise(folder, config, shared_tmp)
    command = "check-uwsgi" if config.endswith(".ini") else "check-apache"
    expectations = shared_tmp / "expect"
    rc, out, err = run_cli(command, str(path), "--format", "json", "--expectations", str(expectations))
    result = json.loads(out) if out else {}
    assert rc == 0, f"{folder}/{config}: {command} -> {rc} {err}\n" + json.dumps(result.get("findings"), indent=1)
    assert not [f for f in result["findings"] if f["severity"] in ("error", "warning")]
    assert result["facts"]["apps"], f"{folder}/{config} mounts no app"
    # The expectations it derives for `venvprobe compare` load with the real validator.
    files = sorted(expectations.glob("*.toml"))
    assert len(files) == len(result["facts"]["apps"])
    for f in files:
        load_file(str(f))
