"""Get reports from many places at once: probe URLs, files, stdin, interpreters.

Used by ``venvprobe compare``, ``fetch``, ``diff`` and ``snapshot``.

- Probe URLs are fetched with the standard library (no extra dependency):
  ``Accept: application/json``, an optional bearer token, TLS verification
  (``--cacert`` or, with a warning, ``--insecure``), a per-target deadline
  that also catches servers that drip bytes, retries with backoff for
  transient errors, and a cap on how much is read.
- Targets are fetched concurrently by a bounded thread pool; ``samples``
  requests per URL are sent together so that they land on different worker
  processes (a busy sync worker cannot take the next one).
- :func:`distinct_workers` and :func:`worker_differences` tell which worker
  processes were seen and which ones differ from the rest: a worker that
  still runs old code after a partial reload shows up here.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from venvprobe.errors import InputError, VenvprobeError

TOKEN_ENV = "VENVPROBE_TOKEN"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 32 << 20
# How much of a response that is not JSON we read to describe it.
_SNIFF_BYTES = 64 << 10
_RETRY_STATUS = (429, 502, 503, 504)


class FetchError(VenvprobeError):
    """A target could not be read (unreachable, timeout, not a report): one line of text."""

    def __init__(self, message: str, retry: bool = False, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)


@dataclass
class FetchOptions:
    """How targets are fetched; defaults suit a deploy pipeline."""

    timeout: float = DEFAULT_TIMEOUT  # per request, whole response included
    retries: int = 1  # extra attempts after a transient failure
    backoff: float = 0.5  # seconds before the first retry, doubled after each
    cacert: Optional[str] = None
    insecure: bool = False
    token: Optional[str] = None
    max_bytes: int = DEFAULT_MAX_BYTES
    concurrency: int = 8
    samples: int = 1
    python_timeout: float = 60.0
    _context: Optional[ssl.SSLContext] = field(default=None, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for https targets (built once; FetchError for a bad --cacert)."""
        if self._context is None:
            if self.insecure:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                try:
                    ctx = ssl.create_default_context(cafile=self.cacert)
                except FileNotFoundError:
                    raise FetchError(f"--cacert {self.cacert!r} does not exist") from None
                except (ssl.SSLError, OSError) as exc:
                    raise FetchError(f"--cacert {self.cacert!r} is not a PEM certificate file: {exc}") from None
            self._context = ctx
        return self._context


# ---------------------------------------------------------------------------
# tokens


def resolve_token(token: Optional[str] = None, token_file: Optional[str] = None,
                  environ: Optional[Dict[str, str]] = None) -> Tuple[Optional[str], List[str]]:
    """The bearer token to send, and warnings to show.

    Order: ``--token`` (works, but warns: it shows in ``ps`` and shell
    history), ``--token-file``, then the ``VENVPROBE_TOKEN`` variable.
    """
    env = os.environ if environ is None else environ
    warnings: List[str] = []
    if token:
        warnings.append("--token puts the token on the command line, where `ps` and shell history show it; "
                        f"prefer ${TOKEN_ENV} or --token-file")
        return token.strip(), warnings
    if token_file:
        try:
            from venvprobe.safeio import open_regular

            with open_regular(token_file) as handle:
                data = handle.read(64 << 10)
            mode = os.stat(token_file).st_mode
        except FileNotFoundError:
            raise FetchError(f"--token-file {token_file!r} does not exist") from None
        except OSError as exc:
            raise FetchError(f"cannot read --token-file {token_file!r}: {exc.strerror or exc}") from None
        value = data.decode("utf-8", "replace").strip()
        if not value:
            raise FetchError(f"--token-file {token_file!r} is empty")
        if mode & 0o077:
            warnings.append(f"token file {token_file} is readable by other users (chmod 600 it)")
        return value, warnings
    value = (env.get(TOKEN_ENV) or "").strip()
    return (value or None), warnings


def _is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_warnings(urls: Sequence[str], token: Optional[str]) -> List[str]:
    """Warn for each host a token would be sent to in clear text."""
    if not token:
        return []
    out = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            out.append(f"the token is sent unencrypted to {parts.hostname} (http, not https)")
    return sorted(set(out))


# ---------------------------------------------------------------------------
# HTTP


def is_url(target: str) -> bool:
    """True for http:// and https:// targets."""
    return target.startswith(("http://", "https://"))


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never carry the token to another scheme, host or port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            old, moved = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if (old.scheme, old.netloc) != (moved.scheme, moved.netloc):
                new.headers.pop("Authorization", None)
        return new


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} kB"
    return f"{n} bytes"


