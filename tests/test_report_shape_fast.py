"""check_shape keeps parent links instead of building every field's path: the same verdicts and messages.

The former implementation is kept here as the reference; both run on real
reports, the fuzz corpus and thousands of hostile mutations of a report
(wrong types at random places, sections replaced by errors, deep nesting).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from fuzz_helpers import mutate_report
from venvprobe.report_shape import SPEC, ShapeError, _WANT, _got, _is, _where, check_shape

DATA = Path(__file__).parent / "data" / "fuzz"


def reference_check_shape(report: Any, spec: Optional[dict] = None) -> None:
    spec = SPEC if spec is None else spec
    stack: List[Tuple[Any, Any, Tuple[Any, ...], bool]] = [(report, spec, (), True)]
    while stack:
        value, want, path, section = stack.pop()
        if value is None or want == "*":
            continue
        if isinstance(want, str):
            if not _is(value, want):
                raise ShapeError(f"field {_where(path)} should be {_WANT[want]}, not {_got(value)}")
            continue
        if isinstance(want, list):
            if section and isinstance(value, dict) and set(value) == {"error"}:
                continue
            if not isinstance(value, list):
                raise ShapeError(f"field {_where(path)} should be an array, not {_got(value)}")
            stack.extend((item, want[0], path + (i,), False) for i, item in reversed(list(enumerate(value))))
            continue
        if not isinstance(value, dict):
            raise ShapeError(f"field {_where(path)} should be an object, not {_got(value)}")
        if section and set(value) == {"error"}:
            if not isinstance(value["error"], (str, type(None))):
                raise ShapeError(f"field {_where(path + ('error',))} should be a string, not {_got(value['error'])}")
            continue
        every = want.get("*")
        for key in reversed(list(value)):
            sub = want.get(key, every)
            if sub is not None:
                stack.append((value[key], sub, path + (key,), len(path) == 0))


def verdict(func, report: Any) -> Optional[str]:
    try:
        func(report)
    except ShapeError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def real_report() -> dict:
    from venvprobe.analyze import analyze
    from venvprobe.collect.collector import collect

    report = collect({"use_psutil": False})
    report["findings"] = analyze(report)
    return json.loads(json.dumps(report))


# Whole sections replaced by what a failing collector (or a hostile file) puts there.
_SECTION_JUNK = [{"error": "gone"}, {"error": 3}, {"error": None}, [], "x", 5, {"entries": {"error": "x"}}]


def _mutate(report: dict, rng: random.Random) -> dict:
    out = mutate_report(report, rng)
    if rng.random() < 0.25:
        out[rng.choice(sorted(out))] = json.loads(json.dumps(rng.choice(_SECTION_JUNK)))
    return out


def test_same_verdicts_on_real_and_corpus_reports(real_report: dict) -> None:
    samples = [real_report] + [json.loads(p.read_text(errors="replace")) for p in sorted(DATA.glob("report-*.json"))
                               if _loads_ok(p)]
    assert len(samples) > 5
    for report in samples:
        assert verdict(check_shape, report) == verdict(reference_check_shape, report)
    assert verdict(check_shape, real_report) is None


def _loads_ok(path: Path) -> bool:
    try:
        json.loads(path.read_text(errors="replace"))
        return True
    except ValueError:
        return False


def test_same_verdicts_on_hostile_mutations(real_report: dict) -> None:
    rng = random.Random(20261202)
    wrong = 0
    for _ in range(3000):
        report = _mutate(real_report, rng)
        got, want = verdict(check_shape, report), verdict(reference_check_shape, report)
        assert got == want, (got, want)
        wrong += want is not None
    assert wrong > 500  # the mutations really do produce bad reports, with named fields


def test_deep_nesting_is_no_recursion_error() -> None:
    deep: Any = "leaf"
    for _ in range(100000):
        deep = [deep]
    report = {"schema": {"name": "venvprobe.report", "version": 1}, "findings": [{"data": deep}],
              "sys_path": {"entries": deep}}
    assert verdict(check_shape, report) == verdict(reference_check_shape, report)
    assert verdict(check_shape, report) is not None
