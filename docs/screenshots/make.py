"""Regenerate the screenshots in this directory: python docs/screenshots/make.py (from the repository root).

They show tests/sample_reports.py's report (2 errors, 3 warnings, 1 info) as
Debian's headless Chromium draws it, the way tests/test_html_browser.py checks it.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

from chromium_helpers import Chromium, chromium_binary  # noqa: E402
from sample_reports import sample_report  # noqa: E402
from venvprobe.render import render  # noqa: E402

page = os.path.join(HERE, "report.html")
with open(page, "w", encoding="utf-8") as fh:
    fh.write(render(sample_report(), "html"))
browser = Chromium(chromium_binary())
try:
    for width, height in ((1400, 1000), (400, 1500)):
        browser.open("file://" + page, width, 900).screenshot(os.path.join(HERE, f"report-{width}.png"), height)
finally:
    browser.stop()
    os.unlink(page)