class _DeadlineRaw(io.RawIOBase):
    """Reads from a socket, each one limited to what is left of one deadline.

    http.client re-arms the plain socket timeout on every recv, so a server
    that drips the status line, the headers or endless ``100 Continue``
    responses one byte at a time would never time out.  Every read of the
    response (status line, headers, body) goes through here instead.
    """

    def __init__(self, owner: "_DeadlineSocket", deadline: float) -> None:
        super().__init__()
        self._owner = owner
        self._sock = owner._sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._owner._release()

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline exceeded")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """The connection's socket, whose ``makefile`` hands out deadline-bound readers."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        # Like socket.makefile(): urllib closes the socket right after the
        # headers; the real close waits until the response's reader is closed.
        self._readers = 0
        self._close_wanted = False

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "b" not in mode or "w" in mode:
            return self._sock.makefile(mode, *args, **kwargs)  # type: ignore[call-overload]  # mode passed through
        self._readers += 1
        return io.BufferedReader(_DeadlineRaw(self, self._deadline))

    def _release(self) -> None:
        self._readers -= 1
        if self._close_wanted and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._close_wanted = True
        if self._readers <= 0:
            self._sock.close()

    def sendall(self, data: Any, *args: Any) -> Any:
        self._sock.settimeout(max(self._deadline - time.monotonic(), 0.001))
        return self._sock.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _deadline_connection(base: Any, deadline: float) -> Any:
    """*base* (an HTTP(S)Connection class) whose socket reads are bound to *deadline*.

    Any, not Type[HTTPConnection]: the socket is replaced by a duck-typed
    wrapper, which the stubs cannot express.
    """
    class Connection(base):  # type: ignore[misc]
        sock: Any  # the plain socket, then its deadline-bound wrapper

        def connect(self) -> None:
            self.timeout = max(deadline - time.monotonic(), 0.001)
            super().connect()
            self.sock = _DeadlineSocket(self.sock, deadline)

    return Connection


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: Any) -> Any:
        return self.do_open(_deadline_connection(http.client.HTTPConnection, self._deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext, deadline: float) -> None:
        super().__init__(context=context)
        self._tls = context
        self._deadline = deadline

    def https_open(self, req: Any) -> Any:
        # TLS is wrapped inside HTTPSConnection.connect(): the wrapper goes around the TLS socket.
        return self.do_open(_deadline_connection(http.client.HTTPSConnection, self._deadline), req,
                            context=self._tls)


def _set_timeout(resp: Any, seconds: float) -> None:
    # A slow server that sends a byte now and then would reset a plain
    # socket timeout forever; shrink it to what is left of the deadline.
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.01))
        except OSError:
            pass


def _describe_os_error(exc: BaseException, url: str, timeout: float) -> FetchError:
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError(f"{url}: TLS certificate not trusted ({exc.verify_message or exc}); "
                          "pass the CA with --cacert FILE (or --insecure to skip verification)")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"{url}: TLS error: {exc.reason or exc}")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return FetchError(f"{url}: no answer within {timeout:g} s (timeout)", retry=True)
    if isinstance(exc, ConnectionRefusedError):
        return FetchError(f"{url}: connection refused (nothing listening on {host}?)", retry=True)
    if isinstance(exc, socket.gaierror):
        return FetchError(f"{url}: cannot resolve host {urllib.parse.urlsplit(url).hostname!r}")
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return FetchError(f"{url}: connection closed by {host} ({type(exc).__name__})", retry=True)
    if isinstance(exc, OSError):
        return FetchError(f"{url}: cannot connect to {host}: {exc.strerror or exc}", retry=True)
    return FetchError(f"{url}: {exc}")


def _http_error(exc: urllib.error.HTTPError, url: str) -> FetchError:
    try:
        body = exc.read(2048).decode("utf-8", "replace")
    except Exception:
        body = ""
    try:
        detail = json.loads(body).get("error") or ""
    except Exception:
        detail = " ".join(body.split())[:160] if "html" not in (exc.headers.get("Content-Type") or "") else ""
    hint = {
        401: f"the probe wants a token: set ${TOKEN_ENV} or use --token-file",
        403: "the probe refused this client (token or allowed addresses)",
        404: "no probe here, or the probe refused this client (it answers 404 to a missing or wrong token "
             "and to addresses it does not allow); the probe answers at <app>/_venvprobe/; on the app's "
             "host, run this as the app's user so the token the probe made is sent, or use --token-file",
    }.get(exc.code, "")
    text = f"{url}: HTTP {exc.code} {exc.reason}"
    if detail:
        text += f": {detail}"
    if hint:
        text += f" ({hint})"
    return FetchError(text, retry=exc.code in _RETRY_STATUS or exc.code >= 500,
                      retry_after=retry_after_seconds(exc.headers.get("Retry-After")))


