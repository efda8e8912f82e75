"""The probe itself, free of any web framework.

:class:`Probe` answers one request given the WSGI environ.  The Flask app,
the Flask blueprint and the WSGI middleware are thin adapters around it, so
every way of mounting the probe behaves the same, and the middleware never
imports Flask into a host app that does not use it.

Reports are cached per interpreter (a Probe lives in one interpreter's
module state) for ``ttl`` seconds; identity is always live.

About 470 lines on purpose: the request path (access, routing, negotiation,
the caches that share one lock) is one flow read top to bottom; spread over
modules, a reader would need every file open to see what one request does.
"""

from __future__ import annotations

# Only modules every interpreter has loaded before any app code runs (os,
# sys) or that are built into it (_thread, time) are imported up front; the
# rest of the standard library is imported late, where needed, and what the
# request path imports is listed in venvprobe.probe.guard.PROBE_STDLIB.  An
# app's sys.path can shadow any module it has not imported yet, and this is
# the code that must still answer then.
import os
import sys
import time
from _thread import allocate_lock

from venvprobe.probe.config import ProbeConfig, environ_get
from venvprobe.probe.security import authorize
from venvprobe.vocab import IDENTITY_SCHEMA_NAME, VIEWS, section

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing pulls in re, collections, functools...: never at run time
    from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

    from venvprobe.collect.collector import Collector

# Sub-resources and the report sections they show.
SECTION_PATHS = {name: (name,) for name in VIEWS}
FORMATS = {"text": "text/plain; charset=utf-8", "json": "application/json",
           "html": "text/html; charset=utf-8", "markdown": "text/markdown; charset=utf-8"}
_ACCEPT_MAP = {"application/json": "json", "text/html": "html", "application/xhtml+xml": "html",
               "text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text", "*/*": "text",
               "text/*": "text", "application/*": "json"}
# Every answer carries these (added by respond()).
_BASE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    # The HTML page is self-contained: no script, no external anything; no page may frame any answer.
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
]
# Only a document that can make requests (HTML) could leak a Referer.  Not sent on the
# other answers: under gunicorn every response header costs ~9K instructions of Python
# per request (Response.process_headers/send_headers), measured on the cached report.
_HTML_HEADERS = _BASE_HEADERS + [("Referrer-Policy", "no-referrer")]
_SECURITY_NAMES = frozenset(name.lower() for name, _ in _HTML_HEADERS)


