"""Helpers for the report tests: real venvs, tiny real distributions, and a
driver that runs the collector inside a target interpreter after setting up a
scenario there (addsitedir, activate_this.py, a changed sys.path...).

Nothing here mocks what is being observed: venvs are made by ``venv`` and
``virtualenv``, wheels are installed by pip, and the collector runs inside
the interpreter under test exactly as ``venvprobe report --python`` runs it.
"""

from __future__ import annotations

import atexit
import base64
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[1]
_BUNDLES: Dict[Path, Path] = {}


def collector_bundle(code: Path = REPO) -> Path:
    """The collector of checkout *code* as one self-contained file (venvprobe.ship.standalone_collector).

    Exec it into a dict and call ``collect(options)`` and ``dumps(report)``:
    it runs from memory and adds nothing to the target's sys.path or
    sys.modules, as ``report --python`` does.  Written once per session into
    a private, world-readable directory (Apache runs it as www-data).
    """
    code = Path(code).resolve()
    if code not in _BUNDLES:
        # -I -S: the checkout's own modules, not an installed venvprobe.
        text = subprocess.run(
            [sys.executable, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
             "from venvprobe.ship import standalone_collector; sys.stdout.write(standalone_collector())", str(code)],
            check=True, capture_output=True, text=True).stdout
        directory = Path(tempfile.mkdtemp(prefix="venvprobe-collector-"))
        directory.chmod(0o755)
        atexit.register(shutil.rmtree, str(directory), True)
        path = directory / "collector.py"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        _BUNDLES[code] = path
    return _BUNDLES[code]


COLLECT_SRC = collector_bundle()
DEBIAN_PYTHON = "/usr/bin/python3"
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def clean_env(extra: Optional[Mapping[str, str]] = None, home: Optional[str] = None) -> Dict[str, str]:
    """A minimal environment: inherited PYTHON* variables would falsify the facts under test."""
    env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "HOME": home or "/nonexistent-venvprobe-home"}
    if extra:
        env.update(extra)
    return env


