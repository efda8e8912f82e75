"""The HTML page as a person sees it: Debian's headless Chromium at 1400 and 400 px, and in print.

Layout is measured in the rendered page (DevTools protocol over a pipe, see
chromium_helpers): the status banner is visible in the first screen, no
identifier is broken across lines, nothing scrolls sideways at 400 px, every
finding is a card with its code and fix, every contents link has a target.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chromium_helpers import Chromium, chromium_binary
from sample_reports import LONG_PATH, ODD_PATH, sample_report
from venvprobe.offline.output import kv_table, make_result
from venvprobe.offline.output import render as render_offline
from venvprobe.rules.registry import make_finding
from venvprobe.render import render

# Every whitespace-separated word of these elements must sit on one line:
# codes, severities, names, versions, headers.  Only path cells (and the
# evidence/message prose around paths) may wrap inside a word.
MEASURE = r"""
(() => {
  const broken = [];
  const sel = 'code.code, .sev, th, td:not(.path), .facts dt, h1, h2, h3, .banner, .toc a';
  for (const el of document.querySelectorAll(sel)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const re = /\S+/g; let m;
      while ((m = re.exec(node.textContent))) {
        const r = document.createRange();
        r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  const banner = document.querySelector('.banner');
  const b = banner.getBoundingClientRect();
  const style = (sel, prop) => [...document.querySelectorAll(sel)].map(e => getComputedStyle(e)[prop]);
  const missing = [...document.querySelectorAll('a[href^="#"]')]
    .map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id));
  return {
    broken,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    innerHeight: window.innerHeight,
    banner: {top: b.top, bottom: b.bottom, height: b.height, text: banner.textContent,
             background: getComputedStyle(banner).backgroundColor, display: getComputedStyle(banner).display},
    cards: [...document.querySelectorAll('article.card')].map(c => ({
      code: c.querySelector('code.code').textContent, sev: c.querySelector('.sev').textContent,
      fix: !!c.querySelector('.fix'), right: c.getBoundingClientRect().right})),
    pathWrap: style('td.path', 'overflowWrap'), codeWrap: style('code.code, .sev', 'overflowWrap'),
    codeSpace: style('code.code, .sev', 'whiteSpace'),
    tocLinks: document.querySelectorAll('.toc a').length, missingAnchors: missing,
    tocDisplay: getComputedStyle(document.querySelector('.toc')).display,
    cells: [...document.querySelectorAll('td')].map(td => td.textContent),
  };
})()
"""


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (tests/run_all.sh installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    b = Chromium(binary)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(sample_report(), "html"), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [1400, 400])
def test_report_page_in_chromium(browser, page_file, tmp_path, width):
    report = sample_report()
    page = browser.open(page_file.as_uri(), width, 900)
    m = page.evaluate(MEASURE)
    shot = tmp_path / f"report-{width}.png"
    page.screenshot(str(shot), 1600)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert m["broken"] == [], f"words broken across lines at {width}px"
    assert m["scrollWidth"] <= m["innerWidth"], "the page scrolls sideways"
    # The status at a glance: red, with the counts, in the first screen.
    banner = m["banner"]
    assert banner["display"] != "none" and banner["height"] > 20 and 0 <= banner["top"] < m["innerHeight"] / 2
    assert "Problems found" in banner["text"] and "2 errors, 3 warnings, 1 info" in banner["text"]
    assert banner["background"] == "rgb(253, 226, 225)"
    # One card per finding, most severe first, each with its code and a fix set apart.
    assert [(c["sev"], c["code"]) for c in m["cards"]] == [(f["severity"], f["code"]) for f in report["findings"]]
    assert all(c["fix"] for c in m["cards"]) and all(c["right"] <= m["innerWidth"] for c in m["cards"])
    # Only path cells may break inside a word; codes and severities never.
    assert m["pathWrap"] and set(m["pathWrap"]) == {"anywhere"}
    assert "anywhere" not in m["codeWrap"] and set(m["codeSpace"]) == {"nowrap"}
    assert m["tocLinks"] >= 8 and m["missingAnchors"] == []
    # Values that mean something are shown as such, paths literally.
    assert "''" in m["cells"] and ODD_PATH in m["cells"] and LONG_PATH in m["cells"]
    assert "%{GLOBAL} (the main interpreter)" in m["cells"] and "70.0 MiB" in m["cells"]


def test_print_layout_and_offline_page(browser, page_file, tmp_path):
    page = browser.open(page_file.as_uri(), 800, 900)
    browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=page.session)
    m = page.evaluate(MEASURE)
    assert m["tocDisplay"] == "none" and m["broken"] == [] and m["scrollWidth"] <= m["innerWidth"]
    # The offline checks get the same page: banner amber for warnings only.
    result = make_result("check-home", LONG_PATH, [make_finding("sys-path-missing", f"{LONG_PATH} does not exist")],
                         tables=[kv_table("Python home", [("given", LONG_PATH), ("what it is", "venv-root")])])
    path = tmp_path / "offline.html"
    path.write_text(render_offline(result, "html"), encoding="utf-8")
    page = browser.open(path.as_uri(), 400, 900)
    m = page.evaluate(MEASURE)
    assert m["banner"]["background"] == "rgb(255, 241, 194)" and "0 errors, 1 warning, 0 info" in m["banner"]["text"]
    assert m["broken"] == [] and m["scrollWidth"] <= m["innerWidth"] and [c["code"] for c in m["cards"]] == ["sys-path-missing"]


def test_page_is_self_contained_with_the_probes_policy(page_file):
    from venvprobe.render.html import CSP
    from venvprobe.probe.core import _BASE_HEADERS

    text = page_file.read_text(encoding="utf-8")
    header = dict(_BASE_HEADERS)["Content-Security-Policy"]
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in text
    assert set(CSP.split("; ")) <= set(header.split("; "))  # the same policy (frame-ancestors: header only)
    assert "<script" not in text and "src=" not in text and "<link" not in text and "@import" not in text
