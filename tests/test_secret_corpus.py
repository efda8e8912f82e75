"""A seeded corpus of secrets, planted where deployments put them, must never come back.

Every secret below is fresh random text for this run, placed in a real venv and
real servers the way people really do it: allowlisted and other environment
variables, Apache ``SetEnv`` and ``python-path``, uWSGI ``env``/``pythonpath``/
``set-ph``, ``GUNICORN_CMD_ARGS``, gunicorn's ``-e``/``--env`` on the command
line, ``UWSGI_*`` variables, ``.pth`` lines, ``direct_url.json``, ``pyvenv.cfg``,
``PIP_EXTRA_INDEX_URL``/``PIP_INDEX_URL`` and sys.path entries.  Then:

* the probe under real gunicorn, Apache + mod_wsgi and uWSGI: every
  sub-resource in every format, ``/metrics``, ``/health``, Accept-negotiated;
* the CLI: ``report --python`` (every format, with and without ``--redact``),
  ``fetch`` (with and without ``--redact``), and ``report --input``, ``diff``,
  ``snapshot`` and ``compare`` on a report file as an older venvprobe would have
  written it (nothing masked).

0 of the secrets may appear in any of these outputs.  The high-entropy rule's
false positives are measured here too (file names of real installations).
"""

from __future__ import annotations

import json
import os
import random
import string
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

import probe_helpers as ph
import servers
from report_helpers import venvprobe_cli
from venvprobe.collect.masking import Masker as _Masker

pytestmark = pytest.mark.servers

_rng = random.SystemRandom()
B62 = string.ascii_letters + string.digits


def b62(n: int) -> str:
    # Mixed case and digits, as real tokens: at least two of each class.
    while True:
        s = "".join(_rng.choice(B62) for _ in range(n))
        if sum(c.isupper() for c in s) >= 2 and sum(c.islower() for c in s) >= 2 and sum(c.isdigit() for c in s) >= 2:
            return s


def noise(n: int) -> str:
    """Random base62 the entropy rule catches (it catches 92-99%; the rate is measured, not tested, here)."""
    while True:
        s = b62(n)
        if _Masker("k").text(s) != s:
            return s


def hexs(n: int) -> str:
    return "".join(_rng.choice("0123456789abcdef") for _ in range(n))


def upper(n: int) -> str:
    return "".join(_rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def plain(tag: str) -> str:
    """A secret that looks like nothing: only its position or its name can give it away."""
    return f"{tag}-{hexs(6)}"


S: Dict[str, str] = {
    # recognised by value (stored under innocent names)
    "ghp_env": "ghp_" + b62(36),
    "gho_pythonpath": "gho_" + b62(36),
    "github_pat_pth": "github_pat_" + b62(22) + "_" + b62(59),
    "jwt_cmd_args": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi" + b62(24) + "." + b62(43),
    "sentry_key_cmd_args": hexs(32),
    "slack_webhook_cmdline": b62(24),
    "openai_cmdline": "sk-" + b62(48),
    "aws_key_id_env": "AKIA" + upper(16),
    "xoxb_env": "xoxb-" + hexs(12) + "-" + hexs(12) + "-" + b62(24),
    "pem_env": b62(64),
    "pip_extra_user_token": hexs(40),
    "pip_index_password": plain("idxpw"),
    "uwsgi_env_var_webhook": b62(24),
    "direct_url_ghp": "ghp_" + b62(36),
    "direct_url_password": plain("gitpw"),
    "direct_url_glpat": "glpat-" + b62(20),
    "pyvenv_cfg_command_url": plain("cfgurlpw"),
    "pyvenv_cfg_token_key": plain("cfgtok"),
    "syspath_entry_token": "ghs_" + b62(36),
    "high_entropy_env": noise(32),
    "pth_path_line_token": "ghr_" + b62(36),
    "apache_python_path": "ghu_" + b62(36),
    "uwsgi_pythonpath": "hf_" + b62(34),
    # recognised by name or by position
    "pth_environ_openai": plain("pthopenai"),
    "pth_setdefault_dbpass": plain("pthdbpass"),
    "gunicorn_e_plain": plain("gunie"),
    "gunicorn_env_plain": plain("gunienv"),
    "cmd_args_e_plain": plain("cmdargs"),
    "uwsgi_env_var_plain": plain("uwsgienv"),
    "python_named_token": plain("pytok"),
    "venvprobe_named_password": plain("vppw"),
    "secret_env_not_allowlisted": plain("dbpw"),
    "setenv_plain": plain("setenv"),
    "setenv_token": plain("setenvtok"),
    "uwsgi_env_plain": plain("uwenv"),
    "uwsgi_set_ph_pass": plain("uwph"),
    "uwsgi_env_webhook": b62(24),
}
SECRETS = list(S.values())
assert len(set(SECRETS)) == len(SECRETS) >= 30
PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + S["pem_env"] + "\n" + b62(64)
       + "\n-----END OPENSSH PRIVATE KEY-----")
