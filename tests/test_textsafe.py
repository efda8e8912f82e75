"""Hostile text from a report never reaches a terminal or a Markdown page as markup (issue 15)."""

from __future__ import annotations

import copy
import json
import re
import sys

import pytest
from markdown_it import MarkdownIt

from report_helpers import venvprobe_cli
from venvprobe.report import collect_foreign
from venvprobe.render.safe import escape_controls, md_code, md_text, one_line

# Every character class the issue lists: ESC (a CSI that clears the screen),
# BEL, backspace, CR, a C1 CSI, bidi override and isolate, a line separator.
HOSTILE_CHARS = "\x1b[2J\x07\x08\r\x9b31m\u202e\u2066\u2028"
HOSTILE_MD = "<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![p](http://198.51.100.1/p.png) <b>x</b>"
BAD = HOSTILE_CHARS + HOSTILE_MD


def _bad_bytes(text: str) -> list:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) <= 0x9F
            or ord(c) in (0x202E, 0x2066, 0x2028)]


_FOLD = re.compile(r"^(<details>\n<summary>[^<>]*</summary>|</details>)$")


def _markup(md: str) -> dict:
    """What markdown-it (CommonMark + GFM tables) makes of *md*: links, images, raw HTML, headings."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    found = {"link": 0, "image": 0, "html": 0, "headings": []}

    def walk(toks):
        for t in toks:
            if t.type in ("link_open",):
                found["link"] += 1
            elif t.type == "image":
                found["image"] += 1
            elif t.type in ("html_inline", "html_block") and not _FOLD.match(t.content.strip()):
                found["html"] += 1  # anything but the <details> folds venvprobe writes itself
            if t.children:
                walk(t.children)

    walk(tokens)
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            found["headings"].append(tokens[i + 1].content)
    return found


def test_escape_controls_makes_every_control_visible():
    out = escape_controls(BAD + "\udcff")
    assert _bad_bytes(out) == [] and "\udcff" not in out
    for visible in ("\\x1b[2J", "\\x07", "\\x08", "\\r", "\\x9b", "\\u202e", "\\u2066", "\\u2028", "\\udcff"):
        assert visible in out
    assert escape_controls("a\nb") == "a\\nb" and escape_controls("a\nb", keep_newlines=True) == "a\nb"
    assert one_line("x\ny" * 2000).count("\n") == 0 and len(one_line("x" * 5000)) == 2000
    # Plain text (paths, versions, non-ASCII names) is left alone.
    assert escape_controls("/srv/app/venv/lib/python3.11/site-packages/Ünïcode") == "/srv/app/venv/lib/python3.11/site-packages/Ünïcode"


@pytest.mark.parametrize("text", [HOSTILE_MD, "\n# injected heading", "a | b\n|---|", "`code` **b** __init__.py",
                                  "&lt;script&gt; &#60;img&#62;", "<https://example.org/x>", "[ref]: http://x"])
def test_md_text_is_literal_in_commonmark(text):
    md = _markup(f"# {md_text(text)}\n\n| a |\n|---|\n| {md_text(text)} |\n")
    assert md["link"] == md["image"] == md["html"] == 0, md
    assert len(md["headings"]) == 1, md


def test_md_code_is_one_code_span():
    for text in ("a`b", "``", "<img src=x onerror=1>", "x|y"):
        tokens = MarkdownIt("commonmark").parseInline(md_code(text))[0].children
        assert [t.type for t in tokens] == ["code_inline"], (text, tokens)


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    """A real report of this interpreter, and a copy whose values are hostile."""
    base = tmp_path_factory.mktemp("textsafe")
    good = collect_foreign(sys.executable)
    bad = copy.deepcopy(good)
    bad["interpreter"]["prefix"] = "/srv/app\n# injected heading\n" + BAD
    bad["sys_path"]["entries"][0]["path"] = "/srv/" + BAD
    dist = copy.deepcopy(next(d for d in bad["distributions"] if isinstance(d, dict)))
    dist["name"] = "evil" + BAD
    dist["version"] = "1.0" + HOSTILE_CHARS
    bad["distributions"].append(dist)
    bad.setdefault("environment", {}).setdefault("variables", {})["VIRTUAL_ENV"] = "/v" + BAD
    bad["findings"] = [{"severity": "error", "code": "x" + BAD, "message": BAD, "fix": BAD}]
    paths = {}
    for name, rep in (("good", good), ("bad", bad)):
        paths[name] = base / f"{name}.json"
        paths[name].write_text(json.dumps(rep), encoding="utf-8")
    return paths


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_report_input_escapes_hostile_values(hostile_reports, fmt):
    res = venvprobe_cli("report", "--input", str(hostile_reports["bad"]), "--format", fmt)
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode("utf-8")
    assert _bad_bytes(out) == [], _bad_bytes(out)
    assert "\\x1b" in out and "\\u202e" in out  # visibly escaped, not dropped
    if fmt == "markdown":
        md = _markup(out)
        assert md["link"] == md["image"] == md["html"] == 0, md
        assert not any(h.startswith("injected") for h in md["headings"]), md["headings"]
        assert md["headings"][0].startswith("venvprobe report")


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_diff_escapes_hostile_values(hostile_reports, fmt):
    res = venvprobe_cli("diff", str(hostile_reports["good"]), str(hostile_reports["bad"]), "--format", fmt)
    assert res.returncode == 1, res.stderr
    out = res.stdout.decode("utf-8")
    assert _bad_bytes(out) == [], _bad_bytes(out)
    assert "evil\\x1b" in out
    if fmt == "markdown":
        md = _markup(out)
        assert md["link"] == md["image"] == md["html"] == 0, md
        assert not any(h.startswith("injected") for h in md["headings"])


def test_compare_table_escapes_hostile_values(hostile_reports, tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('[interpreter]\nprefix = "/nowhere"\n')
    res = venvprobe_cli("compare", str(exp), str(hostile_reports["bad"]))
    out = res.stdout.decode("utf-8") + res.stderr.decode("utf-8")
    assert res.returncode in (1, 2), out
    assert _bad_bytes(out) == [], _bad_bytes(out)


def test_error_line_escapes_a_hostile_file_name(tmp_path):
    name = tmp_path / ("missing" + HOSTILE_CHARS + "\nsecond line")
    res = venvprobe_cli("report", "--input", str(name))
    err = res.stderr.decode("utf-8")
    assert res.returncode == 2
    assert err.count("\n") == 1 and _bad_bytes(err) == [], err


OFFLINE = ["--no-homes", "--no-predict", "--no-confirm", "--fail-on", "never"]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_offline_commands_escape_hostile_config_and_log_values(tmp_path, fmt):
    ini = tmp_path / "app.ini"
    ini.write_text(f"[uwsgi]\nmount = /a{HOSTILE_CHARS}=/srv/{BAD}/app.py\nhome = /srv/{BAD}\n", encoding="utf-8")
    conf = tmp_path / "app.conf"
    conf.write_text(f'WSGIScriptAlias /x "/srv/{BAD}/app.wsgi"\nWSGIPythonHome "/srv/{BAD}"\n', encoding="utf-8")
    log = tmp_path / "error.log"
    log.write_text("[Sat Nov 21 12:05:57.374083 2026] [wsgi:error] [pid 5578:tid 5578] mod_wsgi (pid=5578): "
                   f"Failed to exec Python script file '/srv/{BAD}/app.wsgi'.\n"
                   f"ModuleNotFoundError: No module named '{BAD}'\n", encoding="utf-8")
    for args in (["check-uwsgi", str(ini), *OFFLINE], ["check-apache", str(conf), *OFFLINE],
                 ["explain-log", str(log), "--no-check-homes", "--fail-on", "never"]):
        res = venvprobe_cli(*args, "--format", fmt)
        out = res.stdout.decode("utf-8") + res.stderr.decode("utf-8")
        assert res.returncode == 0, out
        assert _bad_bytes(out) == [], (args, _bad_bytes(out))
        if fmt == "markdown":
            md = _markup(res.stdout.decode("utf-8"))
            assert md["link"] == md["image"] == md["html"] == 0, (args, md)


def test_probe_text_format_escapes_hostile_values(hostile_reports):
    """The probe's own text rendering (what curl shows) of a report with hostile values."""
    from venvprobe.render import render

    bad = json.loads(hostile_reports["bad"].read_text(encoding="utf-8"))
    for fmt in ("text", "markdown"):
        out = render(bad, fmt)
        assert _bad_bytes(out) == [] and "\\x1b" in out