def pyenv_python(minor: str) -> Optional[str]:
    """The pyenv interpreter for ``3.X`` if installed, else None."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", minor + ".*", "bin", "python" + minor)))
    return found[-1] if found else None


def need_python(minor: str) -> str:
    """Skip when the interpreter is missing (other Pythons are not a required server)."""
    exe = pyenv_python(minor)
    if exe is None:
        pytest.skip(f"no Python {minor} installed (pyenv)")
    return exe


def need_debian_python() -> str:
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        pytest.skip("no /usr/bin/python3")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import venv"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("/usr/bin/python3 has no venv module")
    return DEBIAN_PYTHON


def make_venv(root: Path, python: str = sys.executable, tool: str = "venv", system_site: bool = False) -> Path:
    """Create a venv (no pip: seeding costs seconds) and return its bin/python."""
    if tool == "venv":
        cmd = [python, "-m", "venv", "--without-pip"]
    elif tool == "virtualenv":
        cmd = [sys.executable, "-m", "virtualenv", "--quiet", "-p", python, "--no-pip", "--no-setuptools", "--no-wheel"]
    else:
        raise ValueError(tool)
    if system_site:
        cmd.append("--system-site-packages")
    res = subprocess.run(cmd + [str(root)], capture_output=True, text=True, env=clean_env())
    if res.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {res.stdout}{res.stderr}")
    return root / "bin" / "python"


def site_packages(python: os.PathLike, env: Optional[Mapping[str, str]] = None) -> Path:
    """purelib as the interpreter itself reports it (Debian patches the schemes)."""
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, env=dict(env or clean_env()), check=True)
    return Path(out.stdout.strip())


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(out_dir: Path, name: str, version: str, files: Mapping[str, str]) -> Path:
    """Write a tiny but valid pure-Python wheel (what a build backend would produce)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    contents: Dict[str, bytes] = {k: v.encode() for k, v in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()
    contents[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: venvprobe-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    tops = sorted({p.split("/")[0].removesuffix(".py") for p in files})
    contents[f"{info}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in contents.items():
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    contents[f"{info}/RECORD"] = record.getvalue().encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in contents.items():
            zf.writestr(path, data)
    return wheel


def pip(python: os.PathLike, *args: str, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """Run the test runner's pip against *python*'s environment (``pip --python``), offline."""
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--isolated", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(env or clean_env()))
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return res


def pip_install(python: os.PathLike, *what: str, target: Optional[Path] = None) -> None:
    args = ["install", "--quiet", "--no-index", "--no-deps"]
    if target is not None:
        args += ["--target", str(target)]
    pip(python, *args, *what)


def write_dist(site: Path, name: str, version: str, modules: Mapping[str, str] = (), installer: str = "pip",
               record: bool = True, extra_record: Sequence[str] = ()) -> Path:
    """A metadata-only (or metadata + module files) distribution, written as pip would."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    (info / "INSTALLER").write_text(installer + "\n")
    rows = []
    for rel, text in dict(modules).items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        rows.append(f"{rel},,")
    rows += list(extra_record)
    if record:
        rows += [f"{info.name}/METADATA,,", f"{info.name}/INSTALLER,,", f"{info.name}/RECORD,,"]
        (info / "RECORD").write_text("\n".join(rows) + "\n")
    return info


_DRIVER = """\
import sys
__setup__ = {setup!r}
exec(compile(__setup__, '<scenario setup>', 'exec'), {{'__name__': '__scenario__'}})
__src__ = open({collect!r}, 'rb').read()
__g__ = {{'__name__': '__venvprobe_collect__'}}
exec(compile(__src__, {collect!r}, 'exec'), __g__)
__report__ = __g__['collect']({options!r})
sys.stdout.flush()
sys.stdout.buffer.write(b'\\n@@REPORT@@' + __g__['dumps'](__report__).encode('utf-8', 'surrogatepass'))
"""


def collect_in(python: os.PathLike, setup: str = "", env: Optional[Mapping[str, str]] = None,
               cwd: Optional[os.PathLike] = None, options: Optional[dict] = None, script: Optional[Path] = None,
               args: Sequence[str] = (), timeout: float = 60.0, user: Optional[str] = None) -> Dict[str, Any]:
    """Run *setup* inside *python*, then the collector (from this checkout), and analyse the report.

    With *script*, the driver is written there and run as a script file (so
    sys.path[0] is the script's directory, as for a real program); else it
    runs with ``-c``.  *user* runs the interpreter as that user (setpriv).
    """
    from venvprobe.analyze import analyze

    opts = {"use_psutil": False}
    opts.update(options or {})
    code = _DRIVER.format(setup=textwrap.dedent(setup), collect=str(COLLECT_SRC), options=opts)
    if script is not None:
        script.write_text(code)
        cmd = [str(python), *args, str(script)]
    else:
        cmd = [str(python), *args, "-c", code]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"] + cmd
    res = subprocess.run(cmd, capture_output=True, env=dict(env or clean_env()), cwd=cwd, timeout=timeout)
    if res.returncode != 0 or b"@@REPORT@@" not in res.stdout:
        raise AssertionError(f"collector failed in {python} (status {res.returncode}):\n"
                             f"{res.stdout.decode(errors='replace')}\n{res.stderr.decode(errors='replace')}")
    head, _, body = res.stdout.partition(b"@@REPORT@@")
    report = json.loads(body.decode("utf-8", "surrogatepass"))
    report["findings"] = analyze(report)
    report["_driver_stdout"] = head.decode(errors="replace")
    report["_driver_stderr"] = res.stderr.decode(errors="replace")
    return report


def venvprobe_cli(*args: str, env: Optional[Mapping[str, str]] = None, input: Optional[bytes] = None,
                  timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run the CLI of this checkout (as the installed console script would).

    The checkout is put on sys.path by the launcher, not through PYTHONPATH,
    which ``--python`` targets would inherit and report.
    """
    launcher = f"import sys; sys.path.insert(0, {str(REPO)!r}); from venvprobe._cli import main; sys.exit(main())"
    full_env = dict(env) if env is not None else dict(os.environ)
    return subprocess.run([sys.executable, "-c", launcher, *args], capture_output=True,
                          env=full_env, input=input, timeout=timeout)


# -- looking things up in a report ------------------------------------------


def entries(report: dict) -> List[dict]:
    return report["sys_path"]["entries"]


def entry_for(report: dict, path: os.PathLike) -> dict:
    """The sys.path entry whose abs_path or path is *path*."""
    want = os.path.normpath(str(path))
    for e in entries(report):
        if os.path.normpath(e.get("abs_path") or e["path"]) == want or e["path"] == str(path):
            return e
    raise AssertionError(f"{path} not on sys.path: {[e['path'] for e in entries(report)]}")


def origins(report: dict) -> List[tuple]:
    return [(e["path"], (e.get("origin") or {}).get("kind")) for e in entries(report)]


def codes(report: dict) -> List[str]:
    return [f["code"] for f in report["findings"]]


def findings(report: dict, code: str) -> List[dict]:
    return [f for f in report["findings"] if f["code"] == code]


def one_finding(report: dict, code: str) -> dict:
    found = findings(report, code)
    assert len(found) == 1, f"expected one {code}, got {len(found)}: {json.dumps(report['findings'], indent=1)}"
    return found[0]


def dists_named(report: dict, name: str) -> List[dict]:
    return [d for d in report["distributions"] if (d.get("name") or "").lower() == name.lower()]


def shadowed_module(report: dict, name: str) -> dict:
    for m in report["shadowed"]["modules"]:
        if m["name"] == name:
            return m
    raise AssertionError(f"{name} not in shadowed modules: {[m['name'] for m in report['shadowed']['modules']]}")


def shadowed_dist(report: dict, name: str) -> dict:
    for d in report["shadowed"]["distributions"]:
        if (d["name"] or "").lower() == name.lower():
            return d
    raise AssertionError(f"{name} not in shadowed distributions")


def realpath(p: os.PathLike) -> str:
    return os.path.realpath(str(p))





# -- editable installs through pip, with an in-tree PEP 660 backend ------------
#
# pip runs the backend in an isolated build environment with no requirements,
# so no index is needed; the wheel it returns holds exactly the files a real
# backend writes (a static .pth, or setuptools' own finder module generated by
# setuptools' template), and pip installs it with direct_url.json editable=true.

_BACKEND = '''\
import base64, hashlib, json, os, zipfile
_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, "editable.json")) as _f:
    SPEC = json.load(_f)

def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def _wheel(wheel_directory, files):
    dist = SPEC["name"].replace("-", "_")
    info = "%s-%s.dist-info" % (dist, SPEC["version"])
    contents = {k: v.encode() for k, v in files.items()}
    contents[info + "/METADATA"] = ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n\\n" % (SPEC["name"], SPEC["version"])).encode()
    contents[info + "/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: test-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = "".join("%s,%s,%d\\n" % (k, _hash(v), len(v)) for k, v in contents.items()) + info + "/RECORD,,\\n"
    contents[info + "/RECORD"] = record.encode()
    name = "%s-%s-py3-none-any.whl" % (dist, SPEC["version"])
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for k, v in contents.items():
            zf.writestr(k, v)
    return name

def get_requires_for_build_wheel(config_settings=None):
    return []

def get_requires_for_build_editable(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, SPEC["files"])

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, SPEC["editable_files"])
'''


def make_editable_project(root: Path, name: str, version: str, package: str, style: str = "pth") -> Path:
    """A tiny project whose ``pip install -e`` gives a static-.pth or a setuptools-finder editable.

    The package's code lives in ``root/src/<package>`` (style "pth": the .pth
    names ``root/src``) or ``root/code`` (style "finder": setuptools' finder
    maps ``package`` -> ``root/code``).
    """
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n')
    (root / "backend.py").write_text(_BACKEND)
    safe = name.replace("-", "_")
    if style == "pth":
        code = root / "src" / package
        editable = {f"__editable__.{safe}-{version}.pth": str(root / "src") + "\n"}
    elif style == "finder":
        code = root / "code"
        finder = f"__editable___{safe}_{version.replace('.', '_')}_finder"
        # setuptools' own template, generated in a subprocess: importing
        # setuptools into the test process fights with its distutils hack.
        gen = subprocess.run(
            [sys.executable, "-c", "import sys, json; from setuptools.command.editable_wheel import _finder_template; "
             "sys.stdout.write(_finder_template(sys.argv[1], json.loads(sys.argv[2]), {}))",
             finder, json.dumps({package: str(code)})],
            capture_output=True, text=True, check=True)
        editable = {
            f"__editable__.{safe}-{version}.pth": f"import {finder}; {finder}.install()\n",
            f"{finder}.py": gen.stdout,
        }
    else:
        raise ValueError(style)
    code.mkdir(parents=True)
    (code / "__init__.py").write_text(f"WHERE = 'editable {name}'\n")
    (root / "editable.json").write_text(json.dumps({
        "name": name, "version": version, "editable_files": editable,
        "files": {f"{package}/__init__.py": "WHERE = 'wheel'\n"},
    }))
    return root


def assert_generated(shipped: str, wanted: str, what: str, command: str) -> None:
    """Fail unless the file *what* equals what *command* would write, showing only the changed lines.

    A generated file that drifted is fixed by running *command*, not by reading pytest's diff of two
    multi-kilobyte strings, so the message says that first and keeps the diff short.
    """
    if shipped == wanted:
        return
    import difflib

    diff = list(difflib.unified_diff(shipped.splitlines(), wanted.splitlines(), "shipped", "generated",
                                     n=1, lineterm=""))
    shown = [line[:160] for line in diff[2:40]] + ([f"... {len(diff) - 40} more diff lines"] if len(diff) > 40 else [])
    pytest.fail(f"{what} is out of date: run `{command}` and commit the result\n" + "\n".join(shown), pytrace=False)