SLACK = "https://hooks.slack.com/services/T{}/B{}/{}"


def leaks(text: str) -> List[str]:
    """Which planted secrets appear in *text* (PEM body lines included)."""
    return [name for name, value in S.items() if value in text] + (["pem_line2"] if PEM.split("\n")[2] in text else [])


# --------------------------------------------------------------------------
# the planted installation


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = servers.fresh_shared_dir("corpus")
    yield path
    if not os.environ.get("VENVPROBE_KEEP_TMP"):
        import shutil

        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def venv(base: Path) -> servers.Venv:
    venv = ph.make_probe_venv(base / "venv", packages=("venvprobe", "gunicorn"))
    site = venv.site_packages
    # .pth files: an import line setting variables (by name and by shape) and a path line.
    (site / "zz_settings.pth").write_text(
        f"import os; os.environ['OPENAI_API_KEY'] = '{S['pth_environ_openai']}'\n"
        f"import os; os.environ.setdefault(\"DB_PASS\", \"{S['pth_setdefault_dbpass']}\"); "
        f"os.environ.setdefault('GH', '{S['github_pat_pth']}')\n"
        f"/srv/vendor/{S['pth_path_line_token']}/lib\n")
    # direct_url.json of VCS installs, as pip writes them (and lists them in RECORD).
    for name, url in (("privatelib", f"git+https://{S['direct_url_ghp']}@github.com/acme/privatelib.git"),
                      ("gitpwlib", f"git+https://deploy:{S['direct_url_password']}@git.example/acme/x.git"),
                      ("gitlablib", f"git+https://oauth2:{S['direct_url_glpat']}@gitlab.example/acme/y.git")):
        info = ph.write_dist(site, name, "1.0")
        (info / "direct_url.json").write_text(json.dumps(
            {"url": url, "vcs_info": {"vcs": "git", "commit_id": hexs(40)}}))
        with open(info / "RECORD", "a") as handle:
            handle.write(f"{info.name}/direct_url.json,,\n")
    cfg = venv.root / "pyvenv.cfg"
    cfg.write_text(cfg.read_text() + (
        f"command = /usr/bin/python3 -m venv --extra-index https://ci:{S['pyvenv_cfg_command_url']}@pypi.example/simple "
        f"{venv.root}\napi_token = {S['pyvenv_cfg_token_key']}\n"))
    servers.make_world_readable(base)
    return venv


def planted_env(venv: servers.Venv) -> Dict[str, str]:
    """The process environment of a deployment with secrets in it."""
    return {
        "GITHUB_NOTE": S["ghp_env"],  # not allowlisted: never shown at all
        "PYTHONAPPCONFIG": f"region=eu aws={S['aws_key_id_env']} slack={S['xoxb_env']}",
        "PYTHONCERTDATA": PEM,
        "PYTHONPATH": f"/srv/app/{S['gho_pythonpath']}/lib:/srv/shared/{S['syspath_entry_token']}",
        "PYTHONNONCE": S["high_entropy_env"],
        "PYTHON_API_TOKEN": S["python_named_token"],
        "VENVPROBE_DB_PASSWORD": S["venvprobe_named_password"],
        "DATABASE_PASSWORD": S["secret_env_not_allowlisted"],
        "PIP_EXTRA_INDEX_URL": f"https://{S['pip_extra_user_token']}:@pypi.internal.example/simple/",
        "PIP_INDEX_URL": f"https://reader:{S['pip_index_password']}@idx.example/simple",
        "UWSGI_ENV": f"SLACK_WEBHOOK={SLACK.format(upper(8), upper(8), S['uwsgi_env_var_webhook'])}",
        "UWSGI_SET_PH": f"anything={S['uwsgi_env_var_plain']}",
        "GUNICORN_CMD_ARGS": (f"--env APP_JWT={S['jwt_cmd_args']} "
                              f"--env SENTRY=https://{S['sentry_key_cmd_args']}@o1.ingest.sentry.io/2 "
                              f"-e PLAIN={S['cmd_args_e_plain']}"),
    }