#: Longest Retry-After honoured: a misconfigured server must not stall a pipeline for a day.
MAX_RETRY_AFTER = 300.0


def retry_after_seconds(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds from a Retry-After header (delay-seconds or HTTP-date), capped; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def _with_format_json(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + "format=json"
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _get_once(url: str, options: FetchOptions) -> Tuple[bytes, str]:
    """One GET: (body, content type).  Enforces the deadline and the size cap."""
    headers = {"Accept": "application/json", "User-Agent": "venvprobe"}
    if options.token:
        headers["Authorization"] = f"Bearer {options.token}"
    request = urllib.request.Request(url, headers=headers)
    # One deadline for connecting, the status line, the headers and the body together.
    deadline = time.monotonic() + options.timeout
    handlers: List[Any] = [_RedirectHandler(), _DeadlineHTTPHandler(deadline)]
    if url.startswith("https://"):
        handlers.append(_DeadlineHTTPSHandler(options.ssl_context(), deadline))
    opener = urllib.request.build_opener(*handlers)
    try:
        resp = opener.open(request, timeout=options.timeout)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc, url) from None
    except urllib.error.URLError as exc:
        raise _describe_os_error(exc.reason if isinstance(exc.reason, BaseException) else exc, url, options.timeout) from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise _describe_os_error(exc, url, options.timeout) from None
    with resp:
        ctype = resp.headers.get_content_type()
        length = resp.headers.get("Content-Length")
        try:
            declared = int(length) if length else None
        except ValueError:
            declared = None
        if declared is not None and declared > options.max_bytes:
            raise FetchError(f"{url}: the answer is {_size(declared)}, more than the {_size(options.max_bytes)} cap "
                             "(raise it with --max-bytes if this really is a report)")
        json_like = "json" in ctype
        chunks: List[bytes] = []
        total = 0
        looks_json = json_like  # decided on the first non-blank byte otherwise
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FetchError(f"{url}: the answer did not arrive within {options.timeout:g} s (timeout)", retry=True)
                _set_timeout(resp, left)
                chunk = resp.read1(64 << 10) if hasattr(resp, "read1") else resp.read(64 << 10)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if not looks_json:
                    head = b"".join(chunks).lstrip()
                    if head[:1] in (b"{", b"["):
                        looks_json = True  # JSON under another content type: read it
                    elif head or total > _SNIFF_BYTES:
                        # An HTML page or a 5 MB log is refused on its first bytes,
                        # not after downloading it.
                        size = _size(declared) if declared is not None else f"at least {_size(total)}"
                        raise FetchError(f"{url}: answered {ctype} ({size}), not a JSON report")
                if total > options.max_bytes:
                    raise FetchError(f"{url}: the answer is more than the {_size(options.max_bytes)} cap; stopped "
                                     "reading (raise --max-bytes if this really is a report)")
        except (socket.timeout, TimeoutError):
            raise FetchError(f"{url}: the answer did not arrive within {options.timeout:g} s (timeout)", retry=True) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _describe_os_error(exc, url, options.timeout) from None
        body = b"".join(chunks)
        if not looks_json:
            raise FetchError(f"{url}: answered {ctype} ({_size(total)}), not a JSON report")
        return body, ctype


def fetch_json(url: str, options: FetchOptions) -> Any:
    """GET *url* and parse JSON, retrying transient failures; FetchError otherwise."""
    attempts = max(0, options.retries) + 1
    delay = options.backoff
    tried_format = False
    for attempt in range(attempts):
        try:
            body, ctype = _get_once(url, options)
        except FetchError as exc:
            html = "answered text/html" in str(exc)
            if html and not tried_format and "format=" not in url:
                # The probe's HTML page: ask for JSON explicitly once.
                tried_format = True
                try:
                    body, ctype = _get_once(_with_format_json(url), options)
                except FetchError as second:
                    raise FetchError(f"{second} — is this the probe's URL (e.g. https://host/_venvprobe/)?") from None
            elif exc.retry and attempt + 1 < attempts:
                # Retry-After, but briefly: waiting longer is compare --wait's job.
                time.sleep(max(delay, min(exc.retry_after or 0.0, 10.0)))
                delay *= 2
                continue
            else:
                raise
        from venvprobe.safeio import loads_json

        try:
            return loads_json(body.decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise FetchError(f"{url}: the answer ({ctype}, {_size(len(body))}) is not valid JSON: {exc}") from None
    raise FetchError(f"{url}: no answer")  # pragma: no cover - loop always returns or raises


def validate_report(report: Any, source: str) -> dict:
    """Check the schema header (FetchError: not a report, or a newer schema)."""
    from venvprobe.report_shape import check_report

    try:
        return check_report(report, source)
    except InputError as exc:
        raise FetchError(str(exc)) from None


def fetch_report(url: str, options: FetchOptions) -> dict:
    """One report from a probe URL."""
    return validate_report(fetch_json(url, options), url)


# ---------------------------------------------------------------------------
# targets


@dataclass(frozen=True)
class Target:
    """Where a report comes from: kind is "url", "file", "stdin" or "python"."""

    kind: str
    value: str

    @property
    def label(self) -> str:
        return {"stdin": "<stdin>", "python": f"python:{self.value}"}.get(self.kind, self.value)


def parse_targets(positional: Sequence[str], pythons: Sequence[str] = ()) -> List[Target]:
    """Targets from the command line: URLs, files, ``-``, ``python:PATH`` and ``--python`` interpreters."""
    targets = []
    for value in positional:
        if value.startswith("python:"):
            targets.append(Target("python", value[len("python:"):]))
        elif is_url(value):
            targets.append(Target("url", value))
        elif value == "-":
            targets.append(Target("stdin", value))
        else:
            targets.append(Target("file", value))
    targets += [Target("python", p) for p in pythons]
    if sum(t.kind == "stdin" for t in targets) > 1:
        raise FetchError("'-' (stdin) can be given only once")
    return targets


def _parse_report_text(text: str, source: str) -> dict:
    """report_shape.load_report_text, failing as a FetchError (a target that cannot be had)."""
    from venvprobe.report_shape import load_report_text

    try:
        return load_report_text(text, source)
    except InputError as exc:
        raise FetchError(str(exc)) from None


def load_target(target: Target, options: FetchOptions, stdin_text: Optional[str] = None) -> dict:
    """One report from *target* (FetchError when it cannot be had), secrets masked by value."""
    from venvprobe.redact import scrub_report

    return scrub_report(_load_target(target, options, stdin_text))


def _load_target(target: Target, options: FetchOptions, stdin_text: Optional[str] = None) -> dict:
    if target.kind == "url":
        return fetch_report(target.value, options)
    if target.kind == "stdin":
        return _parse_report_text(stdin_text or "", "<stdin>")
    if target.kind == "file":
        from venvprobe.safeio import read_text

        try:
            text = read_text(target.value, "report", limit=options.max_bytes)
        except InputError as exc:
            raise FetchError(str(exc)) from None
        return _parse_report_text(text, target.value)
    if target.kind == "python":
        from venvprobe.report import CollectError, collect_foreign

        try:
            return collect_foreign(target.value, timeout=options.python_timeout)
        except CollectError as exc:
            raise FetchError(str(exc).splitlines()[0] if str(exc) else "collection failed") from None
    raise FetchError(f"unknown target kind {target.kind!r}")


# ---------------------------------------------------------------------------
# workers


@dataclass
class Worker:
    """One distinct worker process (or sub-interpreter) seen behind a target."""

    label: str
    key: Tuple[Any, ...]
    report: dict
    seen: int = 1

    @property
    def started(self) -> float:
        value = (self.report.get("process") or {}).get("create_time") if isinstance(self.report.get("process"), dict) else None
        return float(value) if isinstance(value, (int, float)) else 0.0


def worker_key(report: dict) -> Tuple[Any, ...]:
    """(pid, interpreter id, process start): a pid reused after a restart is another worker."""
    ident = _dict(report.get("identity"))
    proc = _dict(report.get("process"))
    return (ident.get("pid"), ident.get("interpreter_id"), proc.get("create_time"))


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def distinct_workers(reports: Sequence[dict]) -> List[Worker]:
    """The distinct workers among *reports*, oldest process first (then by pid), with unique labels.

    Samples arrive concurrently, so sighting order is noise; start order is
    stable and puts a worker left over from before a reload first.
    """
    found: Dict[Tuple[Any, ...], Worker] = {}
    for report in reports:
        key = worker_key(report)
        if key in found:
            found[key].seen += 1
            continue
        pid, interp, _ = key
        label = f"pid {pid}" if pid is not None else f"worker {len(found) + 1}"
        if interp not in (None, 0):
            label += f"/interp {interp}"
        if any(w.label == label for w in found.values()):
            label += f"#{len(found) + 1}"
        found[key] = Worker(label, key, report)
    return sorted(found.values(), key=lambda w: (w.started, w.key[0] if isinstance(w.key[0], int) else 0))


def fingerprint(report: dict) -> Dict[str, Any]:
    """What must be equal across the workers of one deployment, by part.

    Per-request noise (pids, timestamps, which modules a request happened to
    import) is left out; what remains changes only with configuration or
    code: interpreter, identity, sys.path, distribution versions, finding
    codes, and source files changed since the worker started.
    """

    from venvprobe.vocab import section

    def sec(name: str) -> Any:
        return section(report, name)

    interp = _dict(sec("interpreter"))
    ident = _dict(sec("identity"))
    server = _dict(ident.get("server"))
    entries = (sec("sys_path") or {}).get("entries") or []
    from venvprobe.views import winning_distributions

    modules = sec("modules") or {}
    changed = sorted(str(m.get("name")) for m in modules.get("top_level") or []
                     if isinstance(m, dict) and (m.get("modified_after_start") or m.get("file_missing")))
    return {
        "interpreter": {k: interp.get(k) for k in ("executable", "prefix", "base_prefix", "version", "in_venv", "implementation")},
        "identity": {"server": server.get("kind"), "mode": server.get("mode"), "process_group": server.get("process_group"),
                     "application_group": server.get("application_group"), "main_interpreter": ident.get("main_interpreter"),
                     "user": _dict(sec("process")).get("user")},
        "sys_path": [e.get("path") for e in entries if isinstance(e, dict)],
        "distributions": {k: d.get("version") for k, d in sorted(winning_distributions(report).items())},
        "findings": sorted({str(f.get("code")) for f in report.get("findings") or [] if isinstance(f, dict)}),
        "code": changed,
    }


def _describe_part(part: str, mine: Any, theirs: Any) -> str:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        keys = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        shown = [f"{k} {mine.get(k, 'absent')} (others: {theirs.get(k, 'absent')})" for k in keys[:3]]
        return f"{part}: " + ", ".join(shown) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    if isinstance(mine, list) and isinstance(theirs, list):
        added = [x for x in mine if x not in theirs]
        removed = [x for x in theirs if x not in mine]
        if not added and not removed:
            return f"{part}: same entries, different order"
        bits = [f"+{x}" for x in added[:3]] + [f"-{x}" for x in removed[:3]]
        return f"{part}: " + ", ".join(str(b) for b in bits)
    return f"{part}: {mine} (others: {theirs})"


def worker_differences(workers: Sequence[Worker], ignore: Sequence[str] = ()) -> Dict[str, List[str]]:
    """{worker label: [what differs, ...]} for workers unlike the majority.

    The reference is the largest group of identical workers; on a tie, the
    group holding the most recently started worker (after a reload, new code
    is the intended state and old workers are the odd ones out).
    """
    if len(workers) < 2:
        return {}
    prints = []
    for w in workers:
        fp = fingerprint(w.report)
        for part in ignore:
            fp.pop(part, None)
        prints.append(fp)
    groups: Dict[str, List[int]] = {}
    for i, fp in enumerate(prints):
        groups.setdefault(json.dumps(fp, sort_keys=True, default=str), []).append(i)
    if len(groups) == 1:
        return {}
    ref_key = max(groups, key=lambda k: (len(groups[k]), max(workers[i].started for i in groups[k])))
    ref = prints[groups[ref_key][0]]
    out: Dict[str, List[str]] = {}
    for key, members in groups.items():
        if key == ref_key:
            continue
        for i in members:
            parts = [p for p in ref if prints[i].get(p) != ref.get(p)]
            out[workers[i].label] = [_describe_part(p, prints[i].get(p), ref.get(p)) for p in parts]
    return out


# ---------------------------------------------------------------------------
# many targets at once


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


__all__ = [
    "FetchError", "FetchOptions", "Target", "TargetResult", "Worker", "Progress", "TOKEN_ENV",
    "resolve_token", "token_warnings", "is_url", "fetch_json", "fetch_report", "validate_report",
    "parse_targets", "load_target", "gather", "distinct_workers", "worker_differences", "worker_key", "fingerprint",
]
