#!/usr/bin/env python3
"""Load test of the probe under real servers (loopback only, bounded).

For gunicorn and Apache + mod_wsgi (daemon mode) serving one app — a
hello-world WSGI app wrapped by ``venvprobe.middleware.ProbeMiddleware``, so
the hello world and the probe run in the same server, processes and
interpreter — it measures:

1. the hello-world app (``/``): requests/s baseline; and the same app sending
   a static body of the probe page's size *with the probe's response headers*
   (``/big?N&h``, one for the cached report's size, one for /identity's): what
   any app pays to send that response, without the probe's own work;
2. the identity view (``/_venvprobe/identity``) under concurrency 32 for
   ``--duration`` seconds: errors, requests/s, ratio to the hello world
   (target >= 0.8) and to the static body of its size;
3. the cached full report (``/_venvprobe/``, text — what curl gets):
   errors, requests/s, ratio to the hello world (target >= 0.9) and to the
   same-size static body;
   the load phases run interleaved in ``--rounds`` rounds (hello, static,
   static, identity, cached, hello, ...) so that a shared machine's background load
   hits them alike; ratios are medians of per-round ratios; RSS of all server
   processes is sampled after every round, and server CPU time per request
   comes from /proc/<pid>/stat;
4. a fresh full report (``?fresh=1``), sequential, ``--fresh-requests``
   times, in every format (text, JSON, Markdown, HTML): p50/p99 latency (target p99 < 20 ms) with
   ``--dists`` (default ~100) distributions in the venv (metadata-only
   distributions are generated to get there).

Load comes from ``wrk`` (``wrk -t2 -c32 -d30s --latency``) when installed,
else from a bounded Python client (threads x keep-alive-less http.client).
Servers are started with tests/servers.py (own ServerRoot/ports on
127.0.0.1, stopped by pid); the venv is made from Debian's /usr/bin/python3
with venvprobe from the repo.  Nothing listens beyond 127.0.0.1.

    python3 benchmarks/load_probe.py            # 30 s of load per URL (~10 min)
    python3 benchmarks/load_probe.py --quick    # 5 s per phase, smoke run
    python3 benchmarks/load_probe.py --servers gunicorn --duration 10 --json out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import probe_helpers as ph  # noqa: E402
import servers  # noqa: E402

HELLO_APP = '''\
from venvprobe.middleware import ProbeMiddleware

_BIG = b"x" * (1 << 20)


# The probe's text answers (the measured /identity and cached report) carry these
# besides Content-Type and Content-Length (venvprobe.probe.core: its own X-Venvprobe-*
# and the security headers; Referrer-Policy goes on HTML answers only).
_PROBE_HEADERS = [("X-Venvprobe-Pid", "12345"), ("X-Venvprobe-Interpreter", "0"),
                  ("X-Venvprobe-Generated", "2026-01-01T00:00:00.000Z"),
                  ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                  ("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")]


def hello(environ, start_response):
    headers = [("Content-Type", "text/plain")]
    if environ.get("PATH_INFO") == "/big":
        # A static body of N bytes (?N): the cost of moving a probe-sized
        # response, without the probe; ?N&h: with the probe's headers too.
        size, _, extra = (environ.get("QUERY_STRING") or "").partition("&")
        try:
            size = max(0, min(int(size or 0), len(_BIG)))
        except ValueError:
            size = 0
        body = _BIG[:size]
        if extra == "h":
            headers += _PROBE_HEADERS
    else:
        body = b"hello world\\n"
    start_response("200 OK", headers + [("Content-Length", str(len(body)))])
    return [body]


application = ProbeMiddleware(hello)
'''

HARD_LIMIT_DURATION = 120  # seconds per phase: this is a bounded tool
# Sent with every request of every phase (hello world too, so all carry the same
# header bytes): the probe's own bearer token, read from its file as the
# person on the host would (the probe's default way in).
HEADERS: Dict[str, str] = {}
# Targets (issue 14), as ratios of requests/s to the hello-world app in the same server and round.
TARGET_CACHED = 0.9
TARGET_IDENTITY = 0.8


# --------------------------------------------------------------------------
# measuring


def rss_of(pids: Sequence[int]) -> Dict[int, int]:
    """RSS in bytes of each live pid (from /proc/<pid>/status)."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return out


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> Dict[str, Any]:
    """requests, duration, rps, errors and latency percentiles from wrk --latency output."""
    res: Dict[str, Any] = {"tool": "wrk"}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not m:
        raise ValueError("no request count in wrk output:\n" + output)
    res["requests"] = int(m.group(1))
    res["seconds"] = _ms(m.group(2) + m.group(3)) / 1000.0
    m = re.search(r"Requests/sec:\s+([\d.]+)", output)
    res["rps"] = float(m.group(1)) if m else res["requests"] / res["seconds"]
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
        errors += sum(map(int, m.groups()))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    res["non_2xx"] = int(m.group(1)) if m else 0
    errors += res["non_2xx"]
    res["errors"] = errors
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        if m:
            res[f"p{pct}_ms"] = _ms(m.group(1))
    return res