APP = ("import os, sys\n"
       "from venvprobe.middleware import ProbeMiddleware\n"
       "def app(environ, start_response):\n"
       "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
       "    return [b'app']\n"
       "application = ProbeMiddleware(app)\n")


@pytest.fixture(scope="module")
def app_dir(base: Path, venv: servers.Venv) -> Path:
    app = base / "app"
    app.mkdir()
    (app / "corpus_app.py").write_text(APP)
    (app / "app.wsgi").write_text(APP)
    servers.make_world_readable(base)
    return app


@pytest.fixture(scope="module")
def gu(venv: servers.Venv, app_dir: Path, base: Path) -> Iterator[servers.GunicornServer]:
    server = servers.GunicornServer(
        venv, "corpus_app:application", chdir=app_dir, env=planted_env(venv), root=base / "gu",
        extra_args=["-e", f"SLACK_WEBHOOK_URL={SLACK.format(upper(8), upper(8), S['slack_webhook_cmdline'])}",
                    f"--env=OPENAI={S['openai_cmdline']}", "-e", f"NOTHING_SPECIAL={S['gunicorn_e_plain']}",
                    "--env", f"X={S['gunicorn_env_plain']}"])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def apache(venv: servers.Venv, app_dir: Path, base: Path) -> Iterator[servers.ApacheServer]:
    servers.require_apache()
    config = f"""
WSGIDaemonProcess corpus python-home={venv.root} python-path=/srv/lib/{S['apache_python_path']} processes=1 threads=4
WSGIProcessGroup corpus
WSGIApplicationGroup %{{GLOBAL}}
SetEnv APP_SETTING {S['setenv_plain']}
SetEnv PYTHON_SERVICE_TOKEN {S['setenv_token']}
WSGIScriptAlias / {app_dir}/app.wsgi
<Directory {app_dir}>
    Require all granted
    WSGIPassAuthorization On
</Directory>
"""
    server = servers.ApacheServer(config, root=base / "apache", extra_modules=("env",))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def uwsgi(venv: servers.Venv, app_dir: Path, base: Path) -> Iterator[servers.UwsgiServer]:
    servers.require_uwsgi()
    server = servers.UwsgiServer(
        {"home": str(venv.root), "chdir": str(app_dir), "module": "corpus_app:application",
         "pythonpath": f"/srv/uw/{S['uwsgi_pythonpath']}",
         "env": [f"SOME_SETTING={S['uwsgi_env_plain']}",
                 f"HOOK={SLACK.format(upper(8), upper(8), S['uwsgi_env_webhook'])}"],
         "set-ph": f"dbpass={S['uwsgi_set_ph_pass']}"},
        root=base / "uwsgi")
    server.start()
    yield server
    server.stop()


# --------------------------------------------------------------------------
# the probe

SUBS = ["", "findings", "interpreter", "identity", "path", "shadowed", "distributions", "modules", "process",
        "environment"]


def every_answer(server: servers.BaseServer) -> List[Tuple[str, bytes]]:
    auth = ph.bearer_for(server)
    out = []
    for sub in SUBS:
        for fmt in ("text", "json", "html", "markdown"):
            url = f"/_venvprobe/{sub}?format={fmt}"
            status, _, body = server.get(url, headers=auth, timeout=60)
            assert status == 200, (url, status, body[:300], server.logs())
            out.append((url, body))
    for url in ("/_venvprobe/metrics", "/_venvprobe/health", "/_venvprobe/health?format=json"):
        status, _, body = server.get(url, headers=auth, timeout=60)
        assert status in (200, 503), (url, status, body[:300])
        out.append((url, body))
    for accept in ("text/html", "application/json", "text/markdown", "*/*"):
        status, _, body = server.get("/_venvprobe/", headers=dict(auth, Accept=accept), timeout=60)
        assert status == 200
        out.append(("/_venvprobe/ Accept: " + accept, body))
    return out


