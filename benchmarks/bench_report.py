#!/usr/bin/env python3
"""Benchmark ``venvprobe report --python X --format json`` against its peers.

For each size N (default 100 and 2,000 distributions) this builds a venv X
under a temporary directory, fills it with N metadata-only distributions and
times, interleaved and repeated, on the *same* X:

    X -c pass                                   bare interpreter start-up (THE baseline)
    X -m site                                   start-up + printing sys.path
    X -m pip inspect                            the peer: pip's own environment report
    venvprobe report --python X --format json   as a user runs it (PATH lookup, > /dev/null)
    <console script> report --python X ...      same, bypassing a PATH shim (pyenv)
    venvprobe --version                         CLI start-up alone (parser, imports)
    X -c <bootstrap>  (collector alone)         exactly what the CLI runs inside X
    X -c <bootstrap>  without bytecode cache    same, compiling the collector each time
    collect_foreign(X) in-process               spawn + json.loads + analyze, no CLI start-up

and prints medians, ratios to ``X -c pass`` and to pip inspect, the targets,
and the marginal cost per distribution between sizes.  Unless --no-profile,
it then shows where the time goes at the largest size: each collector section
timed inside X, a cProfile of the collector inside X, the CLI's stages
(import, parser, subprocess, json.loads, analyze, render) and the CLI's
``-X importtime`` (tabulate / flask / psutil must not be imported for JSON).

Standard library only.  Run:  python3 benchmarks/bench_report.py [--sizes 100,2000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

try:  # the editable install the CLI uses; fall back to this checkout
    import venvprobe.report as vp_report
    from venvprobe import ship
except ImportError:  # pragma: no cover - only when venvprobe is not installed
    sys.path.insert(0, REPO)
    import venvprobe.report as vp_report
    from venvprobe import ship

# Targets (issue 14).
TARGET_SMALL = (100, 2.5)  # whole report <= 2.5x `X -c pass` at 100 distributions
TARGET_LARGE = (2000, 4.0)  # <= 4x at 2,000
TARGET_VS_PIP = 0.1  # pip inspect stays >= 10x slower
TARGET_STARTUP = 1.5  # `venvprobe --version` / `--help` <= 1.5x bare start-up of the CLI's own interpreter
TARGET_MARGINAL_VS_METADATA = 2.0  # cost per distribution <= 2x listing them with importlib.metadata in X
TARGET_LINEARITY = 1.5  # marginal cost per distribution, last interval / first interval

# What a program that lists distributions costs in X: importlib.metadata, name
# and version (one METADATA parse per distribution).
IMPORTLIB_METADATA_LIST = (
    "import importlib.metadata as m\n"
    "for d in m.distributions():\n"
    "    md = d.metadata\n"
    "    md['Name'], md['Version']\n"
)



def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# building the test venvs


def _b64hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _site_packages(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def _count_dists(site: str) -> int:
    return sum(1 for n in os.listdir(site) if n.endswith((".dist-info", ".egg-info")))


def generate_dists(site: str, count: int, start: int = 0) -> None:
    """Write *count* metadata-only distributions (dist-info + one module each)."""
    for i in range(start, start + count):
        name = "vpbench-pkg-%05d" % i
        mod = "vpbench_pkg_%05d" % i
        version = "1.%d.%d" % (i % 7, i % 13)
        distinfo = "%s-%s.dist-info" % (mod, version)
        os.makedirs(os.path.join(site, mod))
        os.makedirs(os.path.join(site, distinfo))
        files = {
            mod + "/__init__.py": ('"""venvprobe benchmark package %d."""\nVALUE = %d\n' % (i, i)).encode(),
            distinfo + "/METADATA": (
                "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: venvprobe benchmark filler\n\n" % (name, version)
            ).encode(),
            distinfo + "/INSTALLER": b"pip\n",
        }
        record = []
        for rel, data in files.items():
            with open(os.path.join(site, rel), "wb") as handle:
                handle.write(data)
            record.append("%s,sha256=%s,%d" % (rel, _b64hash(data), len(data)))
        record.append(distinfo + "/RECORD,,")
        with open(os.path.join(site, distinfo, "RECORD"), "w") as handle:
            handle.write("\n".join(record) + "\n")


def build_venv(base_python: str, root: str, total: int) -> Tuple[str, int, float]:
    """A venv at *root* (with pip) holding *total* distributions. Reused if already built."""
    marker = os.path.join(root, ".vpbench-size")
    python = os.path.join(root, "bin", "python")
    if os.path.exists(marker) and os.path.exists(python):
        with open(marker) as handle:
            if handle.read().strip() == str(total):
                return python, _count_dists(_site_packages(python)), 0.0
        shutil.rmtree(root)
    t0 = time.perf_counter()
    subprocess.run([base_python, "-m", "venv", root], check=True)
    site = _site_packages(python)
    existing = _count_dists(site)
    t1 = time.perf_counter()
    generate_dists(site, max(0, total - existing))
    log("  generated %d distributions in %.2f s" % (max(0, total - existing), time.perf_counter() - t1))
    with open(marker, "w") as handle:
        handle.write(str(total))
    return python, _count_dists(site), time.perf_counter() - t0


# ---------------------------------------------------------------------------
# commands and timing


class Cmd:
    def __init__(self, key: str, label: str, argv: Optional[List[str]] = None, stdin: Optional[bytes] = None,
                 func=None, note: str = ""):
        self.key, self.label, self.argv, self.stdin, self.func, self.note = key, label, argv, stdin, func, note

    def run(self, env: Dict[str, str]) -> Tuple[float, float]:
        """(wall seconds, CPU seconds).  CPU = user+sys of this process (in-process
        commands) and of every waited-for descendant (the CLI *and* the X it runs),
        which is far less disturbed by other load on the machine than wall time."""
        c0 = _cpu()
        if self.func is not None:
            t0 = time.perf_counter()
            self.func()
            elapsed = time.perf_counter() - t0
            return elapsed, _cpu() - c0
        t0 = time.perf_counter()
        proc = subprocess.run(
            self.argv, input=self.stdin, env=env,
            stdin=None if self.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            raise RuntimeError("%s exited %d:\n  %s" % (" ".join(self.argv[:4]), proc.returncode, "\n  ".join(tail)))
        return elapsed, _cpu() - c0


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def resolve_venvprobe(explicit: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(the command a user's shell runs, the console script itself when that is a shim).

    Under pyenv this process runs with the version's bin/ prepended to PATH by
    `pyenv exec`, but an interactive shell finds the shim in $PYENV_ROOT/shims
    first, so a shim on PATH wins.
    """
    if explicit:
        return explicit, None
    import sysconfig

    script = os.path.join(sysconfig.get_path("scripts"), "venvprobe")
    script = script if os.path.exists(script) else None
    on_path = None
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "venvprobe")
        if directory.rstrip("/").endswith("/shims") and os.access(candidate, os.X_OK):
            on_path = candidate
            break
    on_path = on_path or shutil.which("venvprobe") or script
    direct = script if script and on_path and os.path.realpath(script) != os.path.realpath(on_path) else None
    return on_path, direct