def run_wrk(url: str, duration: float, concurrency: int, threads: int) -> Dict[str, Any]:
    # A request slower than this counts as a wrk "timeout" error; it must be
    # shorter than the run, or a stalled server would show 0 requests, 0 errors.
    timeout = max(1, min(5, int(duration / 2)))
    cmd = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{int(duration)}s",
           "--timeout", f"{timeout}s", "--latency"]
    for name, value in HEADERS.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    shown = " ".join("Authorization: [token]" if c.startswith("Authorization:") else c for c in cmd)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=duration + 60)
    if res.returncode != 0:
        raise RuntimeError(f"{shown} failed:\n{res.stdout}")
    out = parse_wrk(res.stdout)
    out["cmd"] = shown
    if out["requests"] == 0:
        out["errors"] += 1  # nothing completed at all: a stall is an error
        out["stalled"] = True
    return out


def _get(host: str, port: int, path: str, headers: Optional[Dict[str, str]] = None,
         timeout: float = 10.0) -> Tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(HEADERS, **(headers or {})))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def run_python_client(port: int, path: str, duration: float, concurrency: int) -> Dict[str, Any]:
    """Bounded fallback: ``concurrency`` threads, each one request at a time, for ``duration`` s."""
    stop_at = time.monotonic() + duration
    lock = threading.Lock()
    latencies: List[float] = []
    counts = {"ok": 0, "errors": 0}

    def worker() -> None:
        mine: List[float] = []
        ok = err = 0
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _ = _get("127.0.0.1", port, path)
                if 200 <= status < 400:
                    ok += 1
                else:
                    err += 1
            except OSError:
                err += 1
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += err

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 30)
    seconds = time.monotonic() - t0
    total = counts["ok"] + counts["errors"]
    return {"tool": "python", "requests": total, "seconds": seconds, "rps": total / seconds,
            "errors": counts["errors"], "non_2xx": counts["errors"], **_percentiles(latencies)}


def _percentiles(values_ms: List[float]) -> Dict[str, float]:
    if not values_ms:
        return {}
    v = sorted(values_ms)

    def pct(p: float) -> float:
        return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]

    return {"p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": v[-1],
            "mean_ms": statistics.fmean(v)}


def sequential_latency(port: int, path: str, count: int, headers: Optional[Dict[str, str]] = None
                       ) -> Dict[str, Any]:
    lat = []
    errors = 0
    size = 0
    for _ in range(count):
        t0 = time.perf_counter()
        status, body = _get("127.0.0.1", port, path, headers=headers)
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            errors += 1
        size = len(body)
    return {"requests": count, "errors": errors, "bytes": size, **_percentiles(lat)}


def load(port: int, path: str, duration: float, concurrency: int, threads: int, use_wrk: bool) -> Dict[str, Any]:
    if use_wrk:
        return run_wrk(f"http://127.0.0.1:{port}{path}", duration, concurrency, threads)
    return run_python_client(port, path, duration, concurrency)


# --------------------------------------------------------------------------
# setup