def assert_clean(answers: List[Tuple[str, bytes]]) -> None:
    found = [(where, leaks(body.decode("utf-8", "replace"))) for where, body in answers]
    found = [(where, names) for where, names in found if names]
    assert not found, f"planted secrets in the output: {found[:8]}"


def test_gunicorn_probe_answers_hold_none_of_the_secrets(gu):
    answers = every_answer(gu)
    assert_clean(answers)
    report = json.loads(dict(answers)["/_venvprobe/?format=json"])
    # The secrets really were there to find: masked, not missing.
    cmdline = " ".join(report["process"]["cmdline"])
    assert "SLACK_WEBHOOK_URL=[secret:" in cmdline and "--env=OPENAI=[secret:" in cmdline
    assert "NOTHING_SPECIAL=[secret:" in cmdline
    env = report["environment"]["variables"]
    assert env["GUNICORN_CMD_ARGS"].startswith("--env APP_JWT=[secret:")
    assert env["PIP_EXTRA_INDEX_URL"].startswith("https://[secret:") and "pypi.internal.example" in env["PIP_EXTRA_INDEX_URL"]
    assert "GITHUB_NOTE" not in env and "DATABASE_PASSWORD" not in env
    paths = [e["path"] for e in report["sys_path"]["entries"]]
    assert "/srv/app/[secret:" in " ".join(paths)
    urls = [d.get("direct_url") for d in report["distributions"] if d.get("direct_url")]
    assert len(urls) == 3 and all("[secret:" in u for u in urls), urls


def test_apache_probe_answers_hold_none_of_the_secrets(apache):
    answers = every_answer(apache)
    assert_clean(answers)
    report = json.loads(dict(answers)["/_venvprobe/?format=json"])
    assert any("/srv/lib/[secret:" in e["path"] for e in report["sys_path"]["entries"])


def test_uwsgi_probe_answers_hold_none_of_the_secrets(uwsgi):
    answers = every_answer(uwsgi)
    assert_clean(answers)
    report = json.loads(dict(answers)["/_venvprobe/?format=json"])
    options = report["identity"]["server"]["options"]
    # uwsgi.opt keeps the last of repeated options: the names stay, the values are marks.
    assert str(options["env"]).startswith("HOOK=[secret:"), options
    assert str(options["set-ph"]).startswith("dbpass=[secret:"), options


# --------------------------------------------------------------------------
# the CLI


def cli_env(venv: servers.Venv, home: Path) -> Dict[str, str]:
    return dict(planted_env(venv), PATH="/usr/bin:/bin", LANG="C.UTF-8", HOME=str(home))


def run_clean(*args: str, env: Dict[str, str], ok=(0, 1)) -> str:
    res = venvprobe_cli(*args, env=env, timeout=300)
    out = res.stdout.decode("utf-8", "replace") + res.stderr.decode("utf-8", "replace")
    assert res.returncode in ok, (args, res.returncode, out[-2000:])
    names = leaks(out)
    assert not names, (args, names)
    return out


def test_report_python_holds_none_of_the_secrets(venv, base):
    env = cli_env(venv, base / "home-cli")
    for fmt in ("json", "text", "markdown", "html"):
        for extra in ((), ("--redact", "--redact-key", "k"), ("--redact-users", "--redact-key", "k")):
            out = run_clean("report", "--python", str(venv.python), "--format", fmt, *extra, env=env)
            assert "secret:" in out, (fmt, extra)


