"""Hostile-input costs grow linearly: check-uwsgi on many mounts, glob matching on long paths.

    python3 benchmarks/bench_bounds.py            # table
    python3 benchmarks/bench_bounds.py --json     # machine-readable

For each input family the time at size N is measured (median of --repeat
runs, in-process, output to a temp file) and divided by the time at the
smallest size: a linear cost doubles when N doubles (ratio per doubling ~2),
a quadratic one quadruples.  Standard library only (plus venvprobe).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_uwsgi(sizes, repeat, workdir: Path):
    from venvprobe._cli import main

    rows = []
    for n in sizes:
        ini = workdir / f"mounts-{n}.ini"
        ini.write_text("[uwsgi]\n" + "".join(f"mount = /a{i}=/srv/a{i}/app.py\n" for i in range(n)))
        out = workdir / "out.json"

        def run():
            with contextlib.redirect_stderr(io.StringIO()):
                main(["check-uwsgi", str(ini), "--no-homes", "--no-predict", "--no-confirm", "--format", "json",
                      "--fail-on", "never", "-o", str(out)])
        rows.append(("check-uwsgi mounts", n, _median_time(run, repeat)))
    return rows


def bench_glob(sizes, repeat):
    from venvprobe.expectations import glob_to_regex

    pattern = glob_to_regex("/" + "*a" * 20 + "*b")  # exponential for a backtracking regex
    rows = []
    for n in sizes:
        path = "/" + "a" * n
        rows.append(("glob *a*a...*b vs /aaaa...", n, _median_time(lambda: pattern.match(path), repeat)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_uwsgi([5000, 10000, 20000, 40000], args.repeat, Path(tmp))
    rows += bench_glob([1000, 2000, 4000, 8000], args.repeat)
    out = []
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        base_n, base_t = mine[0][1], mine[0][2]
        for _, n, t in mine:
            out.append({"input": name, "n": n, "median_s": round(t, 4), "ratio_to_smallest": round(t / base_t, 2),
                        "size_ratio": n // base_n})
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{'input':32} {'N':>7} {'median s':>9} {'time ratio':>10} {'N ratio':>8}")
    for r in out:
        print(f"{r['input']:32} {r['n']:>7} {r['median_s']:>9.4f} {r['ratio_to_smallest']:>10.2f} {r['size_ratio']:>8}")


if __name__ == "__main__":
    main()