def make_environment(root: Path, target_dists: int) -> Tuple[servers.Venv, Path, int]:
    venv = ph.make_probe_venv(root / "venv", packages=("venvprobe", "gunicorn"))
    have = len(list(venv.site_packages.glob("*.dist-info")))
    add = max(0, target_dists - have)
    ph.write_metadata_only_dists(venv.site_packages, add)
    app = root / "app"
    app.mkdir()
    (app / "hello_app.py").write_text(HELLO_APP)
    (app / "hello.wsgi").write_text(HELLO_APP)
    servers.make_world_readable(root)
    return venv, app, have + add


def probe_token_header(server: servers.BaseServer) -> Dict[str, str]:
    """{"Authorization": "Bearer <token>"} with the token the probe in *server* accepts.

    Tried, not just read: a token file left in the server user's home by an
    earlier run (and refused by the probe, e.g. for its mode) must not win over
    the one the probe made in $TMPDIR.
    """
    for _ in range(2):
        for path in ph.own_token_paths(server):
            try:
                token = path.read_text().strip()
            except OSError:
                continue
            header = {"Authorization": "Bearer " + token}
            if token and _get("127.0.0.1", server.port, "/_venvprobe/identity", headers=header)[0] == 200:
                return header
        _get("127.0.0.1", server.port, "/_venvprobe/identity")  # the first request makes the token
    raise RuntimeError(f"the probe accepts none of the tokens in {ph.own_token_paths(server)}\n{server.logs()}")


def start_server(kind: str, venv: servers.Venv, app: Path, root: Path, args: argparse.Namespace
                 ) -> servers.BaseServer:
    if kind == "gunicorn":
        server: servers.BaseServer = servers.GunicornServer(
            venv, "hello_app:application", workers=args.gunicorn_workers, chdir=app, root=root / "gunicorn")
    elif kind == "apache":
        if not servers.apache_binary() or not servers.MOD_WSGI_SO.exists():
            raise SystemExit("apache2 / mod_wsgi not installed")
        server = servers.ApacheServer(f"""
WSGIDaemonProcess bench python-home={venv.root} processes={args.apache_processes} threads={args.apache_threads}
WSGIScriptAlias / {app}/hello.wsgi process-group=bench application-group=%{{GLOBAL}}
# mod_wsgi hides the Authorization header from the app unless told: the probe's token travels in it.
WSGIPassAuthorization On
<Directory {app}>
    Require all granted
</Directory>
""", root=root / "apache", log_level="warn")
    else:
        raise SystemExit(f"unknown server {kind!r}")
    server.start(timeout=30)
    return server


def warm_up(server: servers.BaseServer, workers: int, paths: Sequence[str], seconds: float,
            args: argparse.Namespace, use_wrk: bool) -> None:
    """Load the app and build the cached report in every process, then run each
    URL briefly at full concurrency so that every thread/buffer the load will
    use exists before the RSS baseline is taken."""
    for _ in range(max(20, workers * 20)):
        for path in ("/", "/_venvprobe/identity", "/_venvprobe/", "/_venvprobe/?format=json"):
            status, body = _get("127.0.0.1", server.port, path)
            if status != 200:
                raise RuntimeError(f"warm-up GET {path} -> {status}: {body[:300]!r}\n{server.logs()}")
    for path in paths:
        load(server.port, path, seconds, args.concurrency, args.threads, use_wrk)


def worker_pids(server: servers.BaseServer) -> List[int]:
    return [p for p in server.session_processes()]


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of the pids (seconds), from /proc/<pid>/stat."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


# Baselines besides the hello world: the hello-world app sending a static body
# of the probe page's size, with the probe's response headers (/big?N&h).
LOAD_PHASES = (("hello", "/"), ("static_same_size", "cached_text"), ("static_identity_size", "identity"),
               ("identity", "/_venvprobe/identity"), ("cached_text", "/_venvprobe/"))


