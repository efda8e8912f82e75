"""Property: ``compare(snapshot(report), report)`` always passes, and changing any
field the snapshot pinned makes the check for that field fail.

Reports are generated with hypothesis in the shape the collector writes
(docs/report-schema.md), with hostile paths (quotes, backslashes, glob
characters, non-ASCII), PEP 440 and non-PEP 440 versions, several servers,
shadowing and findings.  Every rule the snapshot writes is mutated in turn.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from venvprobe.rules.registry import RULES
from venvprobe.compare import FAIL, PASS, compare
from venvprobe.expectations import SERVER_KINDS, loads
from venvprobe.snapshot import snapshot

CODES = sorted(RULES)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\x00"),
    min_size=1, max_size=8,
).filter(lambda s: s not in (".", ".."))
abs_path = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# PEP 508 names: alphanumeric at both ends, "._-" inside.  (from_regex is slow.)
dist_name = st.builds(lambda a, sep, b: a + sep + b if sep else a,
                      st.text(_ALNUM, min_size=1, max_size=5), st.sampled_from(["", "-", "_", ".", "--"]),
                      st.text(_ALNUM, min_size=1, max_size=4))
pep440 = st.builds(
    lambda parts, suffix: ".".join(str(p) for p in parts) + suffix,
    st.lists(st.integers(0, 99), min_size=1, max_size=3),
    st.sampled_from(["", "rc1", "a2", ".post1", ".dev0", "+local.7"]),
)
odd_version = st.builds(lambda year, word: f"{year}-{word}", st.integers(1000, 9999),
                        st.sampled_from(["custom", "ubuntu", "gitabc", "x"]))
version = st.one_of(pep440, pep440, odd_version, st.none())
module_name = st.builds(lambda a, b: a + b, st.text("abcxyz_", min_size=1, max_size=3),
                        st.text("abc019_", max_size=4))


def _entry(index: int, path: str, kind: str) -> Dict[str, Any]:
    return {"index": index, "path": path, "abs_path": path, "real_path": path, "exists": True,
            "is_dir": True, "origin": {"kind": kind, "detail": kind}}


@st.composite
def reports(draw: st.DrawFn) -> Dict[str, Any]:
    in_venv = draw(st.booleans())
    base_prefix = draw(abs_path)
    prefix = draw(abs_path.filter(lambda p: p != base_prefix)) if in_venv else base_prefix
    minor, micro = draw(st.integers(6, 14)), draw(st.integers(0, 20))
    kind = draw(st.sampled_from(SERVER_KINDS))
    server: Dict[str, Any] = {"kind": kind}
    if kind == "mod_wsgi":
        group = draw(st.one_of(st.just(""), segment))
        server.update(mode=draw(st.sampled_from(["daemon", "embedded"])), process_group=draw(segment),
                      application_group=group, main_interpreter_group=group == "")

    # sys.path: stdlib first, then a random mix of the other origins.
    kinds = ["stdlib", "lib_dynload"] + (["venv_site"] if in_venv else [])
    kinds += draw(st.lists(st.sampled_from(["base_site", "user_site", "pythonpath", "runtime", "pth"]), max_size=4))
    kinds = [kinds[0]] + draw(st.permutations(kinds[1:]))
    if in_venv and draw(st.booleans()):
        # The usual healthy order: the venv's site-packages right after the stdlib.
        kinds.remove("venv_site")
        kinds.insert(1, "venv_site")
        if "base_site" not in kinds:
            kinds.append("base_site")
    entries = []
    for i, k in enumerate(kinds):
        root = prefix if k == "venv_site" else base_prefix
        path = f"{root}/lib/python3.{minor}/site-packages" if k in ("venv_site", "base_site") else draw(abs_path) + f"/{k}{i}"
        entries.append(_entry(i, path, k))

    dists = []
    for name in draw(st.lists(dist_name, max_size=6, unique_by=lambda n: n.lower().replace("_", "-").replace(".", "-"))):
        where = draw(st.sampled_from(entries))
        dists.append({"name": name, "version": draw(version), "location": where["path"],
                      "location_index": where["index"], "format": "dist-info"})

    modules = [{"name": "os", "file": f"{base_prefix}/lib/python3.{minor}/os.py"}]
    venv_sites = [e for e in entries if e["origin"]["kind"] == "venv_site"]
    if venv_sites and draw(st.booleans()):
        modules.append({"name": draw(module_name), "file": venv_sites[0]["path"] + "/mod.py"})
    shadowed_modules = [{"name": n, "kind": "module", "winner": {"path": "/a/" + n}, "losers": [{"path": "/b/" + n}]}
                        for n in draw(st.lists(module_name, max_size=2, unique=True))]
    findings = [{"code": code, "severity": draw(st.sampled_from(["error", "warning", "info"])), "message": "m"}
                for code in draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True))]
    return {
        "schema": {"name": "venvprobe.report", "version": 1},
        "generated_at": "2024-01-01T00:00:00.000Z",
        "interpreter": {"version": f"3.{minor}.{micro}", "implementation": draw(st.sampled_from(["cpython", "pypy"])),
                        "prefix": prefix, "base_prefix": base_prefix, "in_venv": in_venv,
                        "executable": prefix + "/bin/python"},
        "identity": {"pid": draw(st.integers(2, 99999)), "interpreter_id": 0,
                     "main_interpreter": draw(st.booleans()), "server": server},
        "process": {"user": draw(st.sampled_from(["www-data", "app", "root"])), "create_time": 1.0},
        "sys_path": {"entries": entries, "pth_files": []},
        "distributions": dists,
        "shadowed": {"modules": shadowed_modules, "distributions": []},
        "modules": {"count": len(modules), "top_level": modules, "extensions": [], "wsgi_scripts": []},
        "findings": findings,
    }


# ---------------------------------------------------------------------------
# one mutation per kind of pinned rule: report -> changed copy


def _flip_text(value: str) -> str:
    return value + "-changed"


def _mutate(check: str, report: Dict[str, Any]) -> Dict[str, Any]:
    r = copy.deepcopy(report)
    interp, ident = r["interpreter"], r["identity"]
    server = ident["server"]
    entries: List[Dict[str, Any]] = r["sys_path"]["entries"]
    if check == "interpreter.python":
        major, minor, micro = interp["version"].split(".")
        interp["version"] = f"{major}.{int(minor) + 1}.{micro}"
    elif check == "interpreter.implementation":
        interp["implementation"] = "pypy" if interp["implementation"] == "cpython" else "cpython"
    elif check in ("interpreter.prefix", "interpreter.base_prefix"):
        key = check.split(".")[1]
        interp[key] = _flip_text(interp[key])
    elif check == "identity.in_venv":
        interp["in_venv"] = not interp["in_venv"]
    elif check == "identity.main_interpreter":
        ident["main_interpreter"] = not ident["main_interpreter"]
    elif check == "identity.server":
        server["kind"] = next(k for k in SERVER_KINDS if k != server["kind"])
    elif check == "identity.mode":
        server["mode"] = "embedded" if server["mode"] == "daemon" else "daemon"
    elif check in ("identity.process_group", "identity.application_group"):
        key = check.split(".")[1]
        server[key] = _flip_text(server[key])
    elif check == "identity.user":
        r["process"]["user"] = _flip_text(r["process"]["user"])
    elif check.startswith("sys_path.include: "):
        for e in entries:
            if e["origin"]["kind"] in ("venv_site", "runtime_venv_site"):
                e["path"] = e["abs_path"] = e["real_path"] = "/moved" + e["path"]
    elif check.startswith("sys_path.exclude: origin:"):
        kind = check.rsplit(":", 1)[1]
        entries.append(_entry(len(entries), f"/new/{kind}", kind))
    elif check.startswith("sys_path.before: "):
        first_base = next(e for e in entries if e["origin"]["kind"] == "base_site")
        entries.remove(first_base)
        entries.insert(0, first_base)
        for i, e in enumerate(entries):
            e["index"] = i
        for d in r["distributions"]:
            d["location_index"] = next(e["index"] for e in entries if e["path"] == d["location"])
    elif check.startswith("distributions.require: "):
        name = check.split(": ", 1)[1]
        dist = min((d for d in r["distributions"] if d["name"] == name), key=lambda d: d["location_index"])
        if dist["version"] is None:
            r["distributions"] = [d for d in r["distributions"] if d["name"] != name]
        else:
            dist["version"] = "999.0" if dist["version"][:1].isdigit() and "-" not in dist["version"] else dist["version"] + "x"
    elif check == "distributions.only_from_venv":
        # A control character cannot occur in a generated prefix: never "inside the venv".
        r["modules"]["top_level"].append({"name": "intruder", "file": "/\x01base/dist-packages/intruder.py"})
    elif check == "shadowing":
        r["shadowed"]["modules"].append({"name": "zz_new", "kind": "module", "winner": {"path": "/a"},
                                         "losers": [{"path": "/b"}]})
    elif check.startswith("findings.max: "):
        severity = check.split(": ", 1)[1]
        allowed = {f["code"] for f in report["findings"]}  # the snapshot allows exactly these
        fresh = [c for c in CODES if c not in allowed]
        r["findings"].append({"code": fresh[0], "severity": severity, "message": "new"})
    else:
        raise AssertionError(f"no mutation for pinned check {check!r}")
    return r


@SETTINGS
@given(reports())
def test_snapshot_of_a_report_always_passes_against_it(report):
    text = snapshot(report, "generated")
    results = compare(loads(text, "snapshot.toml"), report)
    assert [r for r in results if r.status == FAIL] == [], text


@SETTINGS
@given(reports())
def test_mutating_any_pinned_field_fails_its_check(report):
    text = snapshot(report, "generated")
    exp = loads(text, "snapshot.toml")
    pinned = [r.check for r in compare(exp, report) if r.status == PASS]
    # Every pinned rule, one at a time: drawing one would favour the first ones.
    for check in pinned:
        event(check.split(": ")[0] + (": " + check.split(": ")[1] if check.startswith("sys_path.exclude") else ""))
        after = {r.check: r.status for r in compare(exp, _mutate(check, report))}
        assert after.get(check) == FAIL, (check, after, text)


@SETTINGS
@given(reports())
def test_a_worker_that_differs_fails_workers_identical(report):
    exp = loads(snapshot(report))
    other = copy.deepcopy(report)
    other["identity"]["pid"] += 1
    other["interpreter"]["prefix"] += "-old"
    (workers,) = [r for r in compare(exp, report, samples=[report, other]) if r.check == "workers.identical"]
    assert workers.status == FAIL
    assert workers.workers == [f"pid {other['identity']['pid']}"] or workers.workers == [f"pid {report['identity']['pid']}"]
    twin = copy.deepcopy(report)
    twin["identity"]["pid"] += 1
    (same,) = [r for r in compare(exp, report, samples=[report, twin]) if r.check == "workers.identical"]
    assert same.status == PASS