def test_compare_tap_descriptions_escape_hostile_values(hostile_reports, tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('[interpreter]\nprefix = "/nowhere"\n')
    target = tmp_path / ("t" + HOSTILE_CHARS.replace("\x00", "") + ".json")
    target.write_bytes(hostile_reports["bad"].read_bytes())
    res = venvprobe_cli("compare", str(exp), str(target), "--format", "tap")
    out = res.stdout.decode("utf-8")
    assert res.returncode == 1, out + res.stderr.decode()
    points = [line for line in out.splitlines() if line.startswith(("ok ", "not ok "))]
    assert points and all(_bad_bytes(p) == [] for p in points), points


def test_escape_controls_ascii_shortcut_agrees_with_the_table() -> None:
    """Printable ASCII is returned as it is; everything else goes through the table, as before."""
    import random

    from venvprobe.render import safe

    rng = random.Random(7)
    alphabet = [chr(i) for i in range(128)] + ["\u202e", "\u200f", "\ud800", "é", "漢", "\x85", "\u2028"]
    samples = [chr(i) for i in range(128)] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
                                              for _ in range(5000)]
    for text in samples:
        for keep in (False, True):
            want = text.translate(safe._TABLE_KEEP_NL if keep else safe._TABLE)
            assert safe.escape_controls(text, keep_newlines=keep) == want, repr(text)

    class Sub(str):
        pass

    assert type(safe.escape_controls(Sub("plain"))) is str


def test_escape_table_holds_every_unsafe_character_once() -> None:
    from venvprobe.render import safe

    assert safe._TABLE == {c: safe._escape_of(c) for c in safe._UNSAFE}
    assert safe._TABLE[0xD800] == "\\ud800" and safe._TABLE[0x1B] == "\\x1b" and safe._TABLE[0x0A] == "\\n"
