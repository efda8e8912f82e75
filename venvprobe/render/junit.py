"""compare's results as JUnit XML, valid against junit-10.xsd (Jenkins' xUnit plugin, the strictest common reader)."""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from venvprobe.results import FAIL, SKIP, CheckResult, TargetOutcome


def _clip(text: str, width: int = 70) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: Any) -> str:
    return _XML_BAD.sub("?", str(text))


def _seconds(value: Optional[float]) -> str:
    # junit-10.xsd's SUREFIRE_TIME: digits, at most 3 decimals.
    return f"{max(0.0, value or 0.0):.3f}"


def target_hostname(target: str) -> Optional[str]:
    """The host a target's report came from, when the target says so.

    A URL names its host; ``python:PATH`` was collected on this machine; a
    saved report file may come from anywhere, so it gets none.
    """
    if is_url_target(target):
        from urllib.parse import urlsplit

        try:
            return urlsplit(target).hostname
        except ValueError:
            return None
    if target.startswith("python:"):
        import socket

        return socket.gethostname()
    return None


def is_url_target(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def failure_message(target: str, r: CheckResult) -> str:
    """One line naming the target and the check: CI dashboards list failures of many targets together."""
    return f"{target}: {r.check}: expected {r.expected}, got {r.actual}"


def render_junit(outcomes: Sequence[TargetOutcome], source: str = "") -> str:
    """JUnit XML valid against junit-10.xsd: one <testsuite> per target, one <testcase> per check.

    junit-10.xsd is the schema of Jenkins' xUnit plugin (the strictest common
    reader): it has no ``testcase@file``/``@line`` and no ``testsuites@skipped``,
    so the rule's place in the expectations file goes in the failure text.
    A target that could not be checked is a suite with one errored test case,
    so CI dashboards show it instead of silently counting zero tests.
    """
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="venvprobe compare")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for o in outcomes:
        suite = ET.SubElement(root, "testsuite", name=_xml(o.target))
        host = target_hostname(o.target)
        if host:
            suite.set("hostname", _xml(host))
        if o.checked_at:
            suite.set("timestamp", o.checked_at)
        if source:
            suite.set("file", _xml(source))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=_xml(o.target))
        ET.SubElement(props, "property", name="expectations", value=_xml(source))
        ET.SubElement(props, "property", name="samples", value=str(o.samples))
        ET.SubElement(props, "property", name="workers", value=_xml(", ".join(o.workers)))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if o.error:
            case = ET.SubElement(suite, "testcase", classname="venvprobe.target", name="report can be read",
                                 time=_seconds(o.seconds))
            err = ET.SubElement(case, "error", message=_xml(f"{o.target}: could not check: {o.error}"),
                                type="could-not-check")
            err.text = _xml(f"target:   {o.target}\nerror:    {o.error}")
            counts["tests"] += 1
            counts["errors"] += 1
        for r in o.results:
            case = ET.SubElement(suite, "testcase", classname=f"venvprobe.{r.section}", name=_xml(r.check))
            counts["tests"] += 1
            if r.status == FAIL:
                fail = ET.SubElement(case, "failure", message=_xml(_clip(failure_message(o.target, r), 500)),
                                     type="not-met")
                fail.text = _xml("\n".join(x for x in (
                    f"target:   {o.target}", f"check:    {r.check}",
                    f"expected: {r.expected}", f"actual:   {r.actual}",
                    f"detail:   {r.detail}" if r.detail else "",
                    f"workers:  {', '.join(r.workers)}" if r.workers else "",
                    f"rule at:  {source}:{r.line}" if r.line else "") if x))
                counts["failures"] += 1
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=_xml(r.detail or r.actual))
                counts["skipped"] += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _xml(f"expected: {r.expected}\nactual:   {r.actual}")
        for key, value in counts.items():
            suite.set(key, str(value))
            if key in totals:
                totals[key] += value
        suite.set("time", _seconds(o.seconds))
        total_time += o.seconds or 0.0
    for key, value in totals.items():
        root.set(key, str(value))
    # Targets are fetched concurrently: the sum over-states wall time, but it is
    # what readers add up when they check the totals.
    root.set("time", _seconds(total_time))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["failure_message", "is_url_target", "render_junit", "target_hostname"]