def cli_python(script: Optional[str]) -> str:
    """The interpreter a console script runs under (its #! line), else ours."""
    if script:
        try:
            with open(script, "rb") as handle:
                first = handle.readline().decode("utf-8", "replace").strip()
            if first.startswith("#!") and "python" in first and "bash" not in first and " " not in first[2:].strip():
                exe = first[2:].strip()
                if os.path.exists(exe):
                    return exe
        except OSError:
            pass
    return sys.executable


def build_cli_venv(base_python: str, root: str) -> str:
    """A venv with venvprobe installed from this checkout as users get it: a wheel, not editable.

    An editable install adds a .pth finder that imports pathlib and re at every
    start-up of that venv; the CLI would be timed with a cost no user pays.
    Reinstalled on every run, so the code timed is the checkout's.  --no-deps:
    the timed commands import none of them (a test checks that).
    """
    python = os.path.join(root, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([base_python, "-m", "venv", root], check=True)
    t0 = time.perf_counter()
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                    "--disable-pip-version-check", REPO], check=True, stdout=subprocess.DEVNULL)
    log("CLI venv %s: venvprobe installed from %s (wheel) in %.1f s" % (root, REPO, time.perf_counter() - t0))
    return os.path.join(root, "bin", "venvprobe")


BEFORE: List[str] = []  # --before CMD: an older venvprobe timed in the same rounds
BEFORE_CHECKOUT: List[str] = []  # --before-checkout DIR: an older checkout's collector timed in the same rounds

# Prints (bootstrap, payload) of the checkout at sys.argv[1], as its CLI sends
# them for the collector alone: venvprobe.ship since issue 13, before that
# venvprobe.report's _BOOTSTRAP with _collect.py's source.
_BEFORE_PAYLOAD = r"""
import base64, json, sys
sys.path.insert(0, sys.argv[1])
try:
    from venvprobe import ship
    boot, data = ship.BOOTSTRAP, ship.payload(analyse=False)
except ImportError:
    from venvprobe import report as r
    src = r.collector_source()
    boot, data = r._BOOTSTRAP, b"\n" + r._cache_stem(src).encode() + b"\n" + src
print(json.dumps([boot, base64.b64encode(data).decode()]))
"""


def before_collector(root: str) -> Tuple[str, bytes]:
    """(bootstrap, warm payload) of the collector of the checkout at *root*."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", _BEFORE_PAYLOAD, root], check=True, capture_output=True)
    boot, data = json.loads(out.stdout)
    return boot, base64.b64decode(data)


def commands_for(python: str, vp_cmd: Optional[str], vp_direct: Optional[str]) -> List[Cmd]:
    # What collect_foreign sends X: the collector package (no analysis), from X's bytecode cache or compiled.
    payload_cached = ship.payload(analyse=False)
    payload_nocache = ship.payload(analyse=False, cache=False)
    cmds = [
        Cmd("baseline", "X -c pass  (baseline)", [python, "-c", "pass"]),
        Cmd("site", "X -m site", [python, "-m", "site"]),
        Cmd("pip_inspect", "X -m pip inspect", [python, "-m", "pip", "inspect", "--disable-pip-version-check"]),
        Cmd("importlib_metadata", "X lists dists: importlib.metadata name+version", [python, "-c", IMPORTLIB_METADATA_LIST]),
    ]
    if vp_cmd:
        shim = " (PATH: pyenv shim)" if "/shims/" in vp_cmd else ""
        cmds.append(Cmd("cli", "venvprobe report --python X -f json" + (" (shim)" if shim else ""),
                        [vp_cmd, "report", "--python", python, "--format", "json"]))
    if vp_cmd:
        cmds.append(Cmd("cli_text", "  venvprobe report --python X (text, the default)", [vp_cmd, "report", "--python", python]))
    if vp_direct:
        cmds.append(Cmd("cli_direct", "  same, console script direct (no shim)",
                        [vp_direct, "report", "--python", python, "--format", "json"]))
    cli_exe = vp_direct or vp_cmd
    if cli_exe:
        cmds.append(Cmd("cli_version", "  venvprobe --version (CLI start-up only)", [cli_exe, "--version"]))
        cmds.append(Cmd("cli_help", "  venvprobe --help", [cli_exe, "--help"]))
        cli_py = cli_python(cli_exe)
        cmds.append(Cmd("cli_python_bare", "  CLI's interpreter bare: %s -c pass" % os.path.basename(cli_py), [cli_py, "-c", "pass"]))
        # pip's console-script wrapper imports re before venvprobe runs: how much of --version that is.
        cmds.append(Cmd("cli_python_re", "  CLI's interpreter -c 'import re' (pip's wrapper)", [cli_py, "-c", "import re"]))
        cmds.append(Cmd("cli_m_version", "  python -m venvprobe --version (no wrapper)", [cli_py, "-m", "venvprobe", "--version"]))
        # The same CLI code without site-packages and its .pth hooks (editable-install finder and the
        # like): what the CLI itself costs.  Works because report -f json needs no third-party module.
        pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(vp_report.__file__)))
        boot = "import sys; sys.path.insert(0, %r); from venvprobe._cli import main; sys.exit(main())" % pkg_root
        cmds.append(Cmd("cli_nosite", "  same CLI code under python -S (no .pth hooks)",
                        [cli_py, "-S", "-c", boot, "report", "--python", python, "--format", "json"]))
    for before in BEFORE[:1]:
        cmds.append(Cmd("before_cli", "before: venvprobe report --python X -f json", [before, "report", "--python", python, "--format", "json"]))
        cmds.append(Cmd("before_text", "  before: venvprobe report --python X (text)", [before, "report", "--python", python]))
        cmds.append(Cmd("before_version", "  before: venvprobe --version", [before, "--version"]))
        cmds.append(Cmd("before_help", "  before: venvprobe --help", [before, "--help"]))
    for root in BEFORE_CHECKOUT[:1]:
        boot, data = before_collector(root)
        cmds.append(Cmd("before_collector", "before: collector alone (%s)" % os.path.basename(root.rstrip("/")),
                        [python, "-c", boot], stdin=data))
    cmds += [
        Cmd("collector", "collector alone: X -c <bootstrap>", [python, "-c", ship.BOOTSTRAP], stdin=payload_cached),
        Cmd("collector_nocache", "  same, no bytecode cache (compiles)", [python, "-c", ship.BOOTSTRAP], stdin=payload_nocache),
        Cmd("collect_foreign", "collect_foreign(X) in-process", func=lambda: vp_report.collect_foreign(python)),
    ]
    return cmds


def summarize(samples: Sequence[Tuple[float, float]]) -> Dict[str, float]:
    ms = sorted(w * 1000.0 for w, _ in samples)
    cpu = sorted(c * 1000.0 for _, c in samples)
    q = statistics.quantiles(ms, n=4) if len(ms) >= 2 else [ms[0], ms[0], ms[0]]
    return {"median_ms": statistics.median(ms), "p25_ms": q[0], "p75_ms": q[2], "min_ms": ms[0],
            "cpu_median_ms": statistics.median(cpu), "n": len(ms)}


def run_benchmark(venvs: Dict[int, str], vp_cmd, vp_direct, repeat: int, warmup: int, env, seed: int):
    """Interleave every (size, command) pair in a fresh random order each round."""
    plan = [(size, cmd) for size, python in venvs.items() for cmd in commands_for(python, vp_cmd, vp_direct)]
    samples: Dict[Tuple[int, str], List[Tuple[float, float]]] = {(s, c.key): [] for s, c in plan}
    rng = random.Random(seed)
    for rnd in range(warmup + repeat):
        order = plan[:]
        rng.shuffle(order)
        t0 = time.perf_counter()
        for size, cmd in order:
            sample = cmd.run(env)
            if rnd >= warmup:
                samples[(size, cmd.key)].append(sample)
        log("  round %d/%d%s: %.1f s, load %.2f" % (rnd + 1, warmup + repeat, " (warm-up)" if rnd < warmup else "",
                                                  time.perf_counter() - t0, os.getloadavg()[0]))
    labels = {}
    for _, cmd in plan:
        labels.setdefault(cmd.key, cmd.label)
    results = {size: {} for size in venvs}
    for (size, key), vals in samples.items():
        results[size][key] = dict(summarize(vals), samples_ms=[round(w * 1000, 3) for w, _ in vals],
                                  cpu_samples_ms=[round(c * 1000, 3) for _, c in vals])
    return results, labels


# ---------------------------------------------------------------------------
# profiling: where the time goes


# Each timed item is [wall s, cpu s]; cpu = this process + waited-for children,
# which other load on the machine disturbs far less than wall time.
_CLOCK = r"""
import time, resource
def C():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + r.ru_utime + r.ru_stime
def since(c0):
    c1 = C()
    return [c1[0] - c0[0], c1[1] - c0[1]]