def bench_server(kind: str, venv: servers.Venv, app: Path, root: Path, args: argparse.Namespace,
                 use_wrk: bool) -> Dict[str, Any]:
    """Interleaved rounds: hello, identity, cached report, hello, ... so that the
    background load of a shared machine hits every phase alike; each URL gets
    ``--duration`` seconds of load in total, split over ``--rounds`` rounds."""
    server = start_server(kind, venv, app, root, args)
    result: Dict[str, Any] = {"server": kind}
    try:
        HEADERS.clear()
        HEADERS.update(probe_token_header(server))
        workers = args.gunicorn_workers if kind == "gunicorn" else args.apache_processes
        size = len(_get("127.0.0.1", server.port, "/_venvprobe/")[1])
        result["cached_text_bytes"] = size
        result["identity_bytes"] = len(_get("127.0.0.1", server.port, "/_venvprobe/identity")[1])
        sizes = {"cached_text": size, "identity": result["identity_bytes"]}
        _check_baseline_headers(server.port, size)
        phases = [(name, path if path.startswith("/") else f"/big?{sizes[path]}&h") for name, path in LOAD_PHASES]
        if args.json_phase:
            phases.append(("cached_json", "/_venvprobe/?format=json"))
        warm_up(server, workers, [p for _, p in phases], args.warmup, args, use_wrk)
        _, body = _get("127.0.0.1", server.port, "/_venvprobe/distributions?format=json")
        result["distributions_in_report"] = len(json.loads(body)["distributions"])
        pids = worker_pids(server)
        result["pids"] = pids
        slice_s = max(1.0, args.duration / args.rounds)
        rounds: Dict[str, List[Dict[str, Any]]] = {name: [] for name, _ in phases}
        rss_series = [sum(rss_of(pids).values())]
        for n in range(args.rounds):
            for name, path in phases:
                cpu0 = cpu_seconds(pids)
                res = load(server.port, path, slice_s, args.concurrency, args.threads, use_wrk)
                res["server_cpu_ms_per_request"] = (cpu_seconds(pids) - cpu0) * 1000 / max(1, res["requests"])
                rounds[name].append(res)
                print(f"  {kind:<8} round {n + 1}/{args.rounds} {name:<12} {res['rps']:8.0f} req/s  "
                      f"errors={res['errors']}  p99={res.get('p99_ms', float('nan')):.2f} ms", flush=True)
            rss_series.append(sum(rss_of(pids).values()))
        for name, path in phases:
            rs = rounds[name]
            result[name] = {
                "path": path,
                "rounds": rs,
                "seconds": sum(r["seconds"] for r in rs),
                "requests": sum(r["requests"] for r in rs),
                "errors": sum(r["errors"] for r in rs),
                "rps": statistics.median(r["rps"] for r in rs),
                "p50_ms": statistics.median(r.get("p50_ms", 0.0) for r in rs),
                "p99_ms": statistics.median(r.get("p99_ms", 0.0) for r in rs),
                "server_cpu_ms_per_request": statistics.median(r["server_cpu_ms_per_request"] for r in rs),
            }
        # Per-round ratios, then the median: robust to drifting background load.
        result["ratio_cached_to_hello"] = statistics.median(
            c["rps"] / h["rps"] for c, h in zip(rounds["cached_text"], rounds["hello"]))
        result["ratio_identity_to_hello"] = statistics.median(
            c["rps"] / h["rps"] for c, h in zip(rounds["identity"], rounds["hello"]))
        result["ratio_cached_to_static"] = statistics.median(
            c["rps"] / h["rps"] for c, h in zip(rounds["cached_text"], rounds["static_same_size"]))
        result["ratio_identity_to_static"] = statistics.median(
            c["rps"] / h["rps"] for c, h in zip(rounds["identity"], rounds["static_identity_size"]))
        result["rss_series"] = rss_series
        result["rss_growth"] = rss_series[-1] - rss_series[0]
        result["processes_alive"] = set(rss_of(pids)) == set(pids)
        for key, path, headers in (("fresh_text", "/_venvprobe/?fresh=1", None),
                                   ("fresh_json", "/_venvprobe/?fresh=1&format=json", None),
                                   ("fresh_markdown", "/_venvprobe/?fresh=1&format=markdown", None),
                                   ("fresh_html", "/_venvprobe/?fresh=1&format=html", None),
                                   ("identity_seq", "/_venvprobe/identity", None)):
            cpu0 = cpu_seconds(pids)
            r = sequential_latency(server.port, path, args.fresh_requests, headers)
            r["server_cpu_ms_per_request"] = (cpu_seconds(pids) - cpu0) * 1000 / max(1, r["requests"])
            result[key] = r
            print(f"  {kind:<8} {key:<14} p50={r['p50_ms']:.2f} ms  p99={r['p99_ms']:.2f} ms  "
                  f"server CPU {r['server_cpu_ms_per_request']:.2f} ms/req  errors={r['errors']}  "
                  f"({r['requests']} sequential, {r['bytes']} bytes)", flush=True)
        result["server_errors_logged"] = _server_errors(server)
    finally:
        server.stop()
    return result


