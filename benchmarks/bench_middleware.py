#!/usr/bin/env python3
"""What mounting the probe costs an app that never asks it anything: the issue-14 targets.

(benchmarks/footprint.py gives the wider picture: what pip install adds, the single
file, Flask for comparison, the first report request.)

In a venv with venvprobe installed as users install it (a wheel; an editable
install adds a .pth finder that imports pathlib and re at start-up), measures:

1. importing ``venvprobe.middleware`` and wrapping an app in
   ``ProbeMiddleware``: time and RSS added to the process, in fresh processes,
   (a) on a bare interpreter (worst case: nothing shared with the app) and
   (b) after the stdlib a WSGI worker typically has loaded (wsgiref's server,
   logging, json, email) — baseline: the same process without the import;
2. a request that is not for the probe: ns per call of the wrapped app minus
   ns per call of the bare app, interleaved repeats, medians.

Targets (issue 14): import adds <= 5 ms and <= 2 MiB; a non-probe request
costs <= 1 us more.  Standard library only:

    python3 benchmarks/bench_middleware.py [--rounds 21] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_report import build_cli_venv, log  # noqa: E402

TARGET_IMPORT_MS = 5.0
TARGET_IMPORT_MIB = 2.0
TARGET_REQUEST_US = 1.0

# One fresh process: RSS and time around the import (or around nothing).
_IMPORT_SCRIPT = r"""
import sys, time
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
preload, do_import = sys.argv[1] == 'worker', sys.argv[2] == 'import'
if preload:  # what a WSGI worker process has loaded before the app module
    import wsgiref.simple_server, logging, json, email.message, socket, threading, traceback
def app(environ, start_response):
    start_response('200 OK', [])
    return [b'hello']
r0 = rss(); t0 = time.perf_counter(); c0 = time.process_time()
if do_import:
    from venvprobe.middleware import ProbeMiddleware
    application = ProbeMiddleware(app)
t1 = time.perf_counter(); c1 = time.process_time(); r1 = rss()
print(repr({'ms': (t1 - t0) * 1e3, 'cpu_ms': (c1 - c0) * 1e3, 'rss': r1 - r0,
            'modules': len(sys.modules)}))
"""

# ns per call of app / ProbeMiddleware(app) for a request that is not for the probe.
_REQUEST_SCRIPT = r"""
import sys, time
from venvprobe.middleware import ProbeMiddleware
body = [b'hello world\n']
headers = [('Content-Type', 'text/plain')]
def app(environ, start_response):
    start_response('200 OK', headers)
    return body
def start_response(status, headers, exc_info=None):
    return None
wrapped = ProbeMiddleware(app)
environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/api/items/42', 'QUERY_STRING': 'page=2',
           'SERVER_NAME': 'localhost', 'SERVER_PORT': '8000', 'REMOTE_ADDR': '127.0.0.1',
           'HTTP_HOST': 'localhost:8000', 'HTTP_ACCEPT': '*/*', 'wsgi.url_scheme': 'http'}
n = int(sys.argv[1])
rounds = int(sys.argv[2])
def loop(f):
    r = range(n)
    t0 = time.perf_counter()
    for _ in r:
        f(environ, start_response)
    return (time.perf_counter() - t0) * 1e9 / n
def empty(environ, start_response):
    return None
out = {'bare': [], 'wrapped': [], 'empty': []}
loop(app); loop(wrapped)
for _ in range(rounds):
    for key, f in (('bare', app), ('wrapped', wrapped), ('empty', empty)):
        out[key].append(loop(f))