@pytest.fixture(scope="module")
def raw_report(base: Path, venv: servers.Venv, gu) -> Path:
    """A report as an older venvprobe wrote it: every secret in it, unmasked, in the usual places."""
    status, _, body = gu.get("/_venvprobe/?format=json", headers=ph.bearer_for(gu), timeout=60)
    assert status == 200
    report = json.loads(body)
    env = planted_env(venv)
    report["environment"]["variables"] = {k: v for k, v in env.items() if k != "GITHUB_NOTE"}
    report["process"]["cmdline"] = ["gunicorn", "-e", f"NOTHING_SPECIAL={S['gunicorn_e_plain']}",
                                    "--env", f"X={S['gunicorn_env_plain']}", f"--env=OPENAI={S['openai_cmdline']}",
                                    "-p", S["uwsgi_set_ph_pass"], "--mysql-pwd=" + S["setenv_plain"],
                                    "-H", "Authorization: Bearer " + S["setenv_token"]]
    report["sys_path"]["entries"][0]["path"] = f"/srv/app/{S['gho_pythonpath']}/lib"
    report["distributions"][0]["direct_url"] = f"git+https://{S['direct_url_ghp']}@github.com/acme/x.git"
    report["interpreter"]["pyvenv_cfg"] = {"values": {"api_token": S["pyvenv_cfg_token_key"]},
                                           "command": f"python -m venv --extra-index https://u:{S['pyvenv_cfg_command_url']}@h/s x"}
    path = base / "raw-report.json"
    path.write_text(json.dumps(report))
    assert len(leaks(path.read_text())) >= 15
    return path


def test_cli_on_an_unmasked_report_file_holds_none_of_the_secrets(raw_report, venv, base):
    env = cli_env(venv, base / "home-cli")
    for fmt in ("json", "text", "markdown", "html"):
        run_clean("report", "--input", str(raw_report), "--format", fmt, env=env)
        run_clean("report", "--input", str(raw_report), "--format", fmt, "--redact", "--redact-key", "k", env=env)
    other = base / "other-report.json"
    data = json.loads(raw_report.read_text())
    data["environment"]["variables"]["PYTHONNONCE"] = "changed"
    other.write_text(json.dumps(data))
    for fmt in ("text", "markdown", "json"):
        run_clean("diff", str(raw_report), str(other), "--format", fmt, env=env)
    snap = base / "snapshot.toml"
    run_clean("snapshot", str(raw_report), "--output", str(snap), "--force", env=env)
    assert not leaks(snap.read_text())
    for fmt in ("table", "json", "junit", "tap"):
        run_clean("compare", str(snap), str(raw_report), "--format", fmt, env=env)


def test_fetch_holds_none_of_the_secrets(gu, venv, base):
    # As the app's user (its HOME): `fetch` finds the probe's own token.
    uid, home, _ = ph.server_identity(gu)
    env = cli_env(venv, Path(home))
    for extra in ((), ("--redact",)):
        out_file = base / f"fetched{len(extra)}.json"
        run_clean("fetch", f"http://127.0.0.1:{gu.port}/_venvprobe/", "-o", str(out_file), *extra, env=env, ok=(0,))
        text = out_file.read_text()
        assert not leaks(text) and json.loads(text)["schema"]["name"] == "venvprobe.report"


# --------------------------------------------------------------------------
# the high-entropy rule: no false positives on what reports are made of


def test_value_rules_leave_real_names_alone():
    """File names of real installations, versions, wheel names, hashes: unchanged by masking."""
    m = _Masker("k")
    roots = {os.path.dirname(os.__file__), sys.prefix, os.path.dirname(servers.__file__)}
    seen = changed = 0
    examples = []
    for root in sorted(roots):
        for dirpath, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(dirpath, name)
                seen += 1
                if m.text(path) != path:
                    changed += 1
                    examples.append(path)
    assert seen > 2000
    assert changed <= seen // 10000, examples[:10]  # measured: 1 in 234,524 (see README)
    for text in ("numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                 "sha256=" + hexs(64), "3.11.7+local.build.1", "c14n-20", hexs(40),
                 "PyYAML-6.0.1.dist-info", "/usr/lib/python3/dist-packages/__editable___demo_0_1_finder.py",
                 "typing_extensions-4.12.2.dist-info", "0123e4567-e89b-12d3-a456-426614174000"):
        assert m.text(text) == text, text
