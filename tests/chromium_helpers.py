"""Drive Debian's headless Chromium over the DevTools protocol on a pipe (standard library only).

``--remote-debugging-pipe`` makes Chromium read NUL-terminated JSON commands
from fd 3 and write replies and events to fd 4: no port, no websocket, no
driver package.  :class:`Chromium` opens pages in a fresh profile, sets the
viewport, evaluates layout-measuring JavaScript (the page itself runs none:
DevTools evaluation is not page script) and takes screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from typing import Any, Dict, Optional

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe"]


def chromium_binary() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium with a private profile; stop() ends it by pid."""

    def __init__(self, binary: str, timeout: float = 60.0):
        self.profile = tempfile.mkdtemp(prefix="venvprobe-chromium-")
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the pipe ends on the fds Chromium expects
            # Via fresh copies: an end may already be fd 3 or 4, and dup2(3, 3)
            # would leave it close-on-exec.
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        # Its chatter (dbus errors and the like, some KB per page) goes to a file: a pipe nobody reads
        # while the pages are driven would fill up and stall Chromium mid-test.
        self._stderr_path = os.path.join(self.profile, "chromium-stderr.log")
        self._stderr = open(self._stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            # close_fds would close 3 and 4 after preexec_fn wired them; the
            # only inheritable descriptors are those two (Python's are not).
            close_fds=False, preexec_fn=wire,
            env=dict(os.environ, HOME=self.profile),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list = []

    # -- protocol -----------------------------------------------------------

    def send(self, method: str, params: Optional[dict] = None, session: Optional[str] = None) -> Dict[str, Any]:
        self._id += 1
        msg: Dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        wanted = self._id
        while True:
            reply = self._read()
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self) -> Dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"no answer from Chromium (exit {self.proc.poll()}): {self.stderr_tail()!r}")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise TimeoutError("Chromium closed the DevTools pipe")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def stderr_tail(self, limit: int = 2000) -> bytes:
        try:
            with open(self._stderr_path, "rb") as fh:
                return fh.read()[-limit:]
        except OSError:
            return b""

    def wait_event(self, method: str, session: str) -> Dict[str, Any]:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            ev = self._read()
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            self.events.append(ev)

    # -- pages --------------------------------------------------------------

    def open(self, url: str, width: int, height: int = 900) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.resize(width, height)
        self.send("Page.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return page

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def resize(self, width: int, height: int) -> None:
        self.browser.send("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
                          session=self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: str, height: Optional[int] = None) -> None:
        """A PNG of the page's top *height* CSS pixels (the whole page when None)."""
        metrics = self.browser.send("Page.getLayoutMetrics", session=self.session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width = int(metrics.get("cssLayoutViewport", metrics.get("layoutViewport"))["clientWidth"])
        full = int(size["height"])
        clip = {"x": 0, "y": 0, "width": width, "height": min(full, height) if height else full, "scale": 1}
        data = self.browser.send("Page.captureScreenshot",
                                 {"format": "png", "clip": clip, "captureBeyondViewport": True},
                                 session=self.session)["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