"""

_SECTION_SCRIPT = _CLOCK + r"""
import sys, os, marshal
t_all = C()
out = {}
# sys.argv[1]: venvprobe.ship.standalone_collector(), whose _SOURCES and
# private loader are used here the way X uses them.
with open(sys.argv[1], 'rb') as f:
    bundle = f.read()
g = {'__name__': '__venvprobe_bundle__'}
exec(compile(bundle.split(b"\n_FILE = ")[0], '<bundle>', 'exec'), g)  # _SOURCES and _LOADER, no module run
t = C()
table = dict((n, (compile(src, '<venvprobe> <%s>' % n, 'exec'), pkg)) for n, (src, pkg) in g['_SOURCES'].items())
out['compile collector sources'] = since(t)
blob = marshal.dumps(table)
t = C(); table = marshal.loads(blob); out['marshal.loads cached code'] = since(t)
lg = {}
exec(g['_LOADER'], lg)
get = lg['private_modules'](table, '<venvprobe>')
t = C(); col = get('venvprobe.collect.collector'); out['exec collector modules'] = since(t)
Context = get('venvprobe.collect.context').Context
ctx = Context({'foreign': True, 'use_psutil': False})
report = {}
t = C(); get('venvprobe.collect.common')._iso_now(); out['header (_iso_now)'] = since(t)
for name, func in col.SECTIONS:
    t = C()
    try:
        report[name] = func(ctx)
    except Exception as exc:
        report[name] = {'error': repr(exc)}
    out['section ' + name] = since(t)
t = C(); data = col.dumps(report).encode('utf-8', 'surrogatepass'); out['dumps + encode'] = since(t)
out['_bytes'] = len(data)
with open(os.devnull, 'wb') as f:
    t = C(); f.write(data); out['write stdout'] = since(t)
out['total in-process'] = since(t_all)
# finer, on a cold collector; each step guarded: collector internals change
site = max((p for p in sys.path if p and os.path.isdir(p)), key=lambda p: len(os.listdir(p)))
c2 = Context({'foreign': True, 'use_psutil': False})
listing_mod, metadata, dists_mod = get('venvprobe.collect.listing'), get('venvprobe.collect.metadata'), get('venvprobe.collect.distributions')
def step(label, func):
    t = C()
    try:
        func()
        out[label] = since(t)
    except Exception as exc:
        out['_failed ' + label] = repr(exc)
listing = listing_mod._list_entry(site)
out['_site_entries'] = len(listing.names)
metas = [os.path.join(site, n) for n in listing.names if n.endswith('.dist-info') and n in listing.dirs]
out['_dist_infos'] = len(metas)
step('detail: _list_entry(site-packages)', lambda: listing_mod._list_entry(site))
step('detail: read METADATA name/version, all dists', lambda: [metadata._read_name_version(m + '/METADATA') for m in metas])
step('detail: read INSTALLER, all dists', lambda: [metadata._first_line(m + '/INSTALLER') for m in metas])
step('detail: _record (read + parse RECORD), all dists', lambda: [dists_mod._record(c2, m) for m in metas])
c3 = Context({'foreign': True, 'use_psutil': False})
step('detail: _dist_info_cached (METADATA+INSTALLER+RECORD) once per dist', lambda: [dists_mod._dist_info_cached(c3, m) for m in metas])
canonical = get('venvprobe.collect.common')._canonical
step('detail: _canonical(name), all dists', lambda: [canonical(d.get('name') or '') for d in report.get('distributions') or []])
# what-ifs, measured on this very report
def c_encoder():  # the C encoder json uses, without importing json (and re, enum...)
    import _json
    enc = _json.make_encoder(None, str, _json.encode_basestring_ascii, None, ':', ',', False, False, True)
    return ''.join(enc(report, 0)).encode('ascii')
step('what-if: import _json + its C encoder (no re import)', c_encoder)
t = C(); import json; out['what-if: import json (+re, enum...) in X'] = since(t)
step('what-if: json.dumps(report) (C encoder) + encode', lambda: json.dumps(report).encode('utf-8', 'surrogatepass'))
slim = dict(report)
slim['distributions'] = [{k: v for k, v in d.items() if k not in ('location', 'metadata_path')}
                         for d in report.get('distributions') or []]
out['_bytes without per-dist location/metadata_path'] = len(col.dumps(slim))
step('what-if: dumps of that slimmer report', lambda: col.dumps(slim).encode('utf-8', 'surrogatepass'))
print(repr(out))
"""

_CPROFILE_SCRIPT = r"""
import sys, os, cProfile, pstats
with open(sys.argv[1], 'rb') as f:
    src = f.read()
