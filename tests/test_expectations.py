"""Loading and validating expectations files: every error names file, line and a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from test_compare_helpers import cli
from venvprobe.expectations import ExpectationsError, KeyLocator, Matcher, PathPattern, glob_to_regex, load_file, loads
from venvprobe.snapshot import glob_escape

REPO = Path(__file__).resolve().parents[1]


def error_of(text: str) -> ExpectationsError:
    with pytest.raises(ExpectationsError) as info:
        loads(textwrap.dedent(text), "exp.toml")
    return info.value


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(textwrap.dedent(text).splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


# ---------------------------------------------------------------------------
# shipped examples


@pytest.mark.parametrize("path", ["docs/expectations.example.toml"])
def test_shipped_example_loads_and_uses_every_section(path):
    exp = load_file(str(REPO / path))
    assert exp.version == 1
    checks = {r.check for r in exp.fields}
    assert {"interpreter.python", "interpreter.prefix", "identity.server", "identity.application_group"} <= checks
    assert exp.sys_path.first and exp.sys_path.before and exp.sys_path.include and exp.sys_path.exclude
    assert exp.distributions.require and exp.distributions.forbid and exp.distributions.only_from_venv
    assert exp.shadowing is not None and exp.shadowing.allow
    assert exp.findings.max and exp.findings.allow and exp.findings.forbid
    assert exp.workers.identical and exp.workers.identical.value is True


def test_docs_example_blocks_load():
    """Every ```toml block in docs/expectations.md is a valid expectations file."""
    text = (REPO / "docs" / "expectations.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    assert len(blocks) >= 3
    for block in blocks:
        if "# invalid" in block.splitlines()[0]:
            with pytest.raises(ExpectationsError):
                loads(block, "doc-block.toml")
        else:
            loads(block, "doc-block.toml")


# ---------------------------------------------------------------------------
# errors: file:line and a hint


def test_invalid_toml_reports_line():
    text = """\
    version = 1
    [interpreter]
    prefix = /srv/venv
    """
    err = error_of(text)
    assert err.line == 3
    assert str(err).startswith("exp.toml:3: not valid TOML")
    assert "hint" in str(err)


def test_unknown_section_suggests_the_right_one():
    text = """\
    version = 1

    [interpeter]
    prefix = "/srv/venv"
    """
    err = error_of(text)
    assert err.line == 3
    assert "unknown key 'interpeter'" in err.message
    assert err.hint == "did you mean 'interpreter'?"


def test_unknown_key_in_section_points_at_its_line():
    text = """\
    [interpreter]
    python = "3.11"
    prefx = "/srv/venv"
    """
    err = error_of(text)
    assert (err.line, err.hint) == (3, "did you mean 'prefix'?")
    assert str(err) == "exp.toml:3: unknown key 'prefx' in [interpreter] (hint: did you mean 'prefix'?)"


def test_wrong_type():
    text = """\
    [identity]
    server = "mod_wsgi"
    in_venv = "yes"
    """
    err = error_of(text)
    assert err.line == 3
    assert "identity.in_venv must be true or false, not a string" in err.message


def test_bad_specifier_in_table_points_at_the_key():
    text = """\
    [distributions.require]
    flask = ">=2.2"
    requests = "2.31"
    six = ""
    """
    err = error_of(text)
    assert err.line == 3
    assert "'2.31' is not a valid version specifier" in err.message
    assert err.hint.startswith('did you mean "==2.31"?')


def test_bad_specifier_in_inline_table_on_later_line():
    text = """\
    [distributions]
    forbid = ["pycrypto"]
    require = { flask = ">=2.2", jinja2 = ">>3" }
    """
    err = error_of(text)
    assert err.line == 3
    assert "jinja2" in err.message


def test_specifier_written_as_equality_gets_a_hint():
    err = error_of('[interpreter]\npython = ">=3.10"\n')
    assert err.line == 2
    assert err.hint == 'for a PEP 440 specifier write { version = ">=3.10" }'


def test_glob_written_as_equality_gets_a_hint():
    err = error_of('[interpreter]\nprefix = "/srv/*/venv"\n')
    assert err.hint == 'for a pattern write { glob = "/srv/*/venv" }'


def test_unknown_matcher_key():
    err = error_of('[interpreter]\n\nprefix = { globb = "/srv/*" }\n')
    assert err.line == 3
    assert err.hint == "did you mean 'glob'?"


def test_list_instead_of_one_of():
    err = error_of('[identity]\nserver = ["mod_wsgi", "uwsgi"]\n')
    assert "for several allowed values write { one_of = [...] }" in err.hint


def test_unknown_server_kind():
    err = error_of('[identity]\nserver = { one_of = ["mod_wsgi", "apache"] }\n')
    assert "unknown server kind 'apache'" in err.message


def test_unknown_origin_kind():
    text = """\
    [sys_path]
    include = ["/srv/app"]
    exclude = ["origin:usersite"]
    """
    err = error_of(text)
    assert err.line == 3
    assert err.hint.startswith("did you mean 'origin:user_site'?")


def test_before_needs_pairs():
    err = error_of('[sys_path]\nbefore = [["a", "b", "c"]]\n')
    assert err.line == 2 and "[A, B] pairs" in err.message


def test_single_before_pair_without_outer_brackets_is_accepted():
    exp = loads('[sys_path]\nbefore = ["origin:venv_site", "origin:base_site"]\n')
    (pair,) = exp.sys_path.before
    assert [p.text for p in pair.value] == ["origin:venv_site", "origin:base_site"]


def test_unknown_finding_code():
    text = """\
    [findings]
    max = { error = 0 }
    forbid = ["stdlib-shadow"]
    """
    err = error_of(text)
    assert err.line == 3
    assert err.hint == "did you mean 'stdlib-shadowed'?"


def test_allow_needs_a_reason():
    text = """\
    [findings]
    allow = [
      { code = "no-venv", reason = "dev box" },
      { code = "sys-path-duplicate" },
    ]
    """
    err = error_of(text)
    assert err.line == 4
    assert "'sys-path-duplicate' has no reason" in err.message
    assert err.hint == "say why it is acceptable: reviewers read this"


def test_allow_as_plain_strings_explains_the_form():
    err = error_of('[shadowing]\nallow = ["six"]\n')
    assert "'six' needs a reason" in err.message and "reason =" in err.hint


def test_allowed_and_forbidden_code_conflict():
    err = error_of('[findings]\nallow = [{ code = "no-venv", reason = "x" }]\nforbid = ["no-venv"]\n')
    assert err.line == 3 and "both allowed and forbidden" in err.message


def test_max_severity_must_be_known_and_a_count():
    assert error_of('[findings]\nmax = { errors = 0 }\n').hint == "did you mean 'error'?"
    assert "must be a count" in error_of('[findings]\nmax = { error = -1 }\n').message


def test_newer_format_version():
    err = error_of("version = 2\n")
    assert err.line == 1 and err.hint == "upgrade venvprobe"


def test_report_section_at_top_level_points_to_fields():
    err = error_of('[modules]\ncount = 3\n')
    assert err.line == 1
    assert "[fields]" in err.hint


def test_fields_path_must_start_with_a_report_section():
    err = error_of('[fields]\n"interp.prefix" = "/x"\n')
    assert err.line == 2 and "does not start with a report section" in err.message


def test_workers_ignore_parts_are_checked():
    err = error_of('[workers]\nidentical = true\nignore = ["finding"]\n')
    assert err.hint == "did you mean 'findings'?"


def test_duplicate_normalised_distribution_names():
    err = error_of('[distributions.require]\nZope_Interface = ""\n"zope.interface" = ">=5"\n')
    assert "listed twice" in err.message


def test_file_problems(tmp_path):
    with pytest.raises(ExpectationsError, match="no such file"):
        load_file(str(tmp_path / "missing.toml"))
    with pytest.raises(ExpectationsError, match="is a directory"):
        load_file(str(tmp_path))
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'version = 1\ndescription = "caf\xe9"\n')
    with pytest.raises(ExpectationsError) as info:
        load_file(str(bad))
    assert info.value.line == 2 and "UTF-8" in info.value.message


def test_cli_reports_the_error_as_one_line_with_exit_2(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('version = 1\n\n[distributions.require]\nflask = "2.2"\n')
    report = tmp_path / "r.json"
    report.write_text("{}")
    rc, out, err = cli("compare", str(exp), str(report))
    assert rc == 2
    assert out == ""
    assert err.strip() == (f"venvprobe compare: {exp}:4: distributions.require.flask: '2.2' is not a valid version "
                           'specifier (hint: did you mean "==2.2"? PEP 440 specifiers look like ">=2.2,<3", '
                           '"==1.4.*" or "~=3.11.0")')
    assert "Traceback" not in err


# ---------------------------------------------------------------------------
# locating keys


def test_key_locator_handles_dotted_quoted_and_array_tables():
    text = textwrap.dedent("""\
        version = 1
        [fields]
        "interpreter.prefix" = "/x"
        identity.server.kind = "mod_wsgi"

        [distributions]
        require = { flask = ">=2", "zope.interface" = "" }

        [[extra]]
        name = "a"
        [[extra]]
        name = "b"
        """)
    loc = KeyLocator(text)
    assert loc.line_of(("version",)) == 1
    assert loc.line_of(("fields", "interpreter.prefix")) == 3
    assert loc.line_of(("fields", "identity", "server", "kind")) == 4
    assert loc.line_of(("distributions", "require", "zope.interface")) == 7
    assert loc.line_of(("extra", 1, "name")) == 12
    allow = KeyLocator('[findings]\nallow = [{ code = "a", reason = "r" },\n  { code = "b" },\n]\n')
    assert allow.line_of(("findings", "allow", 0)) == 2
    assert allow.line_of(("findings", "allow", 1)) == 3
    assert loc.line_of(("nothing", "here")) is None


# ---------------------------------------------------------------------------
# matching semantics


@pytest.mark.parametrize("pattern,path,ok", [
    ("/srv/*/venv", "/srv/app/venv", True),
    ("/srv/*/venv", "/srv/a/b/venv", False),  # * stays in one segment
    ("/srv/**/venv", "/srv/a/b/venv", True),
    ("/srv/**/venv", "/srv/venv", True),
    ("/usr/lib/python3.1?/site-packages", "/usr/lib/python3.11/site-packages", True),
    ("/usr/lib/python3.[0-9]/x", "/usr/lib/python3.9/x", True),
    ("/usr/lib/python3.[!9]/x", "/usr/lib/python3.9/x", False),
    ("/srv/app/", "/srv/app", True),  # trailing slashes do not matter
])
def test_glob_semantics(pattern, path, ok):
    assert bool(glob_to_regex(pattern.rstrip("/") or "/").match(path)) is ok
    assert Matcher(globs=(pattern,)).matches(path) is ok


@pytest.mark.parametrize("path", ["/srv/a[1]/x", "/srv/*star*/v", "/srv/q?/v", "origin:venv_site", "/srv/[!]x"])
def test_glob_escape_matches_only_the_literal_path(path):
    pat = PathPattern(glob_escape(path))
    assert pat.origin is None
    assert pat.matches({"path": path})
    assert not pat.matches({"path": path + "x"})


def test_matchers():
    assert Matcher(equals=("/srv/venv",)).matches("/srv/venv/")
    assert not Matcher(equals=(True,)).matches(1)
    assert Matcher(version=">=3.10").matches("3.13.0rc1")  # pre-releases of the right line count
    assert not Matcher(version="==3.11.*").matches("3.12.0")
    assert Matcher(version="===1.0-weird").matches("1.0-weird")
    assert not Matcher(version=">=1").matches("not-a-version")
    assert Matcher(one_of=("mod_wsgi", "uwsgi"), has_one_of=True).matches("uwsgi")
    both = Matcher(globs=("/srv/*",), one_of=("/srv/a", "/opt/b"), has_one_of=True)
    assert both.matches("/srv/a") and not both.matches("/opt/b")
    assert both.describe() == "matches /srv/* and one of /srv/a, /opt/b"
