"""The probe's per-request shortcuts answer exactly as the plain computations they replace.

Each request used to re-read every setting through ``os.environ.get``, parse
REMOTE_ADDR with ``ipaddress``, re-mask the interpreter part of /identity and
lay out a repr of the page's content.  Now these are remembered; these tests
change every input between requests and compare with the plain answer.
"""

from __future__ import annotations

import io
import ipaddress
import os
import random
import sys
import time
from typing import Dict, List, Optional

import pytest

from venvprobe.probe import core, security
from venvprobe.probe.config import ProbeConfig, environ_get, find_default_token
from venvprobe.probe.core import Probe


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """A HOME of our own (the probe's default token lives under it) and no probe settings in the environment."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # ... or under $TMPDIR/venvprobe-<uid>: the machine's /tmp is shared with every other run.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    for name in ("VENVPROBE_TOKEN", "VENVPROBE_TOKEN_FILE", "VENVPROBE_ALLOW", "VENVPROBE_TTL",
                 "VENVPROBE_REDACT_KEY"):
        monkeypatch.delenv(name, raising=False)


def environ(addr: str = "127.0.0.1", token: Optional[str] = None, **extra: object) -> Dict[str, object]:
    env: Dict[str, object] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/identity", "QUERY_STRING": "", "SCRIPT_NAME": "",
        "REMOTE_ADDR": addr, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
    }
    if token is not None:
        env["HTTP_AUTHORIZATION"] = "Bearer " + token
    env.update(extra)
    return env


# -- os.environ, read straight from its store --------------------------------------------


def test_environ_get_follows_every_change_of_os_environ(monkeypatch):
    name = "VENVPROBE_TEST_ENVIRON_GET"
    monkeypatch.delenv(name, raising=False)
    assert environ_get(name) is None
    for value in ("plain", "", "ünïcödé ✓", "with=equals and spaces", "x" * 5000):
        monkeypatch.setenv(name, value)
        assert environ_get(name) == os.environ.get(name) == value
    os.environ.pop(name)
    assert environ_get(name) is None
    os.environ.update({name: "updated"})
    assert environ_get(name) == "updated"
    del os.environ[name]
    assert environ_get(name) is None


def test_environ_get_uses_a_replaced_os_environ(monkeypatch):
    """A test (or an app) that swaps os.environ for another mapping is read through that mapping."""
    monkeypatch.setenv("VENVPROBE_TEST_ENVIRON_GET", "original")
    monkeypatch.setattr(os, "environ", {"VENVPROBE_TEST_ENVIRON_GET": "replaced"})
    assert environ_get("VENVPROBE_TEST_ENVIRON_GET") == "replaced"
    assert environ_get("VENVPROBE_TEST_NOT_THERE") is None


# -- resolving the configuration -----------------------------------------------------------


def plain_resolve(config: ProbeConfig, env: Dict[str, object]):
    """The answer of a config that has never resolved anything before (nothing remembered)."""
    fresh = ProbeConfig(token=config.token, token_file=config.token_file, allow=config.allow, ttl=config.ttl,
                        redact_key=config.redact_key)
    return fresh.resolve(env)


def same(a, b) -> bool:
    return (a.token, a.networks, a.ttl, a.error, a.token_source, a.token_path) == \
        (b.token, b.networks, b.ttl, b.error, b.token_source, b.token_path)


def test_resolve_follows_settings_changed_between_requests(monkeypatch, tmp_path):
    config = ProbeConfig()
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    token_file.chmod(0o600)
    steps = [
        lambda: None,
        lambda: monkeypatch.setenv("VENVPROBE_ALLOW", "10.0.0.0/8"),
        lambda: monkeypatch.setenv("VENVPROBE_ALLOW", "10.0.0.0/8,192.168.0.0/16"),
        lambda: monkeypatch.setenv("VENVPROBE_ALLOW", "not-a-network"),
        lambda: monkeypatch.delenv("VENVPROBE_ALLOW"),
        lambda: monkeypatch.setenv("VENVPROBE_TTL", "3.5"),
        lambda: monkeypatch.setenv("VENVPROBE_TTL", "nonsense"),
        lambda: monkeypatch.setenv("VENVPROBE_TOKEN", "env-token"),
        lambda: monkeypatch.delenv("VENVPROBE_TOKEN"),
        lambda: monkeypatch.setenv("VENVPROBE_TOKEN_FILE", str(token_file)),
        lambda: token_file.write_text("rotated-token-longer\n"),
        lambda: monkeypatch.delenv("VENVPROBE_TOKEN_FILE"),
        lambda: setattr(config, "allow", ["127.0.0.1/32"]),
        lambda: config.allow.append("::1/128"),  # the same list object, changed in place
        lambda: setattr(config, "allow", None),
        lambda: setattr(config, "ttl", 0.0),
        lambda: setattr(config, "token", "code-token"),
    ]
    env_variants = [environ(), environ(VENVPROBE_ALLOW="172.16.0.0/12"), environ(VENVPROBE_TTL="7")]
    seen_tokens = set()
    for step in steps:
        step()
        for env in env_variants:
            got = config.resolve(env)
            assert same(got, plain_resolve(config, env)), step
            assert same(config.resolve(env), got)  # asked again: the same answer
            seen_tokens.add(got.token)
    assert {"env-token", "file-token", "rotated-token-longer", "code-token"} <= seen_tokens


def test_default_token_replaced_on_disk_is_the_one_that_counts():
    probe = Probe()
    token, path, error = find_default_token(create=True)
    assert token and path, error
    assert probe.respond(environ(token=token), "/identity").status == "200 OK"
    # Another length: the probe re-reads the file when its (mtime, inode, size) changes, and a rewrite
    # within one clock tick keeps mtime and inode.
    new = "f" * 80
    with open(path, "w") as handle:
        handle.write(new + "\n")
    assert probe.respond(environ(token=token), "/identity").status == "404 Not Found"
    assert probe.respond(environ(token=new), "/identity").status == "200 OK"


# -- the client address and proxy headers -------------------------------------------------


def plain_client_address(raw: object):
    if not isinstance(raw, str) or not raw or ":" in raw and raw.count(":") == 1:
        return None
    try:
        addr = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return None
    return getattr(addr, "ipv4_mapped", None) or addr


class OddStr(str):
    """A str subclass: never remembered (it may hash and compare as it likes)."""


ADDRESSES = ["127.0.0.1", "10.1.2.3", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1%eth0", "1.2.3.4:80",
             "", "localhost", "999.1.1.1", "2001:db8::1", "0.0.0.0", "127.000.000.001", " 127.0.0.1",
             "1" * 100, OddStr("10.9.9.9"), None, 12345, b"127.0.0.1"]


def test_client_address_is_the_parsed_remote_addr_every_time():
    for _ in range(3):  # the first round fills the cache, the others read it
        for raw in ADDRESSES:
            got = security.client_address({"REMOTE_ADDR": raw})
            assert got == plain_client_address(raw), raw
            assert security._client({"REMOTE_ADDR": raw}) == (got, got is not None and got.is_loopback)


def test_remembered_addresses_stay_bounded():
    for n in range(security._MAX_ADDRESSES * 2 + 5):
        raw = "10.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255)
        assert security.client_address({"REMOTE_ADDR": raw}) == ipaddress.ip_address(raw)
    assert len(security._ADDRESSES) <= security._MAX_ADDRESSES


def plain_proxy_headers(env) -> List[str]:
    return sorted(name for name in env if isinstance(name, str) and name.startswith("HTTP_") and (
        name in security.PROXY_HEADERS or name.startswith(security.PROXY_PREFIXES)))


def test_proxy_headers_found_as_before_in_random_environs():
    rng = random.Random(14)
    names = list(security.PROXY_HEADERS) + [p + "THING" for p in security.PROXY_PREFIXES] + [
        "HTTP_HOST", "HTTP_ACCEPT", "HTTP_USER_AGENT", "HTTP_AUTHORIZATION", "HTTP_X_REQUESTED_WITH", "HTTP_VIA2",
        "HTTP_FORWARDEDX", "REMOTE_ADDR", "PATH_INFO", "wsgi.input", "X_FORWARDED_FOR", "http_x_forwarded_for"]
    for _ in range(400):
        env: Dict[object, object] = {name: "v" for name in rng.sample(names, rng.randint(0, 12))}
        if rng.random() < 0.2:
            env[OddStr(rng.choice(names))] = "v"
        if rng.random() < 0.1:
            env[42] = "not a str key"
        assert security.proxy_headers(env) == plain_proxy_headers(env)


def test_proxied_request_from_loopback_is_still_refused():
    token = find_default_token(create=True)[0]
    probe = Probe()
    assert probe.respond(environ(token=token), "/").status == "200 OK"
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_VIA", "HTTP_X_ENVOY_ANYTHING", "HTTP_FORWARDED"):
        assert probe.respond(environ(token=token, **{header: ""}), "/").status == "404 Not Found"
        assert probe.respond(environ(token=token, **{OddStr(header): "1.2.3.4"}), "/").status == "404 Not Found"
    assert probe.respond(environ(addr="10.0.0.1", token=token), "/").status == "404 Not Found"


# -- /identity ---------------------------------------------------------------------------


def test_identity_follows_the_interpreter_values(monkeypatch):
    probe = Probe()
    before = probe.identity()
    monkeypatch.setattr(sys, "executable", "/opt/elsewhere/bin/python-sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2")
    after = probe.identity()
    assert after["interpreter"]["executable"] != before["interpreter"]["executable"]
    collector = probe._identity_collector
    whole = collector.masker.scrub(dict(after, identity=collector.identity()))
    assert after == dict(whole, generated_at=after["generated_at"])
    assert "A1b2C3d4E5f6G7h8I9j0K1l2" not in repr(after)  # masked by value
    monkeypatch.setenv("VENVPROBE_REDACT_KEY", "another-key")
    third = probe.identity()
    assert third["interpreter"]["executable"] != after["interpreter"]["executable"]  # another key, another mark


def test_identity_answers_are_copies():
    """A caller changing its answer does not change the next one."""
    probe = Probe()
    first = probe.identity()
    first["interpreter"]["prefix"] = "changed"
    first["probe"]["mount"] = "changed"
    second = probe.identity()
    assert second["interpreter"]["prefix"] != "changed" and second["probe"]["mount"] != "changed"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_identity_page_is_rendered_page_for_every_format(fmt):
    from venvprobe.collect.jsonout import dumps
    from venvprobe.render import render

    probe = Probe()
    token = find_default_token(create=True)[0]
    for _ in range(3):
        resp = probe.respond(environ(token=token, QUERY_STRING="format=" + fmt), "/identity")
        assert resp.status == "200 OK"
        stamp = dict(resp.headers)["X-Venvprobe-Generated"]
        data = dict(probe.identity(), generated_at=stamp)
        if fmt == "json":
            expected = dumps(data).encode("utf-8", "surrogatepass")
        else:
            expected = render(data, fmt, ["identity"], stdlib_only=True).encode("utf-8")
        assert resp.body == expected


def test_identity_content_holding_the_placeholder_is_rendered_each_time(monkeypatch):
    from venvprobe.render import render

    probe = Probe()
    monkeypatch.setattr(sys, "prefix", "/srv/" + Probe._STAMP)
    resp = probe._identity_answer("text")
    data = dict(probe.identity(), generated_at=dict(resp.headers)["X-Venvprobe-Generated"])
    page = resp.body
    assert page == render(data, "text", ["identity"], stdlib_only=True).encode("utf-8")
    assert page.count(data["generated_at"].encode()) >= 1 and Probe._STAMP.encode() in page


def test_timestamp_has_the_collectors_shape(monkeypatch):
    from venvprobe.collect.common import _iso_now as collector_iso_now

    for moment in (0.0, 1.0, 1.9995, 1700000000.123456, 1700000000.999, 1700000001.0005, 4102444799.999,
                   0.9999999999999999, 1.0 - 2**-53, 1700000000.9999998, 0.0005, 0.001):
        monkeypatch.setattr(time, "time", lambda moment=moment: moment)
        assert core._iso_now() == collector_iso_now()


def test_report_headers_follow_a_rebuilt_report():
    probe = Probe(ProbeConfig(ttl=3600.0))  # nothing expires between the requests, however slow the machine
    token = find_default_token(create=True)[0]
    first = dict(probe.respond(environ(token=token), "/").headers)
    assert dict(probe.respond(environ(token=token), "/").headers)["X-Venvprobe-Generated"] == \
        first["X-Venvprobe-Generated"]
    time.sleep(0.002)  # a new millisecond: a new generated_at
    rebuilt = dict(probe.respond(environ(token=token, QUERY_STRING="fresh=1"), "/").headers)
    assert rebuilt["X-Venvprobe-Generated"] == probe.report(ttl=3600.0)["generated_at"] != \
        first["X-Venvprobe-Generated"]
    assert rebuilt["X-Venvprobe-Pid"] == str(os.getpid())


def test_a_token_rotated_in_place_within_one_mtime_tick_is_not_kept(tmp_path) -> None:
    """The token cache keys on (mtime, inode, size): a rewrite in place with a token of the same
    length inside one clock tick kept the old token valid.  Young files are re-read instead."""
    from venvprobe.probe.config import ProbeConfig

    path = tmp_path / "token"
    path.write_text("a" * 40 + "\n")
    config = ProbeConfig(token_file=str(path))
    assert config._read_token(str(path))[0] == "a" * 40
    st = os.stat(path)
    with open(path, "r+") as handle:  # same inode, same size
        handle.write("b" * 40 + "\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same tick
    assert (os.stat(path).st_ino, os.stat(path).st_size, os.stat(path).st_mtime_ns) == \
        (st.st_ino, st.st_size, st.st_mtime_ns)
    assert config._read_token(str(path))[0] == "b" * 40
    # An old file is trusted by its stamp: one stat per request, no read.
    old = st.st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(old, old))
    assert config._read_token(str(path))[0] == "b" * 40
    with open(path, "r+") as handle:
        handle.write("c" * 40 + "\n")
    os.utime(path, ns=(old, old))
    assert config._read_token(str(path))[0] == "b" * 40  # the stamp says unchanged, as designed


# -- proxy headers, remembered per set of header names --------------------------------------


def test_proxy_headers_remembered_per_name_set_answer_as_the_plain_scan():
    """The same sets asked again (answered from the memo) and sets that join alike but differ."""
    rng = random.Random(1414)
    names = list(security.PROXY_HEADERS) + [p + "THING" for p in security.PROXY_PREFIXES] + [
        "HTTP_HOST", "HTTP_ACCEPT", "HTTP_AUTHORIZATION", "REMOTE_ADDR", "PATH_INFO", "wsgi.input", "HTTP_VIA2"]
    environs: List[Dict[object, object]] = []
    for _ in range(150):
        environs.append({name: "v" for name in rng.sample(names, rng.randint(0, 14))})
    # Keys holding the separator: {"a\nHTTP_VIA"} joins like {"a", "HTTP_VIA"}, and only one holds a proxy header.
    environs += [{"a\nHTTP_VIA": "v"}, {"a": "v", "HTTP_VIA": "v"}, {"HTTP_HOST\nHTTP_X_REAL_IP": "v"},
                 {"HTTP_HOST": "v", "HTTP_X_REAL_IP": "v"}, {}, {"": "v"}, {"\n": "v"}, {"": "v", "HTTP_VIA": "v"}]
    for _ in range(3):  # the first round fills the memo, the others read it
        for env in environs:
            got = security.proxy_headers(env)
            assert got == plain_proxy_headers(env), env
            got.append("changed by the caller")  # a copy: the memo is not touched
            assert security.proxy_headers(env) == plain_proxy_headers(env), env
    # The same names as str subclasses and next to a non-str key: the plain scan's answer every time.
    for env in environs[:40]:
        odd: Dict[object, object] = {OddStr(name): "v" for name in env}
        assert security.proxy_headers(odd) == plain_proxy_headers(odd)
        with_int = dict(env, **{})
        with_int[7] = "v"
        assert security.proxy_headers(with_int) == plain_proxy_headers(with_int)


def test_proxy_header_memo_stays_bounded():
    for n in range(security._MAX_PROXY_SEEN * 2 + 5):
        env = {"HTTP_HOST": "x", "HTTP_X_CUSTOM_%d" % n: "v", "REMOTE_ADDR": "127.0.0.1"}
        assert security.proxy_headers(env) == []
    assert len(security._PROXY_SEEN) <= security._MAX_PROXY_SEEN
    # Overlong names, or too many of them, are not remembered (a memo entry holds the names).
    huge = {"HTTP_" + "A" * 60: "v", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    many = dict({"HTTP_X_%d" % n: "v" for n in range(64)}, HTTP_VIA="")
    for env in (huge, many):
        for _ in range(2):
            assert security.proxy_headers(env) == plain_proxy_headers(env)
        assert tuple(env) not in security._PROXY_SEEN


def test_proxy_header_memo_refuses_unhashable_and_odd_keys():
    class Unhashable(dict):
        """A mapping whose keys come back as lists (not hashable)."""

        def __iter__(self):
            return iter([["HTTP_VIA"], "HTTP_X_REAL_IP"])

    assert security.proxy_headers(Unhashable()) == ["HTTP_X_REAL_IP"]
    odd = {OddStr("HTTP_X_FORWARDED_FOR"): "1.2.3.4", "HTTP_HOST": "h"}
    assert security.proxy_headers(odd) == ["HTTP_X_FORWARDED_FOR"]
    assert tuple(odd) not in security._PROXY_SEEN


def test_a_remembered_name_set_with_a_proxy_header_added_is_refused():
    token = find_default_token(create=True)[0]
    probe = Probe()
    plain = environ(token=token, HTTP_HOST="127.0.0.1", HTTP_ACCEPT="*/*")
    for _ in range(3):
        assert probe.respond(dict(plain), "/").status == "200 OK"
        assert probe.respond(dict(plain, HTTP_X_FORWARDED_FOR="127.0.0.1"), "/").status == "404 Not Found"
        assert probe.respond(dict(plain, HTTP_VIA=""), "/").status == "404 Not Found"


# -- settings read from os.environ in one go ------------------------------------------------


def test_resolve_reads_a_replaced_os_environ(monkeypatch):
    """An app (or a test) that swaps os.environ for another mapping: its settings count."""
    config = ProbeConfig()
    monkeypatch.setenv("VENVPROBE_TOKEN", "from-the-real-environ")
    assert config.resolve(environ()).token == "from-the-real-environ"
    monkeypatch.setattr(os, "environ", {"VENVPROBE_TOKEN": "from-the-replacement", "VENVPROBE_TTL": "4",
                                        "VENVPROBE_ALLOW": "10.0.0.0/8"})
    got = config.resolve(environ())
    assert (got.token, got.ttl, [str(n) for n in got.networks]) == ("from-the-replacement", 4.0, ["10.0.0.0/8"])
    assert same(got, plain_resolve(config, environ()))
    # The WSGI environ still wins over the process environment.
    assert config.resolve(environ(VENVPROBE_TOKEN="from-the-request", VENVPROBE_TTL="9")).token == "from-the-request"
    assert config.resolve(environ(VENVPROBE_TTL="9")).ttl == 9.0


def test_resolve_takes_a_setting_from_the_wsgi_environ_only_when_it_is_a_non_empty_str(monkeypatch):
    monkeypatch.setenv("VENVPROBE_TOKEN", "process-token")
    monkeypatch.setenv("VENVPROBE_TTL", "5")
    config = ProbeConfig()
    for value in ("", None, 42, b"bytes-token", OddStr("odd-token"), "request-token"):
        env = environ(VENVPROBE_TOKEN=value, VENVPROBE_TTL=value, VENVPROBE_ALLOW=value)
        got = config.resolve(env)
        assert same(got, plain_resolve(config, env)), value
    assert config.resolve(environ(VENVPROBE_TOKEN="")).token == "process-token"
    assert config.resolve(environ(VENVPROBE_TOKEN=OddStr("odd-token"))).token == "odd-token"


# -- /identity answered from its laid-out page ----------------------------------------------


def rendered_identity(data: dict, fmt: str) -> bytes:
    from venvprobe.collect.jsonout import dumps
    from venvprobe.render import render

    if fmt == "json":
        return dumps(data).encode("utf-8")
    return render(data, fmt, ["identity"], stdlib_only=True).encode("utf-8")


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_identity_answer_follows_every_change_of_its_content(monkeypatch, fmt):
    """Between requests the parent pid, the interpreter values and the modules loaded change:
    each answer is the page rendered from that moment's identity, with its headers."""
    probe = Probe()
    token = find_default_token(create=True)[0]
    steps = [
        lambda: None,
        lambda: monkeypatch.setattr(os, "getppid", lambda: 4242),  # the parent died: a new ppid
        lambda: monkeypatch.setattr(sys, "executable", "/opt/other/bin/python3"),
        lambda: monkeypatch.setattr(sys, "prefix", "/opt/other"),
        lambda: sys.modules.setdefault("venvprobe_test_fake_module", type(sys)("venvprobe_test_fake_module")),
        lambda: sys.modules.pop("venvprobe_test_fake_module", None),
        lambda: monkeypatch.setenv("VENVPROBE_REDACT_KEY", "another-key"),
        lambda: monkeypatch.setattr(sys, "prefix", "/srv/" + Probe._STAMP),  # holds the placeholder
        lambda: monkeypatch.undo(),
    ]
    for step in steps:
        step()
        for _ in range(2):
            resp = probe.respond(environ(token=token, QUERY_STRING="format=" + fmt), "/identity")
            assert resp.status == "200 OK"
            headers = dict(resp.headers)
            data = dict(probe.identity(), generated_at=headers["X-Venvprobe-Generated"])
            assert resp.body == rendered_identity(data, fmt)
            assert headers["X-Venvprobe-Pid"] == str(data["identity"]["pid"]) == str(os.getpid())
            assert headers["X-Venvprobe-Interpreter"] == str(data["identity"].get("interpreter_id"))
            assert headers["Content-Type"] == core.FORMATS[fmt]
            assert data["identity"]["ppid"] == os.getppid()
            if fmt == "json":
                import json

                assert json.loads(resp.body)["identity"]["ppid"] == os.getppid()
    sys.modules.pop("venvprobe_test_fake_module", None)