class Response:
    """One answer: status line, headers, body (a plain class: ``dataclasses`` imports ``inspect``)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: str, headers: List[Tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body


class _Cache:
    def __init__(self) -> None:
        self.report: Optional[dict] = None
        self.made_at = 0.0
        self.lock = allocate_lock()
        # Rendered bodies of `report`, by (format, sections): rendering the full
        # text page costs far more than answering a request, so a cached
        # report is rendered once per format, not once per request.
        self.rendered: Dict[Tuple[str, Optional[Tuple[str, ...]]], bytes] = {}
        self.rendered_for: Optional[dict] = None


def parse_query(query: str) -> Dict[str, List[str]]:
    """``parse_qs`` without ``urllib.parse`` (which imports ``re``): name -> values, blanks kept."""
    out: Dict[str, List[str]] = {}
    for part in query.replace(";", "&").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        out.setdefault(_unquote(name), []).append(_unquote(value))
    return out


def _unquote(text: str) -> str:
    raw = text.replace("+", " ").encode("utf-8", "surrogateescape")
    if b"%" not in raw:
        return raw.decode("utf-8", "replace")
    pieces = raw.split(b"%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        try:
            out.append(bytes((int(piece[:2], 16),)) + piece[2:] if len(piece) >= 2 else b"%" + piece)
        except ValueError:
            out.append(b"%" + piece)
    return b"".join(out).decode("utf-8", "replace")


def negotiate(environ: Mapping[str, object], query: Mapping[str, List[str]]) -> Optional[str]:
    """The response format: ?format= wins, then the Accept header, else text (curl sends */*)."""
    given = query.get("format")
    asked = given[0] if given else None
    if asked:
        return asked if asked in FORMATS else None
    accept = environ.get("HTTP_ACCEPT")
    if not isinstance(accept, str) or not accept.strip():
        return "text"
    # A server sees few distinct Accept headers (curl's */*, a browser's): each is parsed once.
    plain = accept.__class__ is str
    if plain:
        known = _NEGOTIATED.get(accept)
        if known is not None:
            return known
    fmt = _negotiate_accept(accept)
    if plain and len(accept) <= 1024:
        if len(_NEGOTIATED) >= 256:
            _NEGOTIATED.clear()
        _NEGOTIATED[accept] = fmt
    return fmt


_NEGOTIATED: Dict[str, str] = {}  # Accept header -> format


def _negotiate_accept(accept: str) -> str:
    choices = []
    for position, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        fmt = _ACCEPT_MAP.get(media.lower())
        if fmt and q > 0:
            # Prefer explicit types over wildcards at equal q, then header order.
            choices.append((-q, media.endswith("*"), position, fmt))
    return sorted(choices)[0][3] if choices else "text"


class Probe:
    """Answers probe requests for the interpreter it lives in.

    ``mount`` says how the probe was mounted (``wsgi-script``, ``middleware``,
    ``blueprint``, ``serve``); it goes into the report because a probe mounted
    on its own URL may run in a different interpreter than the app.
    """

    def __init__(self, config: Optional[ProbeConfig] = None, mount: str = "wsgi-script"):
        self.config = config or ProbeConfig()
        self.mount = mount
        self._cache = _Cache()
        self._identity_collector: Optional[Collector] = None
        # (redact key, interpreter values) -> their scrubbed "interpreter" and "probe" parts.
        self._identity_scrubbed: Optional[Tuple[tuple, dict, dict]] = None
        # format -> (scrubbed parts, identity section, the page's bytes around its timestamp or None,
        # X-Venvprobe-Pid/Interpreter):
        # /identity's answer, kept while the identity section is equal and the interpreter part the same object.
        self._identity_answers: Dict[str, tuple] = {}
        # (report, its X-Venvprobe-* headers): a cached report answers many requests.
        self._report_headers: Optional[Tuple[dict, List[Tuple[str, str]]]] = None

    # -- report building -------------------------------------------------------

    def report(self, fresh: bool = False, ttl: float = 10.0, redact_key: Optional[str] = None) -> dict:
        """The analysed report of this interpreter, from cache when younger than *ttl*."""
        cache = self._cache
        now = time.monotonic()
        if not fresh and cache.report is not None and now - cache.made_at < ttl:
            return cache.report
        with cache.lock:
            # Another thread may have rebuilt it while we waited for the lock.
            if not fresh and cache.report is not None and time.monotonic() - cache.made_at < ttl:
                return cache.report
            report = self._build(redact_key)
            cache.report, cache.made_at = report, time.monotonic()
            return report

    def _build(self, redact_key: Optional[str]) -> dict:
        from venvprobe import __version__
        from venvprobe.collect.collector import collect
        from venvprobe.analyze import analyze

        # The probe never imports psutil (nor anything else outside the
        # standard library): a C extension built for another Python, or one a
        # sub-interpreter refuses, must not take the probe down with the app.
        key = redact_key or self.config.redact_key or _process_key()
        report = collect({"redact_key": key, "use_psutil": False})
        report["probe"] = {"mount": self.mount, "version": __version__, "own_scripts": self._own_scripts(),
                           "stdlib_shadowed": _stdlib_shadowed()}
        report["findings"] = analyze(report)
        return report

    def _own_scripts(self) -> List[str]:
        """Files of the mod_wsgi/uWSGI script modules whose ``application`` is this probe's own app.

        Lets the analysis tell the probe's one-line script (``from venvprobe.wsgi
        import application``) from the app's scripts in the same interpreter.
        """
        from venvprobe.collect.common import WSGI_SCRIPT_PREFIXES

        own = []
        for name, module in list(sys.modules.items()):
            if not name.startswith(WSGI_SCRIPT_PREFIXES) or module is None:
                continue
            app = getattr(module, "application", None)
            extensions = getattr(app, "extensions", None)
            if isinstance(extensions, dict) and extensions.get("venvprobe") is self:
                own.append(str(getattr(module, "__file__", None) or name))
        return sorted(own)

    def identity(self) -> dict:
        """Cheap, always-live view: which process and interpreter answered."""
        ident, scrubbed = self._identity_parts()
        return self._identity_data(ident, scrubbed, _iso_now())

    @staticmethod
    def _identity_data(ident: dict, scrubbed: tuple, stamp: str) -> dict:
        from venvprobe.collect.common import SCHEMA_VERSION

        # The timestamp is put in unscrubbed: a timestamp hides nothing, and the
        # reused masker would otherwise remember one new string per request.  The
        # identity comes masked from the collector's cache (masked once, not per request).
        return {
            # Its own schema name: a saved /identity is not a report (`report --input` says so).
            "schema": {"name": IDENTITY_SCHEMA_NAME, "version": SCHEMA_VERSION},
            "generated_at": stamp,
            "identity": ident,
            "interpreter": dict(scrubbed[1]),
            "probe": dict(scrubbed[2]),
        }

    def _identity_parts(self) -> Tuple[dict, tuple]:
        """(the masked identity section, (live values, masked interpreter part, masked probe part))."""
        key = self.config.redact_key or _process_key()
        # One collector for every /identity request: its masker remembers the
        # strings it has scrubbed, which repeat on every request.
        collector = self._identity_collector
        if collector is None or collector.options.get("redact_key") != key:
            from venvprobe.collect.collector import Collector

            collector = self._identity_collector = Collector({"redact_key": key})
        # The interpreter part is masked once per value (walking it with the
        # masker cost a quarter of a request); the masker is deterministic.
        live = (key, sys.version_info[:3], sys.prefix, sys.base_prefix, sys.executable, self.mount)
        scrubbed = self._identity_scrubbed
        if scrubbed is None or scrubbed[0] != live:
            parts = collector.masker.scrub({
                "interpreter": {"version": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix,
                                "base_prefix": sys.base_prefix, "in_venv": sys.prefix != sys.base_prefix,
                                "executable": sys.executable},
                "probe": {"mount": self.mount},
            })
            scrubbed = self._identity_scrubbed = (live, parts["interpreter"], parts["probe"])
        return collector.identity_masked(), scrubbed

    def _identity_answer(self, fmt: str) -> Response:
        """/identity in *fmt*: the page laid out once per content, the timestamp put in per request.

        The same bytes and headers as rendering identity() each time, without
        building and comparing the whole page's content per request: only the
        identity section (pid, ppid, ...) is compared by value; the interpreter
        part is compared by object (it is replaced whenever one of its values
        changes).  Laying out the page cost more than the rest of the request.
        """
        ident, scrubbed = self._identity_parts()
        stamp = _iso_now()
        cached = self._identity_answers.get(fmt)
        if cached is None or cached[0] is not scrubbed or cached[1] != ident:
            page = self._identity_render(self._identity_data(ident, scrubbed, self._STAMP), fmt)
            # The page's bytes before and after the timestamp (a page with a non-ASCII
            # character was replaced and encoded from UCS-2 per request: 0.7 us).
            parts = page.encode("utf-8").split(self._STAMP.encode("ascii"))
            # Escaped, or the content holds the placeholder: render each time.
            halves = (parts[0], parts[1]) if len(parts) == 2 else None
            cached = (scrubbed, ident, halves, _own_headers(section({"identity": ident}, "identity"), None))
            self._identity_answers[fmt] = cached
        halves = cached[2]
        if halves is None or len(stamp) != len(self._STAMP):  # (a year past 9999 would change the layout)
            body = self._identity_render(self._identity_data(ident, scrubbed, stamp), fmt).encode("utf-8")
        else:
            body = halves[0] + stamp.encode("ascii") + halves[1]
        return Response("200 OK", [("Content-Type", FORMATS[fmt]), *cached[3], ("X-Venvprobe-Generated", stamp)], body)

    # -- request handling ----------------------------------------------------------

    def handle(self, environ: Mapping[str, object], subpath: str) -> Response:
        """Answer one request for *subpath* (relative to the probe's root)."""
        config = self.config.resolve(environ)
        allowed, reason = authorize(environ, config)
        if not allowed:
            _log(environ, f"venvprobe: denied {environ.get('REMOTE_ADDR')}: {reason}")
            return _plain("404 Not Found", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            resp = _plain("405 Method Not Allowed", b"venvprobe answers GET and HEAD only\n")
            resp.headers.append(("Allow", "GET, HEAD"))
            return resp
        qs = environ.get("QUERY_STRING")
        query = parse_query(str(qs)) if qs else {}
        fmt = negotiate(environ, query)
        if fmt is None:
            return _plain("400 Bad Request", ("unknown format; use one of: " + ", ".join(FORMATS) + "\n").encode())
        name = subpath.strip("/")
        fresh = (query.get("fresh") or ["0"])[0] not in ("", "0", "false", "no") if query else False
        if name == "metrics":
            report = self.report(fresh=fresh, ttl=config.ttl)
            body = self._cached_body(report, "metrics", None)
            return self._ok(body, "text/plain; version=0.0.4; charset=utf-8", report)
        if name == "health":
            from venvprobe.probe import health

            report = self.report(fresh=fresh, ttl=config.ttl)
            status, body, content_type = health.answer(report, query, fmt)
            resp = self._ok(body, content_type, report)
            return Response(status, resp.headers, body)
        if name == "identity":
            return self._identity_answer(fmt)
        if name and name not in SECTION_PATHS:
            return _plain("404 Not Found", b"Not Found\n")
        report = self.report(fresh=fresh, ttl=config.ttl)
        body = self._cached_body(report, fmt, SECTION_PATHS.get(name))
        return self._ok(body, FORMATS[fmt], report)

    # Same shape as every generated_at (_iso_now): the page's layout does not change with it.
    _STAMP = "0000-00-00T00:00:00.000Z"

    @staticmethod
    def _identity_render(data: dict, fmt: str) -> str:
        if fmt == "json":
            from venvprobe.collect.jsonout import dumps

            return dumps(data)
        from venvprobe.render import render

        return render(data, fmt, ["identity"], stdlib_only=True)

    def _render(self, data: dict, fmt: str, sections: Optional[Iterable[str]], report: dict) -> Response:
        from venvprobe.render import render

        body = render(data, fmt, list(sections) if sections else None, stdlib_only=True).encode("utf-8")
        return self._ok(body, FORMATS[fmt], report)

    def _cached_body(self, report: dict, fmt: str, sections: Optional[Tuple[str, ...]]) -> bytes:
        """The rendered body of *report*, rendered at most once per (format, sections)."""
        cache = self._cache
        if cache.rendered_for is not report:
            # A new report (rebuilt after the TTL or ?fresh=1): drop old bodies.
            # Readers holding the old report still render it correctly below.
            cache.rendered, cache.rendered_for = {}, report
        rendered = cache.rendered
        key = (fmt, tuple(sections) if sections else None)
        body = rendered.get(key)
        if body is None:
            if fmt == "metrics":
                from venvprobe.probe.metrics import render_metrics

                body = render_metrics(report).encode("utf-8")
            else:
                from venvprobe.render import render

                body = render(report, fmt, list(sections) if sections else None, stdlib_only=True).encode("utf-8")
            if cache.rendered_for is report:
                rendered[key] = body
        return body

    def _ok(self, body: bytes, content_type: str, report: dict) -> Response:
        cached = self._report_headers
        if cached is not None and cached[0] is report:
            own = cached[1]
        else:
            own = _own_headers(section(report, "identity"), report)
            if report is self._cache.report:  # a cached report is never changed once built
                self._report_headers = (report, own)
        return Response("200 OK", [("Content-Type", content_type)] + own, body)

    # -- WSGI --------------------------------------------------------------------------

    def respond(self, environ: Mapping[str, object], subpath: str) -> Response:
        """:meth:`handle` with the security headers every answer carries; a failure is a 500 from the probe only.

        Every adapter (WSGI middleware, Flask) answers through this one method.
        """
        try:
            resp = self.handle(environ, subpath)
        except Exception as exc:
            resp = self._failure(environ, exc)
        # handle() and _failure() make a new Response, with a new header list, per answer.
        resp.headers += _security_headers(resp.headers)
        return resp

    def _failure(self, environ: Mapping[str, object], exc: BaseException) -> Response:
        """The probe's own answer to a failure: the broken stdlib module named (to allowed clients), else a 500."""
        try:
            from venvprobe.probe import guard
        except Exception:
            guard = None  # type: ignore[assignment]
        try:
            allowed = authorize(environ, self.config.resolve(environ))[0]
        except Exception:  # the access rules are what broke: the guard's stricter rules decide
            try:
                allowed = guard is not None and guard.fallback_allowed(environ)
            except Exception:
                allowed = False
        try:
            status, headers, body = guard.failure(environ, exc, allowed)
        except Exception:
            status, headers, body = "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], \
                b"venvprobe: internal error (details in the server log)\n"
        # The guard carries its own security headers (it also answers when the probe cannot be
        # imported); respond() adds them to every answer, so they are not sent twice.
        return Response(status, [h for h in headers if h[0].lower() not in _SECURITY_NAMES], body)

    def wsgi(self, environ: dict, start_response: Callable, subpath: str) -> List[bytes]:
        """Run :meth:`respond` as a WSGI call."""
        resp = self.respond(environ, subpath)
        headers = resp.headers  # a new list per answer (respond)
        headers.append(("Content-Length", str(len(resp.body))))
        start_response(resp.status, headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [resp.body]


class ProbeApp:
    """The probe as a WSGI application of its own, served at its root (no web framework).

    ``venvprobe.wsgi.application`` is one; so is the single file of
    ``venvprobe probe-script``.
    """

    def __init__(self, config: Optional[ProbeConfig] = None, mount: str = "wsgi-script"):
        self.probe = Probe(config, mount=mount)
        # How the report tells the probe's own WSGI script from the app's
        # scripts in the same interpreter (see Probe._own_scripts).
        self.extensions = {"venvprobe": self.probe}

    def __call__(self, environ: dict, start_response: Callable) -> List[bytes]:
        return self.probe.wsgi(environ, start_response, split_path(environ))


def _stdlib_shadowed() -> List[dict]:
    """The probe's own standard-library modules that are (or would be) loaded from the app's files."""
    try:
        from venvprobe.probe.guard import PROBE_STDLIB, shadowed

        names = PROBE_STDLIB + tuple(n for n in list(sys.modules) if n.startswith("_sysconfigdata"))
        return [{"module": name, "file": path} for name, path in shadowed(names)]
    except Exception as exc:
        return [{"error": "%s: %s" % (type(exc).__name__, exc)}]


def _own_headers(ident: Optional[dict], report: Optional[dict]) -> List[Tuple[str, str]]:
    """X-Venvprobe-Pid and -Interpreter from an identity section; -Generated from *report* when given."""
    ident = ident or {}
    own = [("X-Venvprobe-Pid", str(ident["pid"] if "pid" in ident else os.getpid())),
           ("X-Venvprobe-Interpreter", str(ident.get("interpreter_id")))]
    if report is not None:
        own.append(("X-Venvprobe-Generated", str(report.get("generated_at"))))
    return own


# Content-Type -> the security headers of an answer of that type (the probe's own types, and any
# other type met, bounded).
_SECURITY_BY_TYPE: Dict[str, List[Tuple[str, str]]] = {}


def _security_headers(headers: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """The security headers for an answer with *headers*: Referrer-Policy only on HTML (or an answer of no type)."""
    # Every probe answer states its type first: one lookup for the usual case.
    if headers and headers[0][0] == "Content-Type" and headers[0][1].__class__ is str:
        known = _SECURITY_BY_TYPE.get(headers[0][1])
        if known is not None:
            return known
    for name, value in headers:
        if name.__class__ is str and name.lower() == "content-type":
            if value.__class__ is str:
                known = _SECURITY_BY_TYPE.get(value)
                if known is not None:
                    return known
            media = str(value).split(";", 1)[0].strip().lower()
            found = _HTML_HEADERS if media in ("text/html", "application/xhtml+xml") else _BASE_HEADERS
            if value.__class__ is str and len(_SECURITY_BY_TYPE) < 64:
                _SECURITY_BY_TYPE[value] = found
            return found
    return _HTML_HEADERS


def _plain(status: str, body: bytes) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], body)


def _log(environ: Mapping[str, object], message: str) -> None:
    stream = environ.get("wsgi.errors")
    try:
        if stream is not None:
            stream.write(message if message.endswith("\n") else message + "\n")  # type: ignore[attr-defined]
            stream.flush()  # type: ignore[attr-defined]
    except Exception:
        pass


_PROCESS_KEY: Dict[str, str] = {}
# (second, its "YYYY-MM-DDTHH:MM:SS" in UTC): strftime once per second, not per /identity request.
_SECOND: Tuple[int, str] = (-1, "")


def _iso_now() -> str:
    """The collector's ``_iso_now()`` (UTC, milliseconds, ``Z``)."""
    global _SECOND
    now = time.time()
    second, text = _SECOND
    if int(now) != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        _SECOND = (int(now), text)
    millis = _MILLIS or _make_millis()
    return text + millis[int((now % 1) * 1000)]


# ".000Z" ... ".999Z": no formatting per request; made on first use (not in every worker that mounts the probe).
_MILLIS: Tuple[str, ...] = ()


def _make_millis() -> Tuple[str, ...]:
    global _MILLIS
    _MILLIS = tuple(".%03dZ" % ms for ms in range(1000))
    return _MILLIS


def _process_key() -> str:
    """Redaction key when none is configured: from the environment or random per process.

    A random key still hides secrets; configure VENVPROBE_REDACT_KEY to make
    marks comparable across processes and hosts.
    """
    key = environ_get("VENVPROBE_REDACT_KEY")
    if key:
        return key
    if "key" not in _PROCESS_KEY:
        _PROCESS_KEY["key"] = os.urandom(16).hex()
    return _PROCESS_KEY["key"]


def split_path(environ: Mapping[str, object]) -> str:
    """The request path relative to the mount point (PATH_INFO)."""
    path = environ.get("PATH_INFO")
    return path if isinstance(path, str) else "/"
