#!/usr/bin/env python3
"""How fast does ``venvprobe compare`` check a fleet, beside a plain ``curl`` loop over the same URLs?

A local fleet, bounded and loopback only: ONE real gunicorn (gthread workers) serving the real probe
(``venvprobe.wsgi:application``) bound to N ports on 127.0.0.1 (``--bind`` repeated), so N targets
are N distinct URLs answered by real probe processes.  The probe serves its cached report (TTL 60 s),
as a deployed probe does between reports.

For each fleet size (default 100 and 1,000 targets), in ``--rounds`` interleaved rounds:

- ``compare EXP URL1..URLN -f json`` (as a deploy gate runs it, --concurrency 8): wall time, targets
  per second, and the peak RSS of the compare process (from ``wait4``);
- the baseline: a plain shell-style loop, one ``curl -s -o /dev/null`` per URL, sequential;
- ``curl --parallel --parallel-max 8`` over the same URLs in one process: the transfer alone at the
  same concurrency as compare, i.e. what fetching costs without parsing and checking.

Then ``compare --samples N`` against one URL (N = 1, 8, 32): samples per second.

Medians over the rounds; ratios are against the curl loop measured in the same run.

    python3 benchmarks/bench_fleet.py                       # 100 and 1,000 targets, 3 rounds
    python3 benchmarks/bench_fleet.py --sizes 100 --rounds 1 --json out.json

Run it with a Python where venvprobe and gunicorn are installed (``pip install -e .[test]``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

TOKEN = "bench-fleet-t0ken"


def free_ports(n: int) -> List[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def run_timed(cmd: Sequence[str], env: Dict[str, str], stdout=subprocess.DEVNULL) -> Tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, usage.ru_maxrss


class Fleet:
    """One gunicorn serving the probe on *n* loopback ports; stopped by pid."""

    def __init__(self, n: int, workers: int, workdir: Path):
        self.ports = free_ports(n)
        cfg = workdir / f"gunicorn-{n}.conf.py"
        cfg.write_text(f"bind = {[f'127.0.0.1:{p}' for p in self.ports]!r}\nworkers = {workers}\n"
                       "worker_class = 'gthread'\nthreads = 4\nbacklog = 2048\n")
        env = dict(os.environ, VENVPROBE_TOKEN=TOKEN, VENVPROBE_TTL="60")
        self.log = open(workdir / f"gunicorn-{n}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(cfg), "venvprobe.wsgi:application"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     cwd=workdir)
        self.urls = [f"http://127.0.0.1:{p}/" for p in self.ports]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: {(workdir / f'gunicorn-{n}.log').read_text()[-2000:]}")
            if all(_ready(p) for p in (self.ports[0], self.ports[-1])):
                return
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start in 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the gunicorn this script started
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _ready(port: int) -> bool:
    """A worker answers the probe (not just a listening socket: workers boot after the bind)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/identity", headers={"Authorization": f"Bearer {TOKEN}"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def main(argv: Sequence[str] = ()) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000", help="fleet sizes (targets), comma-separated (max 2000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers serving the fleet")
    ap.add_argument("--samples", default="1,8,32", help="compare --samples N against one URL")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(list(argv) or None)
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(not 1 <= s <= 2000 for s in sizes):
        ap.error("sizes must be 1..2000 (the fleet is bounded)")
    curl = shutil.which("curl")
    if not curl:
        ap.error("curl is needed for the baseline")
    venvprobe = [sys.executable, "-m", "venvprobe"]
    # Stopped with SIGTERM: still stop the gunicorn we started (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="venvprobe-bench-fleet-"))
    token_file = workdir / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    env = dict(os.environ)
    env.pop("VENVPROBE_TOKEN", None)
    results: Dict[str, object] = {"sizes": {}, "samples": {}, "machine": {"cpus": os.cpu_count()}}
    try:
        for n in sizes:
            fleet = Fleet(n, args.workers, workdir)
            try:
                exp = workdir / f"exp-{n}.toml"
                snap = subprocess.run(venvprobe + ["snapshot", fleet.urls[0], "--token-file", str(token_file),
                                                   "-o", str(exp)], env=env, capture_output=True, text=True)
                if snap.returncode != 0:
                    raise SystemExit(f"snapshot of {fleet.urls[0]} failed: {snap.stderr.strip()}")
                urls_file = workdir / "urls.txt"
                urls_file.write_text("".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in fleet.urls))
                compare_cmd = venvprobe + ["compare", str(exp), *fleet.urls, "--token-file", str(token_file),
                                           "-f", "json", "--concurrency", "8"]
                auth = ["-H", f"Authorization: Bearer {TOKEN}", "-H", "Accept: application/json"]
                rows: Dict[str, List[float]] = {"compare": [], "curl loop": [], "curl --parallel 8": []}
                rss: List[int] = []
                # warm the probe's cache in every worker
                run_timed(compare_cmd, env)
                for _ in range(args.rounds):
                    wall, rc, peak = run_timed(compare_cmd, env)
                    if rc != 0:
                        raise SystemExit(f"compare exited {rc} on the fleet of {n}")
                    rows["compare"].append(wall)
                    rss.append(peak)
                    start = time.perf_counter()
                    for url in fleet.urls:
                        subprocess.run([curl, "-s", "-o", os.devnull, "-f", *auth, url], check=True, env=env)
                    rows["curl loop"].append(time.perf_counter() - start)
                    wall, rc, _ = run_timed([curl, "-s", "-f", "--parallel", "--parallel-max", "8", *auth,
                                             "-K", str(urls_file)], env)
                    if rc != 0:
                        raise SystemExit(f"curl --parallel exited {rc}")
                    rows["curl --parallel 8"].append(wall)
                med = {k: statistics.median(v) for k, v in rows.items()}
                results["sizes"][n] = {
                    "seconds": med, "targets_per_s": {k: n / v for k, v in med.items()},
                    "compare_peak_rss_mib": statistics.median(rss) / 1024,
                    "compare_vs_curl_loop": med["curl loop"] / med["compare"],
                    "compare_vs_curl_parallel": med["curl --parallel 8"] / med["compare"],
                }
                if n == sizes[0]:
                    for s in (int(x) for x in args.samples.split(",")):
                        walls = [run_timed(venvprobe + ["compare", str(exp), fleet.urls[0], "--samples", str(s),
                                                        "--token-file", str(token_file), "-f", "json"], env)[0]
                                 for _ in range(args.rounds)]
                        results["samples"][s] = {"seconds": statistics.median(walls),
                                                 "samples_per_s": s / statistics.median(walls)}
            finally:
                fleet.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"venvprobe compare over a local fleet (one gunicorn, {args.workers} gthread workers, the probe on N "
          f"loopback ports); medians of {args.rounds} rounds, {os.cpu_count()} CPUs")
    print(f"{'targets':>8} {'compare s':>10} {'targets/s':>10} {'peak RSS MiB':>13} {'curl loop s':>12} "
          f"{'targets/s':>10} {'x loop':>7} {'curl -Z8 s':>11} {'x -Z8':>6}")
    for n, r in results["sizes"].items():
        s, t = r["seconds"], r["targets_per_s"]
        print(f"{n:>8} {s['compare']:>10.2f} {t['compare']:>10.1f} {r['compare_peak_rss_mib']:>13.1f} "
              f"{s['curl loop']:>12.2f} {t['curl loop']:>10.1f} {r['compare_vs_curl_loop']:>7.2f} "
              f"{s['curl --parallel 8']:>11.2f} {r['compare_vs_curl_parallel']:>6.2f}")
    print("(x loop: compare's speed as a multiple of the curl loop's; x -Z8: of curl --parallel-max 8)")
    for s, r in results["samples"].items():
        print(f"compare --samples {s:>3}: {r['seconds']:.2f} s, {r['samples_per_s']:.1f} samples/s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
