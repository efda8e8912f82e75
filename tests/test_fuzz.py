"""Fuzzing: hostile reports, expectations, Apache and uWSGI configs and error logs (issue 15).

Each generator (tests/fuzz_helpers.py) builds inputs from a ``random.Random``
that hypothesis drives (``st.randoms``), so a failure shrinks and replays.
A refusal (one line, exit 2) is a correct answer; any exception is a crash.
The budget is fixed by example counts, not time: the whole module stays well
under a minute on a loaded CI machine.

Inputs that crashed (or hung) venvprobe before these fixes are kept under
tests/data/fuzz/ and replayed by :func:`test_regression_fixture`.
"""

from __future__ import annotations

import signal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fuzz_helpers as fz

def FUZZ(kind):
    return settings(max_examples=BUDGET[kind], deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


# Examples per target (about 12 s of CPU for the module; ~40 s wall on the loaded 2-core CI machine).
BUDGET = {"report": 400, "expectations": 800, "apache": 150, "uwsgi": 150, "log": 150}
HANG_SECONDS = 10


@pytest.fixture(scope="module")
def base():
    return fz.small_base_report()


class _Hang(Exception):
    pass


@pytest.fixture(autouse=True)
def no_hang():
    """One example that takes longer than HANG_SECONDS fails the test instead of stalling CI."""
    def alarm(*_):
        raise _Hang(f"an input took more than {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, alarm)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _bounded(fn, *args):
    signal.alarm(HANG_SECONDS)
    try:
        fn(*args)
    finally:
        signal.alarm(0)


def _report(text: str, base: dict) -> None:
    try:
        report = fz.load_report_text(text)
    except fz.Refused as exc:
        assert "\n" not in str(exc)
        return
    fz.exercise_report(report, base)


@FUZZ("report")
@given(rnd=st.randoms(use_true_random=False))
def test_fuzz_report_json(base, rnd):
    _bounded(_report, fz.report_text(base, rnd), base)


@FUZZ("expectations")
@given(rnd=st.randoms(use_true_random=False))
def test_fuzz_expectations_toml(base, rnd):
    _bounded(fz.exercise_expectations, fz.expectations_text(rnd), base)


@FUZZ("apache")
@given(rnd=st.randoms(use_true_random=False))
def test_fuzz_apache_config(tmp_path_factory, rnd):
    directory = tmp_path_factory.mktemp("apache", numbered=True)
    _bounded(fz.exercise_apache, fz.apache_text(rnd, directory), directory)


@FUZZ("uwsgi")
@given(rnd=st.randoms(use_true_random=False))
def test_fuzz_uwsgi_ini(tmp_path_factory, rnd):
    directory = tmp_path_factory.mktemp("uwsgi", numbered=True)
    _bounded(fz.exercise_uwsgi, fz.uwsgi_text(rnd), directory)


@FUZZ("log")
@given(rnd=st.randoms(use_true_random=False))
def test_fuzz_error_log(tmp_path_factory, rnd):
    directory = tmp_path_factory.mktemp("log", numbered=True)
    _bounded(fz.exercise_log, fz.log_text(rnd), directory)


FIXTURES = sorted(p.name for p in fz.FIXTURES.iterdir()) if fz.FIXTURES.is_dir() else []


def test_fixtures_are_kept():
    # 15 report crash signatures (AttributeError/TypeError in diff, compare, fleet, render, redact, metrics),
    # re.error and RecursionError in expectations, RecursionError and a hang in check-apache, ValueError in
    # check-uwsgi: the corpus must not silently shrink.
    assert len(FIXTURES) >= 20, FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_regression_fixture(name, base, tmp_path):
    text = (fz.FIXTURES / name).read_text(encoding="utf-8", errors="surrogateescape")
    kind = name.split("-")[0]
    if kind == "report":
        _bounded(_report, text, base)
    elif kind == "expectations":
        _bounded(fz.exercise_expectations, text, base)
    elif kind == "apache":
        _bounded(fz.exercise_apache, text.replace("@DIR@", str(tmp_path)), tmp_path)
    elif kind == "uwsgi":
        _bounded(fz.exercise_uwsgi, text, tmp_path)
    elif kind == "log":
        _bounded(fz.exercise_log, text, tmp_path)
    else:
        pytest.fail(f"unknown fixture kind {name}")


@pytest.mark.parametrize("name", [n for n in FIXTURES if n.startswith("report-")][:3])
def test_regression_fixture_through_the_cli(name):
    """The same inputs through the real command line: one line, exit 2, no traceback."""
    from report_helpers import venvprobe_cli

    path = str(fz.FIXTURES / name)
    for args in (["report", "--input", path], ["diff", path, path]):
        res = venvprobe_cli(*args, timeout=60)
        err = res.stderr.decode()
        assert res.returncode in (0, 1, 2) and "Traceback" not in err, err
        if res.returncode == 2:
            assert err.count("\n") == 1, err
