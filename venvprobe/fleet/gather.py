"""Many targets at once: a bounded thread pool, ``samples`` requests per URL, a progress line.

Samples of one URL are sent together so that they land on different worker
processes (a busy sync worker cannot take the next one).
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, TextIO

from venvprobe.fleet.options import FetchError, FetchOptions
from venvprobe.fleet.targets import Target, load_target
from venvprobe.workers import Worker, distinct_workers


@dataclass
class TargetResult:
    """Everything fetched for one target: one report per sample that worked, errors of the rest."""

    target: Target
    reports: List[dict] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    samples: int = 1
    started: Optional[float] = None  # time.time() when its first sample started
    seconds: float = 0.0  # from its first sample's start to its last one's end
    retry_after: Optional[float] = None  # the longest Retry-After its failed samples were given

    @property
    def error(self) -> Optional[str]:
        """Why the target could not be checked (every sample failed), else None."""
        if self.reports:
            return None
        return self.errors[0] if self.errors else "no report"

    @property
    def workers(self) -> List[Worker]:
        return distinct_workers(self.reports)

    def notes(self) -> List[str]:
        """Partial failures worth showing even though the target could be checked."""
        if self.reports and self.errors:
            return [f"{len(self.errors)} of {self.samples} samples failed: {self.errors[0]}"]
        return []


class Progress:
    """``[3/10] host`` on one self-rewriting stderr line, only when stderr is a terminal."""

    def __init__(self, total: int, stream: Optional[TextIO] = None, enabled: Optional[bool] = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        if enabled is None:
            try:
                enabled = self.stream.isatty()
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = bool(enabled) and total > 0
        self._lock = threading.Lock()

    def step(self, label: str, ok: bool = True) -> None:
        """Count one finished job."""
        with self._lock:
            self.done += 1
            if self.enabled:
                mark = "" if ok else " (failed)"
                self.stream.write(f"\r\x1b[Kvenvprobe: {self.done}/{self.total} {label[:60]}{mark}")
                self.stream.flush()

    def close(self) -> None:
        """Clear the progress line."""
        if self.enabled and self.done:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def gather(targets: Sequence[Target], options: FetchOptions, progress: Optional[Progress] = None,
           reanalyze: bool = True, stdin_text: Optional[str] = None,
           on_target: Optional[Callable[[int, TargetResult], None]] = None) -> List[TargetResult]:
    """Fetch every target (``options.samples`` times per URL) with a bounded pool.

    Results come back in the order of *targets*.  With *reanalyze*, findings
    are recomputed by this venvprobe (like ``report --input``), so codes and
    severities match the catalog the expectations were validated against.
    *on_target(index, result)* runs (in a pool thread) as soon as every sample
    of a target is in: a caller that checks it there and drops its reports
    keeps memory bounded by the pool, not by the size of the fleet.
    """
    if any(t.kind == "stdin" for t in targets) and stdin_text is None:
        stdin_text = sys.stdin.buffer.read(options.max_bytes + 1).decode("utf-8", "replace")
    results = [TargetResult(t, samples=options.samples if t.kind == "url" else 1) for t in targets]
    jobs = [(i, t) for i, t in enumerate(targets) for _ in range(results[i].samples)]
    if progress is None:
        progress = Progress(len(jobs), enabled=False)
    lock = threading.Lock()

    pending = [r.samples for r in results]

    def run(index: int, target: Target) -> None:
        began, t0 = time.time(), time.monotonic()
        try:
            _run(index, target)
        finally:
            with lock:
                result = results[index]
                if result.started is None or began < result.started:
                    result.started = began
                result.seconds = max(result.seconds, began - result.started + time.monotonic() - t0)
                pending[index] -= 1
                complete = pending[index] == 0
            if complete and on_target is not None:
                on_target(index, result)

    def _run(index: int, target: Target) -> None:
        try:
            report = load_target(target, options, stdin_text)
            if reanalyze and target.kind != "python":
                from venvprobe.analyze import analyze

                report["findings"] = analyze(report)
        except FetchError as exc:
            with lock:
                results[index].errors.append(str(exc))
                if exc.retry_after is not None:
                    results[index].retry_after = max(results[index].retry_after or 0.0, exc.retry_after)
            progress.step(target.label, ok=False)
            return
        except Exception as exc:  # a bug must not sink the other targets
            with lock:
                results[index].errors.append(f"{target.label}: {type(exc).__name__}: {exc}")
            progress.step(target.label, ok=False)
            return
        with lock:
            results[index].reports.append(report)
        progress.step(target.label)

    workers = max(1, min(options.concurrency, len(jobs)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="venvprobe-fetch") as pool:
            for future in [pool.submit(run, i, t) for i, t in jobs]:
                future.result()
    finally:
        progress.close()
    return results


__all__ = ["Progress", "TargetResult", "gather"]