# -- security headers -------------------------------------------------------------------------


@pytest.mark.parametrize("path,query,status,html", [
    ("/", "", "200 OK", False), ("/", "format=json", "200 OK", False), ("/", "format=markdown", "200 OK", False),
    ("/", "format=html", "200 OK", True), ("/identity", "", "200 OK", False),
    ("/identity", "format=html", "200 OK", True), ("/identity", "format=json", "200 OK", False),
    ("/metrics", "", "200 OK", False), ("/health", "fail-on=never", "200 OK", False),
    ("/health", "fail-on=never&format=html", "200 OK", None), ("/nowhere", "", "404 Not Found", False),
    ("/", "format=nonsense", "400 Bad Request", False)])
def test_every_answer_has_the_security_headers_and_html_the_referrer_policy(path, query, status, html):
    probe = Probe(ProbeConfig(ttl=3600.0))
    token = find_default_token(create=True)[0]
    resp = probe.respond(environ(token=token, QUERY_STRING=query), path)
    assert resp.status == status
    headers = dict(resp.headers)
    assert len(headers) == len(resp.headers)  # no header twice
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"].split("; ")
    assert "default-src 'none'" in headers["Content-Security-Policy"].split("; ")
    is_html = headers["Content-Type"].split(";")[0] == "text/html"
    assert html is None or is_html == html
    assert headers.get("Referrer-Policy") == ("no-referrer" if is_html else None)


