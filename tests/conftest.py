"""Shared pytest fixtures.  The real-server harness itself is tests/servers.py.

Fixtures here:
    wheelhouse       session: Path of wheels (third-party + this repo)
    shared_tmp       per test: fresh dir that www-data can read
    venv_factory     per test: make_venv(...) under shared_tmp
    apache_factory   per test: ApacheServer(...), started, stopped at teardown
    uwsgi_factory    per test: UwsgiServer(...),  started, stopped at teardown
    gunicorn_factory per test: GunicornServer(...), started, stopped at teardown

Server factories skip the test when the server is missing (fail under
CI=true), stop everything they started even when the test fails, and
print the server logs on failure.  Start/stop times are listed at the end
of the run (terminal summary).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, List, Tuple, Type

import pytest

# tests/ is not a package: make `import servers` work whatever import mode
# pytest runs in.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402

# (test, server kind, seconds to open its port, seconds stop() took)
_TIMINGS: List[Tuple[str, str, float, float]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    # Expose each phase's report on the item so fixtures can tell, at
    # teardown, whether the test failed (keep files, dump logs).
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request: pytest.FixtureRequest) -> bool:
    rep = getattr(request.node, "rep_call", None)
    setup = getattr(request.node, "rep_setup", None)
    return bool((rep is not None and rep.failed) or (setup is not None and setup.failed))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _TIMINGS:
        terminalreporter.section("server start / stop times")
        for test, what, start, stop in _TIMINGS:
            terminalreporter.write_line(f"start {start:5.2f}s  stop {stop:5.2f}s  {what:<9} {test}")


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return servers.wheelhouse()


@pytest.fixture
def shared_tmp(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Like tmp_path, but readable by www-data; removed if the test passed."""
    path = servers.fresh_shared_dir(request.node.name)
    yield path
    if not _failed(request) and not os.environ.get("VENVPROBE_KEEP_TMP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def venv_factory(shared_tmp: Path) -> Callable[..., servers.Venv]:
    """``venv_factory(name="venv", **make_venv_kwargs)`` -> Venv."""

    def make(name: str = "venv", **kwargs: Any) -> servers.Venv:
        return servers.make_venv(shared_tmp / name, **kwargs)

    return make


def _server_factory(
    request: pytest.FixtureRequest, shared_tmp: Path, cls: Type[servers.BaseServer]
) -> Iterator[Callable[..., Any]]:
    started: List[servers.BaseServer] = []

    def make(*args: Any, start: bool = True, timeout: float = 60.0, **kwargs: Any) -> Any:
        kwargs.setdefault("root", shared_tmp / f"{cls.name}{len(started)}")
        server = cls(*args, **kwargs)
        started.append(server)  # before start(): a failed start still gets stop()
        if start:
            server.start(timeout=timeout)
        return server

    yield make
    errors = []
    for server in reversed(started):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            errors.append(f"{server!r}: {exc!r}")
        if server.startup_seconds is not None and server.stop_seconds is not None:
            _TIMINGS.append((request.node.name, cls.name, server.startup_seconds, server.stop_seconds))
        if _failed(request):
            print(f"\n===== {server!r} =====\ncmd: {' '.join(server.cmd)}\n{server.logs()}")
    if errors:
        raise RuntimeError("could not stop servers: " + "; ".join(errors))


@pytest.fixture
def apache_factory(request: pytest.FixtureRequest, shared_tmp: Path) -> Iterator[Callable[..., servers.ApacheServer]]:
    """``apache_factory(config_snippet, start=True, **ApacheServer_kwargs)``."""
    servers.require_apache()
    yield from _server_factory(request, shared_tmp, servers.ApacheServer)


@pytest.fixture
def uwsgi_factory(request: pytest.FixtureRequest, shared_tmp: Path) -> Iterator[Callable[..., servers.UwsgiServer]]:
    """``uwsgi_factory(options, ini_text="", start=True, **UwsgiServer_kwargs)``."""
    servers.require_uwsgi()
    yield from _server_factory(request, shared_tmp, servers.UwsgiServer)


@pytest.fixture
def gunicorn_factory(request: pytest.FixtureRequest, shared_tmp: Path) -> Iterator[Callable[..., servers.GunicornServer]]:
    """``gunicorn_factory(venv, "module:app", start=True, **GunicornServer_kwargs)``."""
    yield from _server_factory(request, shared_tmp, servers.GunicornServer)


@pytest.fixture(scope="session")
def valid_json() -> Callable[[Any, str], None]:
    """``valid_json(doc, "report" | "identity" | "compare" | "diff")``: fail unless *doc* matches the
    JSON Schema venvprobe ships for it (tests/schema_helpers.py)."""
    import schema_helpers

    return schema_helpers.assert_valid