g = {'__name__': '__venvprobe_bundle__'}
code = compile(src, '<venvprobe collector>', 'exec')
exec(code, g)  # venvprobe.ship.standalone_collector(): its modules compile as first used
devnull = open(os.devnull, 'w')
real = sys.stdout
sys.stdout = devnull
prof = cProfile.Profile()
prof.enable()
g['_main_foreign'](None)
prof.disable()
sys.stdout = real
st = pstats.Stats(prof)
rows = []
for (fn, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
    rows.append((fn.rpartition('<')[2].rstrip('>') if fn.startswith('<venvprobe') else os.path.basename(fn), line, func, nc, tt, ct))
print(repr({'total': st.total_tt, 'rows': rows}))
"""

# Runs under the CLI's interpreter: the real `venvprobe._cli.main`, with its
# stages wrapped by timers (nothing in venvprobe is changed on disk).
_CLI_STAGES_SCRIPT = _CLOCK + r"""
import sys, os
t_all = C()
out = {}
seen = []
def add(label, d):
    old = out.get(label, [0.0, 0.0])
    out[label] = [old[0] + d[0], old[1] + d[1]]
def wrap(mod, name, label):
    orig = getattr(mod, name)
    def timed(*a, **k):
        t = C()
        try:
            return orig(*a, **k)
        finally:
            add(label, since(t))
    setattr(mod, name, timed)
t = C(); import venvprobe._cli as cli; out['import venvprobe._cli'] = since(t)
try:  # the fast path (report --python X -f json without argparse/json/subprocess)
    t = C(); import venvprobe._quick as q; out['import venvprobe._quick'] = since(t)
    wrap(q, 'find_interpreter', 'fast: find_interpreter')
    import venvprobe.ship as sh
    wrap(sh, 'payload', 'fast: ship.payload (stat sources, cache dir)')
    wrap(q, 'run_target', 'fast: run X (collector + analysis + JSON inside X)')
except ImportError:
    pass
orig_build = cli.build_parser
def build_parser(*a, **k):
    t = C(); p = orig_build(*a, **k); out['build_parser (imports the command modules it needs)'] = since(t)
    import venvprobe.commands.report as cr
    t = C(); import venvprobe.report as rep; out['import venvprobe.report (+subprocess, pathlib)'] = since(t)
    import json, subprocess
    wrap(rep.ship, 'payload', 'ship.payload (stat sources, cache dir)')
    wrap(rep, 'run_shipped', 'run X -c <bootstrap> (the collector in X)')
    wrap(json, 'loads', 'json.loads of the report')
    wrap(rep, 'analyze', 'analyze (findings)')
    wrap(cr, 'render', 'render json (json.dumps indent=2)')
    real_render = cr.render
    def keep(report, *a, **k):
        seen.append(report)
        return real_render(report, *a, **k)
    cr.render = keep
    wrap(cr, 'write_output', 'write output')
    return p
cli.build_parser = build_parser
sys.stdout = open(os.devnull, 'w')
t = C(); rc = cli.main(sys.argv[1:]); out['main() total'] = since(t)
inner = [v for k, v in out.items() if not k.startswith(('import venvprobe._cli', 'main()'))]
out['other inside main (argparse, glue)'] = [out['main() total'][i] - sum(v[i] for v in inner) for i in (0, 1)]
out['total in-process'] = since(t_all)
sys.stdout = sys.__stdout__
if seen:
    import json
    t = C(); json.dumps(seen[0], ensure_ascii=True, default=str); out['what-if: json.dumps without indent (C encoder)'] = since(t)
    t = C(); json.dumps(seen[0], indent=2, ensure_ascii=True, default=str); out['what-if: json.dumps indent=2 again'] = since(t)
print(repr(out))
"""


def _run_py(python: str, code: str, args: Sequence[str], env, stdin=None, extra=()) -> subprocess.CompletedProcess:
    proc = subprocess.run([python, *extra, "-c", code, *args], input=stdin, capture_output=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError("profile script failed under %s:\n%s" % (python, proc.stderr.decode("utf-8", "replace")[-2000:]))
    return proc


def _median_dicts(dicts: List[dict]) -> dict:
    """Per key: the median (scalars) or the per-component medians ([wall, cpu] pairs), in ms for pairs."""
    keys = []
    for d in dicts:
        for k in d:
            if k not in keys:
                keys.append(k)
    out = {}
    for k in keys:
        vals = [d[k] for d in dicts if k in d]
        if isinstance(vals[0], (list, tuple)):
            out[k] = [statistics.median(v[i] for v in vals) * 1000.0 for i in range(len(vals[0]))]
        elif isinstance(vals[0], (int, float)):
            out[k] = statistics.median(vals)
        else:
            out[k] = vals[0]
    return out


def parse_importtime(stderr: str) -> List[dict]:
    """-X importtime lines, in print order, with depth and parent (the importer)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3:
            continue
        raw = parts[2].rstrip()
        stripped = raw.lstrip()
        depth = (len(raw) - len(stripped) - 1) // 2
        try:
            rows.append({"name": stripped, "self_us": int(parts[0]), "cum_us": int(parts[1]), "depth": depth})
        except ValueError:
            continue
    # children are printed before their parent: the parent is the next row with a smaller depth
    for i, row in enumerate(rows):
        row["parent"] = None
        for later in rows[i + 1:]:
            if later["depth"] < row["depth"]:
                row["parent"] = later["name"]
                break
    return rows


def importtime_profile(cli_py: str, python: str, runs: int, env) -> dict:
    per_run = []
    for _ in range(runs):
        proc = subprocess.run(
            [cli_py, "-X", "importtime", "-m", "venvprobe._cli", "report", "--python", python, "--format", "json"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir(),
        )
        if proc.returncode != 0:
            raise RuntimeError("importtime run failed: " + proc.stderr.decode()[-1000:])
        per_run.append(parse_importtime(proc.stderr.decode("utf-8", "replace")))
    # bare start-up of the same interpreter, to separate site/.pth imports from venvprobe's
    bare = subprocess.run([cli_py, "-X", "importtime", "-c", "pass"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir())
    bare_names = {r["name"] for r in parse_importtime(bare.stderr.decode("utf-8", "replace"))}
    last = per_run[-1]
    med = {}
    for row in last:
        vals = [next((r for r in run if r["name"] == row["name"]), None) for run in per_run]
        vals = [v for v in vals if v]
        med[row["name"]] = dict(row, self_us=statistics.median(v["self_us"] for v in vals),
                                cum_us=statistics.median(v["cum_us"] for v in vals))
    rows = [med[r["name"]] for r in last]
    extra = [r for r in rows if r["name"] not in bare_names]
    top = [r for r in extra if r["parent"] is None or r["parent"] in bare_names]
    top.sort(key=lambda r: -r["cum_us"])

    def chain(name):
        out, cur = [], med.get(name)
        while cur is not None and len(out) < 8:
            out.append(cur["name"])
            cur = med.get(cur["parent"]) if cur["parent"] else None
        return out

    groups = {}
    for r in extra:
        root = r["name"].split(".")[0]
        groups[root] = groups.get(root, 0) + r["self_us"]
    watch = {}
    for name in ("tabulate", "wcwidth", "flask", "werkzeug", "jinja2", "psutil", "importlib.metadata", "email.message",
                 "packaging", "tomllib", "ssl", "http.client", "urllib.request", "socket", "logging", "dataclasses",
                 "inspect", "typing", "json", "subprocess", "pathlib", "hashlib", "html", "argparse"):
        r = med.get(name)
        watch[name] = None if r is None else {"cum_ms": r["cum_us"] / 1000, "imported_via": chain(name)[1:4],
                                              "at_bare_startup": name in bare_names}
    site_row = med.get("site")
    return {
        "modules_total": len(rows),
        "modules_beyond_bare_startup": len(extra),
        "self_ms_beyond_bare_startup": sum(r["self_us"] for r in extra) / 1000,
        "site_cum_ms": site_row["cum_us"] / 1000 if site_row else None,
        "site_children": sorted(({"name": r["name"], "cum_ms": r["cum_us"] / 1000} for r in rows if r["parent"] == "site"),
                                key=lambda r: -r["cum_ms"])[:6],
        "top_level_imports": [{"name": r["name"], "cum_ms": r["cum_us"] / 1000} for r in top[:14]],
        "self_ms_by_package": dict(sorted(((k, v / 1000) for k, v in groups.items()), key=lambda kv: -kv[1])[:14]),
        "watch": watch,
        "forbidden_for_json": {n: watch[n] is not None for n in ("tabulate", "flask", "psutil")},
        "importtime_runs": runs,
    }


def collector_importtime(python: str, env) -> dict:
    """Modules the collector imports inside X beyond bare start-up."""
    proc = subprocess.run([python, "-X", "importtime", "-c", ship.BOOTSTRAP], input=ship.payload(analyse=False),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    bare = subprocess.run([python, "-X", "importtime", "-c", "pass"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    bare_names = {r["name"] for r in parse_importtime(bare.stderr.decode())}
    rows = [r for r in parse_importtime(proc.stderr.decode()) if r["name"] not in bare_names]
    top = [r for r in rows if r["parent"] is None or r["parent"] in bare_names]
    return {"modules": len(rows), "self_ms": sum(r["self_us"] for r in rows) / 1000,
            "top": [{"name": r["name"], "cum_ms": r["cum_us"] / 1000} for r in sorted(top, key=lambda r: -r["cum_us"])]}


def _guard(func, *args):
    """Run one profiling step; a failure (venvprobe internals change under us) is reported, not fatal."""
    try:
        return func(*args)
    except Exception as exc:
        log("profiling step %s failed: %s" % (func.__name__, exc))
        return {"error": "%s: %s" % (type(exc).__name__, exc)}


def profile(python: str, size: int, cli_exe: Optional[str], workdir: str, runs: int, env) -> dict:
    log("profiling the %d-distribution venv (%d fresh processes per measurement)..." % (size, runs))
    src_path = os.path.join(workdir, "collector_source.py")
    with open(src_path, "wb") as handle:
        handle.write(ship.standalone_collector().encode("utf-8"))
    sections = [eval(_run_py(python, _SECTION_SCRIPT, [src_path], env).stdout.decode())
                for _ in range(runs)]
    prof = eval(_run_py(python, _CPROFILE_SCRIPT, [src_path], env).stdout.decode())
    rows = prof["rows"]
    top_tt = sorted(rows, key=lambda r: -r[4])[:15]
    out = {
        "size": size,
        "collector_sections_ms": _median_dicts([{k: v for k, v in d.items() if not k.startswith("_failed")} for d in sections]),
        "collector_detail_failures": sorted({k[8:] + ": " + v for d in sections for k, v in d.items() if k.startswith("_failed")}),
        "collector_cprofile": {
            "total_s_under_profiler": prof["total"],
            "top_tottime": [{"where": "%s:%d %s" % (r[0], r[1], r[2]), "calls": r[3], "tottime_ms": r[4] * 1000,
                             "cumtime_ms": r[5] * 1000} for r in top_tt],
        },
        "collector_imports_in_X": _guard(collector_importtime, python, env),
    }
    cli_py = cli_python(cli_exe)
    out["cli_python"] = cli_py
    stages = []
    for _ in range(runs):
        proc = _run_py(cli_py, _CLI_STAGES_SCRIPT, ["report", "--python", python, "--format", "json"], env)
        stages.append(eval(proc.stdout.decode().strip().splitlines()[-1]))
    med = _median_dicts(stages)
    # whole processes, interleaved: the interpreter alone and two import sets
    procs = [
        ("process: python -c pass (the CLI's interpreter)", [cli_py, "-c", "pass"]),
        ("process: python -S -c pass (no site, no .pth hooks)", [cli_py, "-S", "-c", "pass"]),
        ("process: imports of `report` now (_cli, build_parser, report)",
         [cli_py, "-c", "import venvprobe._cli as c, venvprobe.report\n"
                        "try:\n c.build_parser(['report'])\nexcept TypeError:\n c.build_parser()"]),
        ("process: what-if only argparse, json, subprocess, commands, report",
         [cli_py, "-c", "import argparse, json, subprocess, venvprobe.commands, venvprobe.report"]),
    ]
    samples = {label: [] for label, _ in procs}
    for _ in range(runs):
        for label, argv in procs:
            samples[label].append(Cmd("p", label, argv).run(env))
    for label, vals in samples.items():
        med[label] = [statistics.median(v[0] for v in vals) * 1000.0, statistics.median(v[1] for v in vals) * 1000.0]
    out["cli_stages_ms"] = med
    out["cli_importtime"] = _guard(importtime_profile, cli_py, python, max(3, runs // 2), env)
    return out


# ---------------------------------------------------------------------------
# output


def target_ratio(n: int) -> float:
    (n1, r1), (n2, r2) = TARGET_SMALL, TARGET_LARGE
    if n <= n1:
        return r1
    if n >= n2:
        return r2
    return r1 + (r2 - r1) * (n - n1) / float(n2 - n1)


def analyse(results, counts: Dict[int, int]) -> dict:
    sizes = sorted(results)
    ratios, checks = {}, []
    for size in sizes:
        r = results[size]
        base, pip = r["baseline"], r.get("pip_inspect")
        ratios[size] = {}
        for key in r:
            if key == "baseline":
                continue
            ratios[size][key] = {
                "vs_baseline": r[key]["median_ms"] / base["median_ms"],
                "vs_pip_inspect": r[key]["median_ms"] / pip["median_ms"] if pip else None,
                "cpu_vs_baseline": r[key]["cpu_median_ms"] / base["cpu_median_ms"] if base["cpu_median_ms"] else None,
                "cpu_vs_pip_inspect": r[key]["cpu_median_ms"] / pip["cpu_median_ms"] if pip and pip["cpu_median_ms"] else None,
            }
        for key in ("cli", "cli_direct"):
            if key not in r:
                continue
            want = target_ratio(counts[size])
            for metric, limit in (("vs_baseline", want), ("vs_pip_inspect", TARGET_VS_PIP)):
                value = ratios[size][key][metric]
                if value is not None:
                    checks.append({"size": size, "what": key, "metric": metric, "value": value,
                                   "cpu_value": ratios[size][key]["cpu_" + metric],
                                   "target": "<= %.1fx" % limit, "ok": value <= limit})
    for size in sizes:  # the CLI's own start-up, against its own interpreter's
        r = results[size]
        base = r.get("cli_python_bare")
        for key in ("cli_version", "cli_help"):
            if base and key in r:
                checks.append({"size": size, "what": key, "metric": "vs_cli_python", "value": r[key]["median_ms"] / base["median_ms"],
                               "cpu_value": r[key]["cpu_median_ms"] / base["cpu_median_ms"] if base["cpu_median_ms"] else None,
                               "target": "<= %.1fx" % TARGET_STARTUP, "ok": r[key]["median_ms"] / base["median_ms"] <= TARGET_STARTUP})
    marginal = []
    for a, b in zip(sizes, sizes[1:]):
        dn = counts[b] - counts[a]
        if dn <= 0:
            continue
        row = {"from": counts[a], "to": counts[b], "us_per_dist": {}, "cpu_us_per_dist": {}}
        for key in results[a]:
            if key in results[b]:
                row["us_per_dist"][key] = (results[b][key]["median_ms"] - results[a][key]["median_ms"]) * 1000.0 / dn
                row["cpu_us_per_dist"][key] = (results[b][key]["cpu_median_ms"] - results[a][key]["cpu_median_ms"]) * 1000.0 / dn
        marginal.append(row)
    if marginal:
        # Over the whole range: the per-distribution cost of the report against
        # listing the same distributions with importlib.metadata in X.
        lo, hi = sizes[0], sizes[-1]
        dn = counts[hi] - counts[lo]
        for key in ("cli", "cli_direct"):
            if key in results[lo] and "importlib_metadata" in results[lo] and dn > 0:
                ours = (results[hi][key]["median_ms"] - results[lo][key]["median_ms"]) / dn
                theirs = (results[hi]["importlib_metadata"]["median_ms"] - results[lo]["importlib_metadata"]["median_ms"]) / dn
                cpu = ((results[hi][key]["cpu_median_ms"] - results[lo][key]["cpu_median_ms"])
                       / max(1e-9, results[hi]["importlib_metadata"]["cpu_median_ms"] - results[lo]["importlib_metadata"]["cpu_median_ms"]))
                checks.append({"size": hi, "what": key, "metric": "marginal_vs_metadata", "value": ours / theirs if theirs > 0 else float("inf"),
                               "cpu_value": cpu, "target": "<= %.1fx" % TARGET_MARGINAL_VS_METADATA,
                               "ok": theirs > 0 and ours / theirs <= TARGET_MARGINAL_VS_METADATA})
    if len(marginal) >= 2:
        for key in ("cli", "cli_direct"):
            first, last = marginal[0]["us_per_dist"].get(key), marginal[-1]["us_per_dist"].get(key)
            cfirst, clast = marginal[0]["cpu_us_per_dist"].get(key), marginal[-1]["cpu_us_per_dist"].get(key)
            # Judged on CPU time: a difference of two wall medians per interval
            # is mostly the shared machine's noise; the work itself is CPU.
            if first and last and first > 0 and cfirst and clast:
                checks.append({"size": sizes[-1], "what": key, "metric": "linearity", "value": last / first,
                               "cpu_value": clast / cfirst, "target": "<= %.1f (cpu)" % TARGET_LINEARITY,
                               "ok": clast / cfirst <= TARGET_LINEARITY})
    return {"ratios": ratios, "checks": checks, "marginal": marginal}


_METRIC_LABEL = {"vs_baseline": "vs X -c pass", "vs_pip_inspect": "vs pip inspect", "vs_cli_python": "vs its python -c pass",
                 "marginal_vs_metadata": "us/dist vs importlib.metadata", "linearity": "us/dist last/first interval"}


def print_table(meta, results, labels, counts, analysis, prof) -> None:
    sizes = sorted(results)
    p = print
    p("")
    p("venvprobe report benchmark: %d interleaved rounds; wall ms median (p25-p75), and median CPU ms (user+sys, incl. children)"
      % meta["repeat"])
    p("  X = venv from %s (Python %s); CLI on PATH: %s" % (meta["base_python"], meta["base_version"], meta["venvprobe_cmd"]))
    if meta.get("venvprobe_direct"):
        p("  console script: %s" % meta["venvprobe_direct"])
    p("  venvprobe %s @ %s%s, collector sha256 %s; host %s, %d CPUs, load %s -> %s" % (
        meta["venvprobe_version"], meta["git_head"], " (+uncommitted venvprobe/ changes)" if meta["git_dirty"] else "",
        meta["collector_sha256"], meta["host"], meta["cpus"], meta["loadavg_start"], meta["loadavg_end"]))
    p("  bytecode: %s" % ("warm .pyc via PYTHONPYCACHEPREFIX=%s" % meta["PYTHONPYCACHEPREFIX"] if meta["bytecode"] == "prefix"
                         else "caller's environment (PYTHONDONTWRITEBYTECODE=%s)" % meta["PYTHONDONTWRITEBYTECODE"]))
    p("")
    head = "%-47s" % "command"
    for s in sizes:
        head += " | %-29s" % ("%d dists: wall (IQR)   cpu" % counts[s])
    if analysis["marginal"]:
        head += " | %-13s" % "us/dist  cpu"
    p(head)
    p("-" * len(head))
    for key, label in labels.items():
        line = "%-47s" % label[:47]
        for s in sizes:
            r = results[s].get(key)
            line += " | %29s" % ("%7.1f (%6.1f-%6.1f) %6.1f" % (r["median_ms"], r["p25_ms"], r["p75_ms"], r["cpu_median_ms"]) if r else "-")
        if analysis["marginal"]:
            m = analysis["marginal"][-1]
            w, c = m["us_per_dist"].get(key), m["cpu_us_per_dist"].get(key)
            line += " | %13s" % ("%6.0f %6.0f" % (w, c) if w is not None else "-")
        p(line)
    p("")
    p("%-47s" % "Ratios of medians: wall (cpu)" + "".join(" | %15s" % ("%d dists" % counts[s]) for s in sizes) + " | target")
    rows = [
        ("cli", "vs_baseline", "venvprobe report / X -c pass",
         "<= %.1fx @%d, <= %.1fx @%d" % (TARGET_SMALL[1], TARGET_SMALL[0], TARGET_LARGE[1], TARGET_LARGE[0])),
        ("cli_direct", "vs_baseline", "  console script direct / X -c pass", "same"),
        ("cli_version", "vs_baseline", "  venvprobe --version / X -c pass", "-"),
        ("importlib_metadata", "vs_baseline", "importlib.metadata listing / X -c pass", "-"),
        ("cli_nosite", "vs_baseline", "  CLI under python -S / X -c pass", "-"),
        ("collect_foreign", "vs_baseline", "collect_foreign() in-process / X -c pass", "-"),
        ("collector", "vs_baseline", "collector alone / X -c pass", "-"),
        ("site", "vs_baseline", "X -m site / X -c pass", "-"),
        ("pip_inspect", "vs_baseline", "pip inspect / X -c pass", "-"),
        ("cli_text", "vs_baseline", "  venvprobe report (text) / X -c pass", "-"),
        ("before_cli", "vs_baseline", "before: venvprobe report / X -c pass", "-"),
        ("before_collector", "vs_baseline", "before: collector alone / X -c pass", "-"),
        ("before_text", "vs_baseline", "before: venvprobe report (text) / X -c pass", "-"),
        ("before_version", "vs_baseline", "before: venvprobe --version / X -c pass", "-"),
        ("cli", "vs_pip_inspect", "venvprobe report / pip inspect", "<= %.1fx (pip >= 10x slower)" % TARGET_VS_PIP),
        ("cli_direct", "vs_pip_inspect", "  console script direct / pip inspect", "same"),
        ("collector", "vs_pip_inspect", "collector alone / pip inspect", "-"),
    ]
    for key, metric, label, target in rows:
        if not any(key in analysis["ratios"][s] for s in sizes):
            continue
        line = "%-47s" % label
        for s in sizes:
            r = analysis["ratios"][s].get(key, {})
            v, c = r.get(metric), r.get("cpu_" + metric)
            line += " | %15s" % ("%6.2fx (%5.2fx)" % (v, c) if v is not None and c is not None else "-")
        p(line + " | " + target)
    p("")
    p("Targets (judged on wall-clock medians; cpu ratio in brackets):")
    for c in analysis["checks"]:
        p("  %-4s %5d dists  %-11s %-31s %6.2fx (%5.2fx)  target %s" % (
            "OK" if c["ok"] else "MISS", counts[c["size"]], c["what"], _METRIC_LABEL.get(c["metric"], c["metric"]), c["value"],
            c["cpu_value"] or float("nan"), c["target"]))
    for m in analysis["marginal"]:
        u, cu = m["us_per_dist"], m["cpu_us_per_dist"]
        p("  marginal cost %d -> %d dists, us per distribution, wall (cpu):" % (m["from"], m["to"]))
        p("      venvprobe %.0f (%.0f), console script %.0f (%.0f), collector alone %.0f (%.0f), importlib.metadata %.0f (%.0f), pip inspect %.0f (%.0f), X -c pass %.0f (%.0f)" % tuple(
            x for k in ("cli", "cli_direct", "collector", "importlib_metadata", "pip_inspect", "baseline") for x in (u.get(k, float("nan")), cu.get(k, float("nan")))))
    if len(analysis["marginal"]) >= 2:
        a, b = analysis["marginal"][0]["cpu_us_per_dist"].get("cli"), analysis["marginal"][-1]["cpu_us_per_dist"].get("cli")
        if a and b:
            p("  linearity: venvprobe cpu marginal cost, last / first interval = %.2f (1.0 = linear, >1 = superlinear)" % (b / a))
    else:
        p("  linearity: only two sizes measured; run --sizes 100,1000,2000 to compare marginal cost per interval")
    if prof:
        print_profile(prof)


def print_profile(prof) -> None:
    p = print
    p("")
    if "error" in prof:
        p("Profile failed: %s" % prof["error"])
        return
    p("Where the time goes, %d-distribution venv (medians over fresh processes)" % prof["size"])
    p("  A. collector inside X, section by section (in collect() order; caches shared as in a real run):")
    sec = prof["collector_sections_ms"]
    p("     %-66s %9s %9s" % ("", "wall ms", "cpu ms"))
    for k, v in sec.items():
        if isinstance(v, list):
            p("     %-66s %9.2f %9.2f" % (k, v[0], v[1]))
    p("     (report %d bytes, %d without per-dist location/metadata_path; site-packages has %d entries, %d dist-info)" % (
        sec.get("_bytes", 0), sec.get("_bytes without per-dist location/metadata_path", 0), sec.get("_site_entries", 0), sec.get("_dist_infos", 0)))
    for failure in prof.get("collector_detail_failures") or ():
        p("     (detail not measured, collector changed: %s)" % failure)
    ci = prof["collector_imports_in_X"]
    if "error" in ci:
        p("  B. collector imports in X: failed: %s" % ci["error"])
    else:
        p("  B. modules the collector imports in X beyond bare start-up: %d, %.2f ms self: %s" % (
            ci["modules"], ci["self_ms"], ", ".join("%s %.2f" % (r["name"], r["cum_ms"]) for r in ci["top"][:8])))
    cp = prof["collector_cprofile"]
    p("  C. cProfile of the collector in X (total %.0f ms under the profiler), top by own time:" % (cp["total_s_under_profiler"] * 1000))
    for r in cp["top_tottime"][:12]:
        p("     %-58s %7d calls %8.2f ms own %8.2f ms cum" % (r["where"][:58], r["calls"], r["tottime_ms"], r["cumtime_ms"]))
    st = prof["cli_stages_ms"]
    p("  D. CLI process stages (%s, real venvprobe._cli.main with timers):" % prof["cli_python"])
    p("     %-66s %9s %9s" % ("", "wall ms", "cpu ms"))
    for k, v in st.items():
        if isinstance(v, list):
            p("     %-66s %9.2f %9.2f" % (k, v[0], v[1]))
    it = prof["cli_importtime"]
    if "error" in it:
        p("  E. CLI -X importtime: failed: %s" % it["error"])
        return
    p("  E. CLI -X importtime (median of %d runs): %d modules, %d beyond `python -c pass`, %.1f ms self beyond it; site %.1f ms cum" % (
        it["importtime_runs"], it["modules_total"], it["modules_beyond_bare_startup"], it["self_ms_beyond_bare_startup"], it["site_cum_ms"] or 0))
    p("     site (start-up .pth hooks of the CLI's interpreter) children: " + ", ".join(
        "%s %.1f" % (r["name"], r["cum_ms"]) for r in it["site_children"]))
    p("     forbidden for --format json: " + ", ".join("%s %s" % (k, "IMPORTED" if v else "not imported") for k, v in it["forbidden_for_json"].items()))
    p("     top-level imports beyond bare start-up (cumulative ms):")
    for r in it["top_level_imports"]:
        p("       %-40s %7.2f" % (r["name"], r["cum_ms"]))
    p("     own import time by package (ms): " + ", ".join("%s %.1f" % kv for kv in it["self_ms_by_package"].items()))
    p("     watched modules (cumulative ms, imported via):")
    for name, w in it["watch"].items():
        if w is None:
            p("       %-20s not imported" % name)
        else:
            p("       %-20s %6.2f  %s%s" % (name, w["cum_ms"], " <- ".join(w["imported_via"]) or "-",
                                         "  (already at bare start-up)" if w["at_bare_startup"] else ""))


# ---------------------------------------------------------------------------


def _git(*args) -> str:
    try:
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,2000",
                    help="distribution counts per venv, comma-separated (default 100,1000,2000: three sizes show linearity)")
    ap.add_argument("--repeat", type=int, default=15, help="timed rounds (default 15); every command runs once per round")
    ap.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2: page cache, bytecode caches)")
    ap.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    ap.add_argument("--save", metavar="FILE", help="also write the JSON results to FILE")
    ap.add_argument("--render", metavar="FILE", help="print the table for JSON results saved earlier, run nothing")
    ap.add_argument("--keep", action="store_true", help="keep the temporary venvs (path printed on stderr)")
    ap.add_argument("--workdir", help="build/reuse venvs here instead of a fresh temp dir (implies --keep)")
    ap.add_argument("--base-python", help="interpreter that creates the venvs (default /usr/bin/python3, else this one)")
    ap.add_argument("--venvprobe", help="venvprobe command to time (default: a venv built in the work dir with this "
                                        "checkout installed as a wheel; `path` = the `venvprobe` on PATH)")
    ap.add_argument("--before", metavar="CMD", help="an older `venvprobe` command to time in the same rounds (before/after)")
    ap.add_argument("--before-checkout", metavar="DIR", help="an older checkout whose collector alone is timed in the "
                                                           "same rounds (before/after of the collector)")
    ap.add_argument("--no-profile", action="store_true", help="skip the where-the-time-goes section")
    ap.add_argument("--profile-runs", type=int, default=7, help="fresh processes per profile measurement (default 7)")
    ap.add_argument("--seed", type=int, default=12345, help="seed for the interleaving order")
    ap.add_argument("--bytecode", choices=("prefix", "asis"), default="prefix",
                    help="prefix (default): every timed process may write bytecode, into PYTHONPYCACHEPREFIX under the "
                         "work dir (warm .pyc as on a normal install, nothing written elsewhere); asis: keep the "
                         "caller's environment, e.g. PYTHONDONTWRITEBYTECODE=1, which makes the CLI compile "
                         "uncompiled (editable) venvprobe modules on every run")
    args = ap.parse_args(argv)
    if args.render:
        with open(args.render) as handle:
            data = json.load(handle)
        ints = lambda d: {int(k): v for k, v in d.items()}
        # The checks as this script makes them now, on the saved measurements.
        analysis = analyse(ints(data["results"]), ints(data["meta"]["distributions"]))
        print_table(data["meta"], ints(data["results"]), data["labels"], ints(data["meta"]["distributions"]),
                    analysis, data["profile"])
        return 0

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    base_python = args.base_python or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.pop("VIRTUAL_ENV", None)

    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="venvprobe-bench-"))
    keep = args.keep or bool(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    if args.venvprobe in (None, "wheel"):
        vp_cmd, vp_direct = build_cli_venv(base_python, os.path.join(workdir, "cli-venv")), None
    else:
        vp_cmd, vp_direct = resolve_venvprobe(None if args.venvprobe == "path" else args.venvprobe)
    if not vp_cmd and not vp_direct:
        log("warning: no `venvprobe` command found; timing the collector only")
    if args.bytecode == "prefix":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(workdir, "pycache")
    try:
        venvs, counts = {}, {}
        for size in sizes:
            python, count, took = build_venv(base_python, os.path.join(workdir, "venv-%d" % size), size)
            venvs[size], counts[size] = python, count
            log("venv with %d distributions: %s (%s)" % (count, python, "built in %.1f s" % took if took else "reused"))
        base_version = subprocess.run([base_python, "-c", "import platform; print(platform.python_version())"],
                                      capture_output=True, text=True).stdout.strip()
        meta = {
            "base_python": base_python, "base_version": base_version,
            "venvprobe_cmd": vp_cmd, "venvprobe_direct": vp_direct,
            "venvprobe_version": getattr(sys.modules.get("venvprobe"), "__version__", "?"),
            "collector_sha256": hashlib.sha256(b"".join(
                open(ship.source_path(n)[0], "rb").read() for n in ship.modules())).hexdigest()[:16],
            "git_head": _git("rev-parse", "--short", "HEAD"), "git_dirty": bool(_git("status", "--porcelain", "--", "venvprobe")),
            "host": platform.node(), "cpus": os.cpu_count(), "loadavg_start": "%.2f %.2f %.2f" % os.getloadavg(),
            "repeat": args.repeat, "warmup": args.warmup, "sizes": sizes, "distributions": counts,
            "bench_python": sys.executable, "workdir": workdir if keep else None,
            "bytecode": args.bytecode, "PYTHONDONTWRITEBYTECODE": env.get("PYTHONDONTWRITEBYTECODE"),
            "PYTHONPYCACHEPREFIX": env.get("PYTHONPYCACHEPREFIX"),
        }
        log("timing %d rounds (+%d warm-up), commands interleaved in random order..." % (args.repeat, args.warmup))
        if args.before:
            BEFORE[:] = [args.before]
            meta["before"] = args.before
        if args.before_checkout:
            BEFORE_CHECKOUT[:] = [os.path.abspath(args.before_checkout)]
            meta["before_checkout"] = BEFORE_CHECKOUT[0]
        results, labels = run_benchmark(venvs, vp_cmd, vp_direct, args.repeat, args.warmup, env, args.seed)
        meta["loadavg_end"] = "%.2f %.2f %.2f" % os.getloadavg()
        analysis = analyse(results, counts)
        data = {"meta": meta, "labels": labels, "results": results, "analysis": analysis, "profile": None}
        if args.save:  # the timings are safe even if profiling fails below
            with open(args.save, "w") as handle:
                json.dump(data, handle, indent=2, default=str)
        prof = None
        if not args.no_profile:
            biggest = sizes[-1]
            prof = _guard(profile, venvs[biggest], counts[biggest], vp_direct or vp_cmd, workdir, args.profile_runs, env)
        data["profile"] = prof
        if args.save:
            with open(args.save, "w") as handle:
                json.dump(data, handle, indent=2, default=str)
        if args.json:
            json.dump(data, sys.stdout, indent=2, default=str)
            print()
        else:
            print_table(meta, results, labels, counts, analysis, prof)
    finally:
        if keep:
            log("kept venvs in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