print(repr(out))
"""


def measure_import(python: str, rounds: int, env) -> dict:
    out = {}
    for preload in ("bare", "worker"):
        samples = {"import": [], "none": []}
        for _ in range(rounds):
            for what in ("import", "none"):  # interleaved
                proc = subprocess.run([python, "-c", _IMPORT_SCRIPT, preload, what], capture_output=True, env=env,
                                      cwd=tempfile.gettempdir())
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr.decode())
                samples[what].append(eval(proc.stdout.decode()))
        med = {what: {k: statistics.median(s[k] for s in vals) for k in ("ms", "cpu_ms", "rss", "modules")}
               for what, vals in samples.items()}
        out[preload] = {
            "import_ms": med["import"]["ms"] - med["none"]["ms"],
            "import_cpu_ms": med["import"]["cpu_ms"] - med["none"]["cpu_ms"],
            "import_ms_p25_p75": statistics.quantiles([s["ms"] for s in samples["import"]], n=4)[::2],
            "rss_mib": (med["import"]["rss"] - med["none"]["rss"]) / 2 ** 20,
            "rss_mib_max": max(s["rss"] for s in samples["import"]) / 2 ** 20,
            "modules_added": med["import"]["modules"] - med["none"]["modules"],
        }
    return out


def measure_request(python: str, n: int, rounds: int, env) -> dict:
    proc = subprocess.run([python, "-c", _REQUEST_SCRIPT, str(n), str(rounds)], capture_output=True, env=env,
                          cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode())
    data = eval(proc.stdout.decode())
    deltas = [w - b for w, b in zip(data["wrapped"], data["bare"])]
    return {"bare_ns": statistics.median(data["bare"]), "wrapped_ns": statistics.median(data["wrapped"]),
            "empty_call_ns": statistics.median(data["empty"]), "added_ns": statistics.median(deltas),
            "added_ns_p25_p75": statistics.quantiles(deltas, n=4)[::2], "rounds": rounds, "calls_per_round": n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=21, help="fresh processes per variant (default 21)")
    ap.add_argument("--calls", type=int, default=200000, help="calls per request-timing round (default 200000)")
    ap.add_argument("--request-rounds", type=int, default=15)
    ap.add_argument("--workdir", help="reuse this directory for the venv (default: a temp dir, removed)")
    ap.add_argument("--base-python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="venvprobe-middleware-"))
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm .pyc, as a deployed app has
    env.pop("VIRTUAL_ENV", None)
    try:
        build_cli_venv(args.base_python, os.path.join(workdir, "venv"))
        python = os.path.join(workdir, "venv", "bin", "python")
        subprocess.run([python, "-c", "import venvprobe.middleware"], check=True, env=env)  # compile once
        log("timing imports (%d fresh processes per variant)..." % args.rounds)
        imports = measure_import(python, args.rounds, env)
        log("timing non-probe requests...")
        request = measure_request(python, args.calls, args.request_rounds, env)
    finally:
        if not args.workdir:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    ok = True
    print("Footprint of venvprobe.middleware (python %s, venv from %s), medians" % (
        subprocess.run([args.base_python, "-c", "import platform; print(platform.python_version())"],
                       capture_output=True, text=True).stdout.strip(), args.base_python))
    # Judged on CPU time (the import does no waiting, so on an idle machine wall ==
    # CPU; on a shared one wall adds whatever preempted us), for the worker case:
    # the target is what mounting adds to a worker.  The bare interpreter is the
    # worst case (it also pays for stdlib modules every app has), shown for scale.
    for key, label in (("worker", "into a worker with wsgiref/logging/json/email loaded"), ("bare", "into a bare interpreter (worst case)")):
        r = imports[key]
        good = r["import_cpu_ms"] <= TARGET_IMPORT_MS and r["rss_mib"] <= TARGET_IMPORT_MIB
        verdict = ("OK (<= %.0f ms, <= %.0f MiB)" if good else "MISS (target <= %.0f ms, <= %.0f MiB)") % (
            TARGET_IMPORT_MS, TARGET_IMPORT_MIB)
        if key == "worker":
            ok &= good
        else:
            verdict = "(for scale: %s)" % verdict
        print("  import + wrap %-52s cpu %5.2f ms (wall %.2f, p25-p75 %.2f-%.2f), %+.2f MiB RSS, %d modules  %s" % (
            label, r["import_cpu_ms"], r["import_ms"], r["import_ms_p25_p75"][0], r["import_ms_p25_p75"][1],
            r["rss_mib"], r["modules_added"], verdict))
    good = request["added_ns"] <= TARGET_REQUEST_US * 1000
    ok &= good
    print("  non-probe request: bare app %.0f ns, through ProbeMiddleware %.0f ns: +%.0f ns (p25-p75 %.0f-%.0f; "
          "an empty Python call costs %.0f ns)  %s" % (
              request["bare_ns"], request["wrapped_ns"], request["added_ns"], request["added_ns_p25_p75"][0],
              request["added_ns_p25_p75"][1], request["empty_call_ns"],
              "OK (<= 1 us)" if good else "MISS (target <= 1 us)"))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"imports": imports, "request": request}, handle, indent=2)
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
