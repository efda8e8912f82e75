"""A hostile probe URL cannot hold the CLI past --timeout (issue 15, "every read bounded").

The server is real: a TCP listener on 127.0.0.1 that drips the status line,
drips the headers, or repeats ``100 Continue`` forever, one small write at a
time, each well inside any per-read socket timeout.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from report_helpers import venvprobe_cli

TIMEOUT = 1.5
# The CLI's own start-up and the process spawn under a loaded 2-core machine.
SLACK = 6.0

_MODES = {
    # one byte of the status line every 0.1 s, for ever
    "drip-status": (b"", b"HTTP/1.1 200 OK\r\n" * 10000, 1),
    # a valid status line, then an endless header dripped a few bytes at a time
    "drip-headers": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", b"X-Slow: " + b"a" * 60 + b"\r\n", 4),
    # a 100 Continue every 0.1 s: http.client skips them in a loop
    "continue": (b"", b"HTTP/1.1 100 Continue\r\n\r\n", 0),
    # headers promise a JSON body that then arrives one byte at a time
    "drip-body": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
                  b" " * 100000, 1),
}
# An error answer whose body tries to drive the terminal of whoever reads the error line.
HOSTILE_BODY = "\x1b[2J\x1b]0;owned\x07\u202eevil\r\nsecond line\x9b1m".encode()


class HostileServer:
    def __init__(self, mode: str) -> None:
        self.head, self.body, self.step = _MODES[mode]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/_venvprobe/"

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                conn.recv(65536)  # the request
                conn.sendall(self.head)
                pos = 0
                while not self.stop.is_set():
                    if self.step:
                        chunk = self.body[pos:pos + self.step]
                        pos = (pos + self.step) % len(self.body)
                    else:
                        chunk = self.body
                    conn.sendall(chunk)
                    time.sleep(0.1)
            except OSError:
                pass  # the client gave up: what we want

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for t in self.threads:
            t.join(timeout=2)


@pytest.fixture(params=sorted(_MODES))
def hostile(request):
    server = HostileServer(request.param)
    yield server
    server.close()


def _run(*args):
    start = time.monotonic()
    res = venvprobe_cli(*args, timeout=60)
    return res, time.monotonic() - start


def test_fetch_is_cut_at_the_deadline(hostile, tmp_path):
    res, took = _run("fetch", hostile.url, "--timeout", str(TIMEOUT), "--retries", "0", "-o", str(tmp_path / "r.json"))
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert err.count("\n") == 1 and "timeout" in err and "Traceback" not in err, err
    assert took < TIMEOUT + SLACK, took
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("command", ["compare", "diff", "snapshot"])
def test_other_url_commands_are_cut_at_the_deadline(command, tmp_path):
    server = HostileServer("drip-headers")
    try:
        exp = tmp_path / "e.toml"
        exp.write_text("[interpreter]\n")
        args = {"compare": ["compare", str(exp), server.url], "diff": ["diff", server.url, server.url],
                "snapshot": ["snapshot", server.url]}[command]
        res, took = _run(*args, "--timeout", str(TIMEOUT), "--retries", "0")
    finally:
        server.close()
    err = res.stderr.decode()
    assert res.returncode == 2, (res.stdout, err)
    assert "Traceback" not in err and took < TIMEOUT + SLACK, (took, err)
    if command != "compare":  # compare reports the unreachable target in its table
        assert err.count("\n") == 1, err


def test_remote_error_body_is_escaped(tmp_path):
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(HOSTILE_BODY)))
            self.end_headers()
            self.wfile.write(HOSTILE_BODY)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/_venvprobe/"
        res, _ = _run("fetch", url, "--retries", "0", "--timeout", "5")
    finally:
        server.shutdown()
        server.server_close()
    err = res.stderr.decode("utf-8")
    assert res.returncode == 2 and err.count("\n") == 1, err
    assert "HTTP 500" in err and "evil" in err
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in err), repr(err)
