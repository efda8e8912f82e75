"""One report from a probe URL, with the standard library: deadline, size cap, retries, TLS, token.

- ``Accept: application/json``, an optional bearer token that never follows a
  redirect to another host, TLS verification (``--cacert`` or, with a
  warning, ``--insecure``);
- one deadline for connecting, the status line, the headers and the body,
  which also catches a server that drips bytes (``_DeadlineSocket``);
- a cap on how much is read, and an HTML page or a log refused on its first bytes;
- retries with backoff for transient errors, honouring a short ``Retry-After``.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, List, Optional, Tuple

from venvprobe.errors import InputError
from venvprobe.fleet.options import TOKEN_ENV, FetchError, FetchOptions

# How much of a response that is not JSON we read to describe it.
_SNIFF_BYTES = 64 << 10
_RETRY_STATUS = (429, 502, 503, 504)

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


__all__ = ["MAX_RETRY_AFTER", "fetch_json", "fetch_report", "is_url", "retry_after_seconds", "validate_report"]
