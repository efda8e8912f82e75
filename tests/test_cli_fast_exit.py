"""How `report --python X` ends, and how it reuses X's compiled collector.

The fast path and the shipped loader end their processes with ``os._exit``
(tearing an interpreter down costs about a fifth of its start-up): what they
printed must still arrive whole, through a pipe or into a file, with the exit
code they meant.  The compiled collector is cached under a name made of the
shipped sources' sizes and mtimes (stats, not reads): an edited source must
get a new entry, never the old code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from report_helpers import REPO, clean_env, make_venv, site_packages, write_dist

DISTS = 400  # the JSON report is well over a pipe's 64 KiB buffer


@pytest.fixture(scope="module")
def big_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exit") / "venv"
    python = make_venv(root)
    site = site_packages(python, env=clean_env())
    for i in range(DISTS):
        write_dist(site, f"pkg{i:04d}", "1.0")
    # Two metadata directories of one name: a warning, for --fail-on.
    write_dist(site, "twice", "1.0")
    write_dist(site, "twice", "2.0")
    return python


def _module_cli(*args: str, env: dict, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """`python -m venvprobe` of this checkout: __main__ ends through _cli.exit_now as bin/venvprobe does."""
    return subprocess.run([sys.executable, "-m", "venvprobe", *args], stdout=stdout, stderr=subprocess.PIPE,
                          env=env, cwd=str(REPO), timeout=300)


def _names(report: dict) -> list:
    return sorted(d["name"] for d in report["distributions"])


def test_pipe_and_exit_codes_survive_the_quick_exit(big_venv: Path, tmp_path: Path) -> None:
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))
    res = _module_cli("report", "--python", str(big_venv), "-f", "json", env=env)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stderr == b""
    assert len(res.stdout) > 1 << 16 and res.stdout.endswith(b"}\n")
    report = json.loads(res.stdout)
    want = sorted([f"pkg{i:04d}" for i in range(DISTS)] + ["twice", "twice"])
    assert _names(report) == want
    assert any(f["severity"] == "warning" for f in report["findings"])
    # X was started by the CLI (`X -c`): its main interpreter, said without loading an interpreters module.
    ident = report["identity"]
    assert (ident["interpreter_id"], ident["main_interpreter"], ident["interpreter_id_source"]) == (0, True,
                                                                                                    "fresh process")
    loaded = {m["module"] for m in report["modules"]["extensions"]} | {m["name"] for m in report["modules"]["top_level"]}
    assert not loaded & {"_xxsubinterpreters", "_interpreters", "concurrent"}
    # --fail-on: the code X computed reaches the shell through both os._exit calls.
    res = _module_cli("report", "--python", str(big_venv), "-f", "json", "--fail-on", "warning", env=env)
    assert res.returncode == 1, res.stderr.decode()
    assert _names(json.loads(res.stdout)) == want
    # A could-not-check is still 2 with one line.
    res = _module_cli("report", "--python", str(tmp_path / "nothing-here"), "-f", "json", env=env)
    assert res.returncode == 2 and res.stdout == b""
    assert len(res.stderr.decode().strip().splitlines()) == 1


def test_file_output_is_complete(big_venv: Path, tmp_path: Path) -> None:
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))
    for fmt in ("json", "text"):
        out = tmp_path / f"out.{fmt}"
        with open(out, "wb") as handle:
            res = _module_cli("report", "--python", str(big_venv), "-f", fmt, env=env, stdout=handle)
        assert res.returncode == 0, res.stderr.decode()
        data = out.read_bytes()
        assert data.endswith(b"\n")
        if fmt == "json":
            assert len(_names(json.loads(data))) == DISTS + 2
        else:
            assert b"pkg0000" in data and b"pkg%04d" % (DISTS - 1) in data


def test_edited_source_gets_new_cached_code(big_venv: Path, tmp_path: Path) -> None:
    # A copy of the package: editing it must not touch the checkout other tests run.
    pkg = tmp_path / "code"
    shutil.copytree(REPO / "venvprobe", pkg / "venvprobe", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    env = clean_env({"XDG_CACHE_HOME": str(cache)}, home=str(tmp_path))
    launcher = (f"import sys; sys.path.insert(0, {str(pkg)!r}); "
                "from venvprobe._cli import exit_now, main; exit_now(main())")

    def run() -> dict:
        res = subprocess.run([sys.executable, "-c", launcher, "report", "--python", str(big_venv), "-f", "json"],
                             capture_output=True, env=env, timeout=300)
        assert res.returncode == 0, res.stderr.decode()
        return json.loads(res.stdout)

    assert len(run()["distributions"]) == DISTS + 2
    entries = sorted((cache / "venvprobe").glob("report-*.bin"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    run()  # warm: the entry is used, not rewritten
    assert sorted((cache / "venvprobe").glob("report-*.bin")) == entries
    assert entries[0].stat().st_mtime_ns == stamp
    # An edit that changes what the collector reports: the old code must not run.
    masking = pkg / "venvprobe" / "collect" / "distributions.py"
    text = masking.read_text()
    marker = 'dist["version"] = version\n'
    assert marker in text
    masking.write_text(text.replace(marker, 'dist["version"] = "edited-" + str(version)\n'))
    st = masking.stat()
    os.utime(masking, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    report = run()
    assert {d["version"] for d in report["distributions"]} == {"edited-1.0", "edited-2.0"}
    assert len(sorted((cache / "venvprobe").glob("report-*.bin"))) == 2


def test_cached_loader_is_used_and_a_damaged_cache_is_rebuilt(big_venv: Path, tmp_path: Path) -> None:
    import marshal

    cache = tmp_path / "cache" / "venvprobe"
    env = clean_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, home=str(tmp_path))

    def run() -> dict:
        res = _module_cli("report", "--python", str(big_venv), "-f", "json", env=env)
        assert res.returncode == 0 and res.stderr == b"", res.stderr.decode()
        return json.loads(res.stdout)

    assert len(run()["distributions"]) == DISTS + 2
    loaders = sorted(cache.glob("loader-*.bin"))
    modules = sorted(cache.glob("report-*.bin"))
    assert len(loaders) == 1 and len(modules) == 1
    marshal.loads(loaders[0].read_bytes())  # X's own compiled loader, readable
    stamp = loaders[0].stat().st_mtime_ns
    run()
    assert loaders[0].stat().st_mtime_ns == stamp  # used, not rewritten
    # Damaged entries (a crash mid-write, a full disk): compiled again, report unchanged, cache repaired.
    from venvprobe import ship

    right_length = marshal.dumps((1,) * len(ship.modules()))  # as many entries as modules, none of them code
    for damage in (b"\x00garbage", marshal.dumps(42), marshal.dumps((1, 2)), right_length):
        for path in loaders + modules:
            path.write_bytes(damage)
        assert len(run()["distributions"]) == DISTS + 2
        assert hasattr(marshal.loads(loaders[0].read_bytes()), "co_code")
        assert all(hasattr(c, "co_code") for c in marshal.loads(modules[0].read_bytes()))


def test_payload_finds_each_module_where_the_import_system_would() -> None:
    from venvprobe import ship

    names = ship.modules()
    parents = {name.rpartition(".")[0] for name in names}
    for name in names:
        path, is_package, st = ship._located(name, name in parents)
        assert (path, is_package) == ship.source_path(name), name
        assert ship.stamp(st) == ship.stamp(os.stat(path))
    assert any(is_package for _, is_package, _ in (ship._located(n, n in parents) for n in names))