def test_denied_and_refused_answers_have_the_security_headers():
    probe = Probe()
    token = find_default_token(create=True)[0]
    for env, status in ((environ(), "404 Not Found"), (environ(token=token, REQUEST_METHOD="POST"), "405 Method Not Allowed"),
                        (environ(addr="10.0.0.1", token=token), "404 Not Found")):
        resp = probe.respond(env, "/")
        headers = dict(resp.headers)
        assert resp.status == status and headers["Content-Type"].startswith("text/plain")
        assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "Referrer-Policy" not in headers


def test_security_headers_by_content_type():
    assert core._security_headers([("Content-Type", "text/html; charset=utf-8")]) == core._HTML_HEADERS
    assert core._security_headers([("content-type", "TEXT/HTML")]) == core._HTML_HEADERS
    assert core._security_headers([("Content-Type", "application/xhtml+xml")]) == core._HTML_HEADERS
    assert core._security_headers([("X-Other", "1"), ("Content-Type", " text/html ;q")]) == core._HTML_HEADERS
    assert core._security_headers([]) == core._HTML_HEADERS  # no stated type: a browser may sniff HTML
    for ctype in ("text/plain; charset=utf-8", "application/json", "text/markdown; charset=utf-8", "text/htmlx"):
        assert core._security_headers([("Content-Type", ctype)]) == core._BASE_HEADERS
        assert core._security_headers([("Content-Type", OddStr(ctype))]) == core._BASE_HEADERS
    assert ("Referrer-Policy", "no-referrer") in core._HTML_HEADERS
    assert not any(name == "Referrer-Policy" for name, _ in core._BASE_HEADERS)


