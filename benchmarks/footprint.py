#!/usr/bin/env python3
"""What venvprobe costs the app it diagnoses.

1. ``pip install venvprobe`` into a fresh venv: the distributions it adds, files and bytes on disk.
2. Importing the middleware (``import venvprobe.middleware`` + ``ProbeMiddleware(app)``) in a worker of that
   venv: milliseconds and MiB of RSS added, against the same process before the import (medians of fresh
   interpreters; the interpreter's own start-up is the baseline and is not counted).  For comparison, what
   importing Flask costs the same way (what the WSGI entry point imported before issue 8).
3. The single file of ``venvprobe probe-script``: its size, and the same two numbers for loading it.
4. The first request to the probe (collect + analyse + JSON) in each case.

    python3 benchmarks/footprint.py [--rounds 15] [--python /usr/bin/python3] [--find-links DIR] [--json]

Standard library only.  Needs network or a pip index/--find-links with venvprobe's dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MEASURE = r'''
import sys, time
def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
what, arg = sys.argv[1], sys.argv[2]
r0, t0 = rss(), time.perf_counter()
if what == "middleware":
    from venvprobe.middleware import ProbeMiddleware
    app = ProbeMiddleware(lambda environ, start_response: [b""])
elif what == "flask":
    import flask
    app = flask.Flask("x")
elif what == "script":
    mod = type(sys)("_mod_wsgi_probe")
    mod.__file__ = arg
    sys.modules[mod.__name__] = mod
    with open(arg) as fh:
        exec(compile(fh.read(), arg, "exec"), mod.__dict__)
    app = mod.application
t1, r1 = time.perf_counter(), rss()
req = None
if what != "flask":
    path = "/_venvprobe/" if what == "middleware" else "/"
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "format=json",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.errors": sys.stderr,
               # a token is required by default (issue 15); one from the environ, as SetEnv gives it
               "VENVPROBE_TOKEN": "bench-" + "x" * 32, "HTTP_AUTHORIZATION": "Bearer bench-" + "x" * 32}
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status == ["200 OK"], (status, body[:300])
    req = time.perf_counter() - t1
r2 = rss()
print(repr((t1 - t0, r1 - r0, req, r2 - r1)))
'''


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return res.stdout


def site_packages(py: Path) -> Path:
    return Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())


def inventory(sp: Path):
    dists = sorted(p.name for p in sp.iterdir() if p.name.endswith(".dist-info"))
    files = size = 0
    for root, _, names in os.walk(sp):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
                files += 1
            except OSError:
                pass
    return dists, files, size


def median_of(py: Path, what: str, arg: str, rounds: int):
    rows = [eval(run([str(py), "-I" if what == "script" else "-s", "-c", MEASURE, what, arg]))
            for _ in range(rounds)]
    cols = list(zip(*rows))
    return {"import_ms": statistics.median(cols[0]) * 1000, "import_rss_mib": statistics.median(cols[1]) / 2**20,
            "first_request_ms": statistics.median(cols[2]) * 1000 if cols[2][0] is not None else None,
            "request_rss_mib": statistics.median(cols[3]) / 2**20}


def startup_ms(py: Path, rounds: int) -> float:
    """The baseline: bare start-up of the app venv's interpreter (wall time of `python -s -c pass`)."""
    import time

    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run([str(py), "-s", "-c", "pass"])
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default="/usr/bin/python3", help="base interpreter of the app venv")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--find-links", help="extra wheel directory for pip")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vp-footprint-"))
    try:
        venv = work / "app-venv"
        run([args.python, "-m", "venv", str(venv)])
        py = venv / "bin" / "python"
        sp = site_packages(py)
        before = inventory(sp)
        wheels = work / "wheels"
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)])
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--find-links", str(wheels)]
        if args.find_links:
            pip += ["--find-links", args.find_links]
        run(pip + ["venvprobe"])
        after = inventory(sp)
        added = [d for d in after[0] if d not in before[0]]
        script = work / "venvprobe_probe.wsgi"
        run([str(venv / "bin" / "venvprobe"), "probe-script", "-o", str(script)])
        result = {
            "python": run([str(py), "-c", "import sys; print(sys.version.split()[0])"]).strip(),
            "install": {"distributions_added": [d[: -len(".dist-info")] for d in added],
                        "files_added": after[1] - before[1], "mib_added": (after[2] - before[2]) / 2**20},
            "middleware": median_of(py, "middleware", "", args.rounds),
            "flask_import_for_comparison": median_of(py, "flask", "", args.rounds),
            "single_file": dict(median_of(py, "script", str(script), args.rounds),
                                kib=script.stat().st_size / 1024),
            "startup_ms": startup_ms(py, args.rounds),
            "rounds": args.rounds,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    i = result["install"]
    print(f"Python {result['python']}, medians of {args.rounds} fresh interpreters; "
          f"baseline: bare start-up of the app venv's python {result['startup_ms']:.1f} ms")
    print(f"pip install venvprobe adds {len(i['distributions_added'])} distributions, {i['files_added']} files, "
          f"{i['mib_added']:.1f} MiB: {', '.join(i['distributions_added'])}")
    for name in ("middleware", "flask_import_for_comparison", "single_file"):
        m = result[name]
        line = (f"{name:28} import {m['import_ms']:6.1f} ms ({m['import_ms'] / result['startup_ms']:.2f}x start-up)"
                f"  +{m['import_rss_mib']:4.1f} MiB RSS")
        if m["first_request_ms"] is not None:
            line += f"   first report request {m['first_request_ms']:6.1f} ms  +{m['request_rss_mib']:4.1f} MiB"
        if "kib" in m:
            line += f"   file {m['kib']:.0f} KiB"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