def _header_names(port: int, path: str) -> List[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=HEADERS)
        resp = conn.getresponse()
        resp.read()
        return sorted(name.lower() for name, _ in resp.getheaders())
    finally:
        conn.close()


def _check_baseline_headers(port: int, size: int) -> None:
    """The static baseline (/big?N&h) sends the same header names as the probe's measured answers."""
    baseline = _header_names(port, f"/big?{size}&h")
    for path in ("/_venvprobe/", "/_venvprobe/identity"):
        probe = _header_names(port, path)
        if probe != baseline:
            raise RuntimeError(f"the static baseline's headers {baseline} are not the probe's {probe} ({path}): "
                               "update HELLO_APP's _PROBE_HEADERS")


def _server_errors(server: servers.BaseServer) -> int:
    text = server.logs()
    return len(re.findall(r"Traceback|venvprobe: internal error|\[error\]|\bCRITICAL\b|WORKER TIMEOUT", text))


# --------------------------------------------------------------------------
# report


def _fmt_mib(n: int) -> str:
    return f"{n / 2**20:+.2f}"


def print_table(results: List[Dict[str, Any]], args: argparse.Namespace) -> bool:
    rows = [("server", "what", "req/s (median)", "errors", "p50 ms", "p99 ms", "server CPU ms/req", "verdict")]
    ok_all = True
    for r in results:
        for key, label in (("hello", "hello world c%d" % args.concurrency),
                           ("static_same_size", "static %d B+hdrs c%d" % (r["cached_text_bytes"], args.concurrency)),
                           ("static_identity_size", "static %d B+hdrs c%d" % (r["identity_bytes"], args.concurrency)),
                           ("identity", "identity c%d" % args.concurrency),
                           ("cached_text", "cached report c%d" % args.concurrency),
                           ("cached_json", "cached json c%d" % args.concurrency)):
            if key not in r:
                continue
            x = r[key]
            verdict = []
            if x["errors"]:
                verdict.append("ERRORS")
            if key == "cached_text":
                ratio = r["ratio_cached_to_hello"]
                verdict.append(f"ratio {ratio:.2f} {'ok' if ratio >= TARGET_CACHED else f'MISSED (<{TARGET_CACHED})'}")
                ok_all &= ratio >= TARGET_CACHED
                verdict.append(f"vs same-size static {r['ratio_cached_to_static']:.2f}")
            if key == "identity":
                ratio = r["ratio_identity_to_hello"]
                verdict.append(f"ratio {ratio:.2f} {'ok' if ratio >= TARGET_IDENTITY else f'MISSED (<{TARGET_IDENTITY})'}")
                ok_all &= ratio >= TARGET_IDENTITY
                verdict.append(f"vs same-size static {r['ratio_identity_to_static']:.2f}")
            ok_all &= not x["errors"]
            rows.append((r["server"], label, f"{x['rps']:.0f}", str(x["errors"]), f"{x['p50_ms']:.2f}",
                         f"{x['p99_ms']:.2f}", f"{x['server_cpu_ms_per_request']:.2f}",
                         ", ".join(verdict) or ("baseline" if key in ("hello", "static_same_size", "static_identity_size") else "ok")))
        for key, label in (("fresh_text", "fresh report text"), ("fresh_json", "fresh report json"),
                           ("fresh_markdown", "fresh report markdown"), ("fresh_html", "fresh report html"),
                           ("identity_seq", "identity")):
            x = r[key]
            verdict = ""
            if key != "identity_seq":
                good = x["p99_ms"] < 20.0
                verdict = "ok (<20 ms)" if good else "MISSED (>=20 ms)"
                ok_all &= good
            ok_all &= not x["errors"]
            rows.append((r["server"], f"{label} seq x{x['requests']}", "-", str(x["errors"]), f"{x['p50_ms']:.2f}",
                         f"{x['p99_ms']:.2f}", f"{x['server_cpu_ms_per_request']:.2f}", verdict))
        rss = r["rss_series"]
        series = " -> ".join(f"{v / 2**20:.1f}" for v in rss)
        # Steady state: from the end of round 1 (every thread has by then
        # built/rendered a report at least once: per-thread malloc arenas
        # reach their size) to the end; with one round, the whole run.
        steady = rss[1:] if len(rss) > 2 else rss
        growth = steady[-1] - steady[0]
        flat = growth <= max(2 * 2**20, 0.05 * steady[0])
        ok_all &= flat and r["processes_alive"]
        rows.append((r["server"], "RSS MiB, all procs, per round", "-", "-", "-", "-", "-",
                     f"{series} (total {_fmt_mib(r['rss_growth'])}, steady {_fmt_mib(growth)}) "
                     f"{'flat' if flat else 'GREW'}"
                     + ("" if r["processes_alive"] else ", a process died/respawned")))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    return ok_all


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--servers", default="gunicorn,apache", help="comma-separated: gunicorn, apache")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per load phase (default 30)")
    p.add_argument("--concurrency", type=int, default=32, help="concurrent connections (default 32)")
    p.add_argument("--rounds", type=int, default=3,
                   help="interleave the load phases in this many rounds (default 3: 3 x 10 s per URL)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of load per URL before measuring (default 3)")
    p.add_argument("--fresh-requests", type=int, default=200, help="sequential ?fresh=1 requests (default 200)")
    p.add_argument("--dists", type=int, default=100, help="distributions in the venv (default ~100)")
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--apache-processes", type=int, default=2)
    p.add_argument("--apache-threads", type=int, default=8)
    p.add_argument("--json-phase", action="store_true", help="also load the cached JSON report")
    p.add_argument("--python-client", action="store_true", help="use the Python client even if wrk is installed")
    p.add_argument("--quick", action="store_true", help="smoke run: 5 s phases, 50 fresh requests")
    p.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 5.0)
        args.fresh_requests = min(args.fresh_requests, 50)
        args.rounds = 1
        args.warmup = min(args.warmup, 1.0)
    if not 1 <= args.duration <= HARD_LIMIT_DURATION:
        p.error(f"--duration must be 1..{HARD_LIMIT_DURATION} s")
    if not 1 <= args.concurrency <= 256:
        p.error("--concurrency must be 1..256")
    use_wrk = bool(shutil.which("wrk")) and not args.python_client
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]

    root = servers.fresh_shared_dir("loadprobe")
    print(f"scratch: {root}; load tool: {'wrk' if use_wrk else 'python client'}; "
          f"{args.duration:.0f} s per phase, concurrency {args.concurrency}", flush=True)
    results = []
    try:
        venv, app, ndists = make_environment(root, args.dists)
        print(f"venv {venv.root}: {ndists} distributions (Debian /usr/bin/python3)", flush=True)
        for kind in kinds:
            results.append(bench_server(kind, venv, app, root, args, use_wrk))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    ok = print_table(results, args)
    for r in results:
        print(f"{r['server']}: distributions in report {r['distributions_in_report']}, cached/hello ratio "
              f"{r['ratio_cached_to_hello']:.2f}, cached/same-size static {r['ratio_cached_to_static']:.2f}, "
              f"identity/hello {r['ratio_identity_to_hello']:.2f}, "
              f"identity/same-size static {r['ratio_identity_to_static']:.2f}, "
              f"error lines in server log {r['server_errors_logged']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    print("all targets met" if ok else "some targets missed (see verdicts)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