def test_bearer_token_check_answers_as_comparing_utf8_bytes():
    """ASCII tokens are compared as text (no encoding per request); the answer is the bytes comparison's."""
    import hmac

    def plain(header: object, token: str) -> bool:
        scheme, _, given = (header if isinstance(header, str) else "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    rng = random.Random(77)
    alphabet = "aZ09-_.~+/=é€ \t"
    tokens = ["s3cr3t-token", "é-token", "x" * 64, "tok€n", "a"]
    headers: List[object] = [None, 42, b"Bearer s3cr3t-token", "", "Bearer", "Bearer ", "bearer s3cr3t-token",
                             "BEARER s3cr3t-token ", "Basic s3cr3t-token", "Bearer  s3cr3t-token", "Bearer\ts3cr3t-token",
                             OddStr("Bearer s3cr3t-token"), "Bearer é-token", "Bearer e-token", "Bearer tok€n"]
    for _ in range(400):
        headers.append(rng.choice(["Bearer ", "bearer ", "Token ", ""]) +
                       "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
    for token in tokens:
        for header in headers + ["Bearer " + token, "Bearer " + token[:-1], "Bearer " + token + "x"]:
            assert security._token_ok({"HTTP_AUTHORIZATION": header}, token) == plain(header, token), (header, token)
    assert security._token_ok({"HTTP_AUTHORIZATION": "Bearer é-token"}, "é-token")
    assert not security._token_ok({}, "s3cr3t-token")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_failure_answer_carries_each_header_once(monkeypatch, fmt):
    """A broken standard-library module: the probe's own 500, each security header once (guard + respond added two)."""
    probe = Probe()
    token = find_default_token(create=True)[0]

    def broken(environ, subpath):
        raise ImportError("cannot load it", name="_ssl")  # a lib-dynload module that fails to load

    monkeypatch.setattr(probe, "handle", broken)
    resp = probe.respond(environ(token=token, QUERY_STRING="format=" + fmt), "/identity")
    names = [name.lower() for name, _ in resp.headers]
    assert resp.status.startswith("500") and "x-venvprobe-error" in names, (resp.status, resp.headers)
    assert len(names) == len(set(names)), resp.headers
    for name in ("cache-control", "x-content-type-options", "content-security-policy"):
        assert name in names
