#!/usr/bin/env python3
"""Does `venvprobe report --python X -f json` hold up in a huge environment?

Builds venvs at three scales, the largest being the issue-14 one: 20,000
distributions, 500 sys.path entries (from a .pth file, as a big deployment's
layered paths) and a site-packages of 100,000 files (the distributions'
files plus a few big packages whose RECORDs list thousands of files).  For
each scale, interleaved rounds of fresh processes:

    X -c pass                          bare start-up (baseline)
    X lists dists (importlib.metadata) name+version of every distribution
    venvprobe report --python X -f json   the CLI (from a wheel venv), stdout -> /dev/null
    X side alone                       what the CLI runs in X (collector + analysis + JSON)

with wall and CPU medians, the peak RSS of each process (wait4), the report's
size, and the marginal cost per scale step (linear if the last step costs
about what the first did).  Standard library only:

    python3 benchmarks/bench_scale.py [--scales 0.1,0.5,1] [--rounds 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_report import (IMPORTLIB_METADATA_LIST, _b64hash, _site_packages, build_cli_venv,  # noqa: E402
                          generate_dists, log)

FULL = {"dists": 20000, "paths": 500, "files": 100000}
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
TARGET_LINEARITY = 1.5


def build_scale_venv(base_python: str, root: str, dists: int, paths: int, files: int) -> str:
    """A venv with *dists* distributions, *paths* extra sys.path entries and ~*files* files in site-packages."""
    import subprocess

    marker = os.path.join(root, ".vpscale")
    python = os.path.join(root, "bin", "python")
    want = "%d %d %d" % (dists, paths, files)
    if os.path.exists(marker) and open(marker).read() == want:
        return python
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([base_python, "-m", "venv", "--without-pip", root], check=True)
    site = _site_packages(python)
    generate_dists(site, dists)  # 4 files each: module, METADATA, INSTALLER, RECORD
    have = sum(len(f) for _, _, f in os.walk(site))
    # The rest as a few big packages whose RECORDs list every file (RECORD parsing at scale).
    big = max(0, files - have)
    per = 2000
    for b in range((big + per - 1) // per):
        name = "vpscale_big_%03d" % b
        meta = os.path.join(site, "%s-1.0.dist-info" % name)
        os.makedirs(meta)
        record = []
        count = min(per, big - b * per) - 3
        for i in range(max(0, count)):
            sub = os.path.join(site, name, "sub%02d" % (i % 20))
            os.makedirs(sub, exist_ok=True)
            rel = "%s/sub%02d/m%05d.py" % (name, i % 20, i)
            data = b"X = %d\n" % i
            with open(os.path.join(site, rel), "wb") as handle:
                handle.write(data)
            record.append("%s,sha256=%s,%d" % (rel, _b64hash(data), len(data)))
        with open(os.path.join(meta, "METADATA"), "w") as handle:
            handle.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n\n" % name)
        with open(os.path.join(meta, "INSTALLER"), "w") as handle:
            handle.write("pip\n")
        record += ["%s-1.0.dist-info/METADATA,," % name, "%s-1.0.dist-info/INSTALLER,," % name,
                   "%s-1.0.dist-info/RECORD,," % name]
        with open(os.path.join(meta, "RECORD"), "w") as handle:
            handle.write("\n".join(record) + "\n")
    # sys.path entries: directories named in a .pth file, each with two modules;
    # every tenth also provides a module that a site-packages distribution has (shadowing work).
    extra = os.path.join(root, "paths")
    lines = []
    for i in range(paths):
        d = os.path.join(extra, "p%04d" % i)
        os.makedirs(d)
        for mod in ("layer_%04d_a" % i, "layer_%04d_b" % i) + (("vpbench_pkg_%05d" % i,) if i % 10 == 0 else ()):
            with open(os.path.join(d, mod + ".py"), "w") as handle:
                handle.write("X = 1\n")
        lines.append(d)
    with open(os.path.join(site, "vpscale_paths.pth"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    with open(marker, "w") as handle:
        handle.write(want)
    total = sum(len(f) for _, _, f in os.walk(site))
    log("  built %s: %d dists, %d path entries, %d files in site-packages in %.0f s" % (
        root, dists, paths, total, time.perf_counter() - t0))
    return python


def run(argv, stdin=None):
    """(wall s, cpu s incl. descendants, peak RSS bytes of the process tree, stdout bytes) of one run."""
    import subprocess

    # GNU time reports the peak RSS of the command and its waited-for children
    # (here: the CLI and X).  wait4 from this process cannot: a child forked
    # from a 20 MiB Python counts those pages until it execs.
    argv = [GNU_TIME, "-f", "VPSCALE_MAXRSS_KIB=%M"] + list(argv) if GNU_TIME else list(argv)
    out_r, out_w = os.pipe()
    t0 = time.perf_counter()
    if stdin is not None:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out_w, stderr=subprocess.PIPE)
    else:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=subprocess.PIPE)
    os.close(out_w)
    size = 0
    import threading

    def drain():
        nonlocal size
        while True:
            chunk = os.read(out_r, 1 << 20)
            if not chunk:
                break
            size += len(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    os.close(out_r)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (argv[:3], proc.returncode, err.decode()[-500:]))
    rss = None
    for line in err.decode("utf-8", "replace").splitlines():
        if line.startswith("VPSCALE_MAXRSS_KIB="):
            rss = int(line.split("=", 1)[1]) * 1024
    if rss is None:  # no GNU time: wait4's figure, inflated by this process's size at fork
        rss = usage.ru_maxrss * 1024
    return wall, usage.ru_utime + usage.ru_stime, rss, size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="0.1,0.5,1", help="fractions of 20,000 dists / 500 paths / 100,000 files")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workdir", help="build/reuse venvs here (kept)")
    ap.add_argument("--base-python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    scales = sorted(float(s) for s in args.scales.split(","))
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="venvprobe-scale-"))
    os.makedirs(workdir, exist_ok=True)
    try:
        cli = build_cli_venv(args.base_python, os.path.join(workdir, "cli-venv"))
        sys.path.insert(0, os.path.dirname(HERE))
        from venvprobe import ship

        payload = ship.payload()
        venvs = {}
        for s in scales:
            n = {k: max(1, int(v * s)) for k, v in FULL.items()}
            venvs[s] = (n, build_scale_venv(args.base_python, os.path.join(workdir, "scale-%g" % s),
                                            n["dists"], n["paths"], n["files"]))
        plan = []
        for s, (n, py) in venvs.items():
            plan += [(s, "baseline", [py, "-c", "pass"], None),
                     (s, "importlib_metadata", [py, "-c", IMPORTLIB_METADATA_LIST], None),
                     (s, "cli", [cli, "report", "--python", py, "-f", "json"], None),
                     (s, "x_side", [py, "-c", ship.BOOTSTRAP], payload)]
        samples = {(s, k): [] for s, k, _, _ in plan}
        rng = random.Random(7)
        for rnd in range(args.rounds + 1):  # round 0: warm-up (bytecode caches, page cache)
            order = plan[:]
            rng.shuffle(order)
            for s, k, cmd, stdin in order:
                res = run(cmd, stdin)
                if rnd:
                    samples[(s, k)].append(res)
            log("  round %d/%d done, load %.2f" % (rnd, args.rounds, os.getloadavg()[0]))
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    res = {}
    for (s, k), vals in samples.items():
        res.setdefault(s, {})[k] = {"wall_ms": statistics.median(v[0] for v in vals) * 1e3,
                                    "cpu_ms": statistics.median(v[1] for v in vals) * 1e3,
                                    "peak_rss_mib": max(v[2] for v in vals) / 2 ** 20,
                                    "stdout_bytes": statistics.median(v[3] for v in vals)}
    print("venvprobe at scale: %d rounds, medians (wall ms / cpu ms), peak RSS of the process tree" % args.rounds)
    head = "%-44s" % "dists / sys.path entries / site-packages files"
    for s in scales:
        n = venvs[s][0]
        head += " | %-30s" % ("%d / %d / %d" % (n["dists"], n["paths"], n["files"]))
    print(head)
    print("-" * len(head))
    for k, label in (("baseline", "X -c pass"), ("importlib_metadata", "X lists dists (importlib.metadata)"),
                     ("cli", "venvprobe report --python X -f json"), ("x_side", "  X side alone (collect+analyse+JSON)")):
        line = "%-44s" % label
        for s in scales:
            r = res[s][k]
            line += " | %7.0f / %6.0f ms  %6.1f MiB" % (r["wall_ms"], r["cpu_ms"], r["peak_rss_mib"])
        print(line)
    print("%-44s" % "report size (JSON bytes)" + "".join(" | %30s" % ("%.1f MB" % (res[s]["cli"]["stdout_bytes"] / 1e6)) for s in scales))
    ok = True
    steps = []
    for a, b in zip(scales, scales[1:]):
        da = b - a
        steps.append({k: (res[b][k]["cpu_ms"] - res[a][k]["cpu_ms"]) / da for k in ("cli", "x_side", "importlib_metadata")})
        steps[-1]["wall_cli"] = (res[b]["cli"]["wall_ms"] - res[a]["cli"]["wall_ms"]) / da
    for (a, b), st in zip(zip(scales, scales[1:]), steps):
        print("  scale %g -> %g: marginal cpu ms per full-scale unit: report %.0f, X side %.0f, importlib.metadata %.0f "
              "(= %.1f us per distribution for the report)" % (a, b, st["cli"], st["x_side"], st["importlib_metadata"],
                                                               st["cli"] * 1000 / FULL["dists"]))
    if len(steps) >= 2 and steps[0]["cli"] > 0:
        lin = steps[-1]["cli"] / steps[0]["cli"]
        good = lin <= TARGET_LINEARITY
        ok &= good
        print("  linearity (cpu): last step / first step = %.2f  %s" % (lin, "OK (<= %.1f)" % TARGET_LINEARITY if good else "MISS"))
    big = res[scales[-1]]
    print("  largest scale: report %.0f ms wall (%.1fx X -c pass), peak RSS %.1f MiB (CLI and X), X side %.1f MiB" % (
        big["cli"]["wall_ms"], big["cli"]["wall_ms"] / big["baseline"]["wall_ms"], big["cli"]["peak_rss_mib"],
        big["x_side"]["peak_rss_mib"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"scales": {str(s): {"n": venvs[s][0], "results": res[s]} for s in scales}, "steps": steps}, handle,
                      indent=2)
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
