"""check-apache for mod_wsgi 6's directives: WSGIPerInterpreterGIL, <WSGIInterpreterOptions> (selectors,
specificity, WSGIPythonPath layering), WSGIFreeThreading; the GIL mode of each app; psutil in an own-GIL
group; free-threading asked of a GIL build; embedded mode that cannot start as the Apache user.

The resolution rules are those of mod_wsgi 6.1.1's wsgi_resolve_interpreter_options(); the GIL modes are
also checked against a real Apache in tests/test_mod_wsgi6.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import servers
from offline_helpers import codes, finding, run_json
from venvprobe.offline import apache_config as ac


def _conf(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_gil_modes_selectors_and_python_path_layers(tmp_path):
    conf = _conf(tmp_path / "httpd.conf", """\
WSGIPerInterpreterGIL Off
WSGIPythonPath /srv/base
<WSGIInterpreterOptions application-group=shop>
    WSGIPerInterpreterGIL On
    WSGIPythonPath /srv/any-shop
</WSGIInterpreterOptions>
<WSGIInterpreterOptions process-group=legacy application-group=shop>
    WSGIPerInterpreterGIL Off
    WSGIPythonPath /srv/legacy-shop
</WSGIInterpreterOptions>
<WSGIInterpreterOptions process-group=fast>
    WSGIPerInterpreterGIL On
</WSGIInterpreterOptions>
WSGIDaemonProcess fast python-path=/srv/fast
WSGIDaemonProcess legacy
WSGIScriptAlias /shop /srv/shop.wsgi process-group=fast application-group=shop
WSGIScriptAlias /old-shop /srv/shop.wsgi process-group=legacy application-group=shop
WSGIScriptAlias /fast-main /srv/shop.wsgi process-group=fast application-group=%{GLOBAL}
WSGIScriptAlias /fast-other /srv/other.wsgi process-group=fast application-group=other
WSGIScriptAlias /emb-shop /srv/shop.wsgi application-group=shop
WSGIScriptAlias /emb-other /srv/other.wsgi application-group=other
""")
    cfg = ac.load(str(conf), envvars=None)
    assert not cfg.misplaced  # WSGIPythonPath / WSGIPerInterpreterGIL are allowed inside the block
    assert cfg.python_path == ["/srv/base"]  # block paths do not leak into the global one
    apps = {a.url: a for a in cfg.apps}
    assert {u: a.gil for u, a in apps.items()} == {
        "/shop": "own",  # application-group=shop (1) or process-group=fast (1): both On
        "/old-shop": "shared",  # the two-selector block (2) beats application-group=shop (1)
        "/fast-main": "shared",  # the main interpreter always has the process GIL
        "/fast-other": "own",  # process-group=fast
        "/emb-shop": "own",  # application-group=shop matches embedded mode too
        "/emb-other": "shared",
    }
    assert apps["/old-shop"].gil_from.endswith(":7 (<WSGIInterpreterOptions>)")
    # WSGIPythonPath layers add to the base path of the process, least specific block first.
    assert apps["/shop"].python_path == ["/srv/fast", "/srv/any-shop"]
    assert apps["/old-shop"].python_path == ["/srv/any-shop", "/srv/legacy-shop"]
    assert apps["/emb-shop"].python_path == ["/srv/base", "/srv/any-shop"]
    assert apps["/emb-other"].python_path == ["/srv/base"]


def test_misplaced_new_directives(tmp_path):
    conf = _conf(tmp_path / "httpd.conf", """\
<VirtualHost *:80>
    WSGIPerInterpreterGIL On
    <WSGIInterpreterOptions application-group=x>
        WSGIPerInterpreterGIL On
    </WSGIInterpreterOptions>
</VirtualHost>
""")
    rc, res = run_json("check-apache", str(conf), "--no-homes")
    assert rc == 1
    msgs = [f["message"] for f in res["findings"] if f["code"] == "global-only-directive-in-virtualhost"]
    assert len(msgs) == 2 and any("WSGIPerInterpreterGIL" in m for m in msgs) \
        and any("WSGIInterpreterOptions" in m for m in msgs)


def test_free_threading_on_a_gil_build_and_old_python(tmp_path):
    """Debian's 4.9.4 embeds 3.11: no free-threaded build, no per-interpreter GIL."""
    servers.require(servers.MOD_WSGI_SO.as_posix())
    conf = _conf(tmp_path / "httpd.conf", f"""\
LoadModule wsgi_module {servers.MOD_WSGI_SO}
WSGIRestrictEmbedded On
WSGIPerInterpreterGIL On
<WSGIInterpreterOptions process-group=ft>
    WSGIFreeThreading On
</WSGIInterpreterOptions>
WSGIDaemonProcess ft
WSGIDaemonProcess sub
WSGIScriptAlias /ft {tmp_path}/app.wsgi process-group=ft application-group=a
WSGIScriptAlias /sub {tmp_path}/app.wsgi process-group=sub application-group=b
""")
    (tmp_path / "app.wsgi").write_text("application = None\n")
    rc, res = run_json("check-apache", str(conf), "--no-homes")
    assert rc == 1
    f = finding(res, "free-threading-unavailable")
    assert f["severity"] == "error" and "/ft" in f["message"] and "WSGI0202" in f["message"]
    assert any(":4: WSGIFreeThreading On" in e for e in f["evidence"])
    g = finding(res, "per-interpreter-gil-unsupported")
    assert g["message"].startswith("/sub: WSGIPerInterpreterGIL On") and "3.11" in g["message"]
    gil = {a["url"]: a["gil"] for a in res["facts"]["apps"]}
    assert gil == {"/ft": "shared", "/sub": "shared"}


@pytest.fixture(scope="module")
def psutil_venv_313(tmp_path_factory):
    python = servers.readable_python("3.13")
    root = servers.fresh_shared_dir("ca6")
    yield python, servers.make_venv(root / "venv", python=str(python), packages=["psutil"])


def test_own_gil_group_with_psutil(tmp_path, psutil_venv_313):
    """The done-when case: WSGIPerInterpreterGIL On and a venv holding psutil."""
    python, venv = psutil_venv_313
    tmp_path = venv.root.parent  # www-data must read the script
    (tmp_path / "app.wsgi").write_text("import psutil\n")
    conf = _conf(tmp_path / "httpd.conf", f"""\
WSGIRestrictEmbedded On
WSGIPerInterpreterGIL On
WSGIDaemonProcess app python-home={venv.root}
WSGIScriptAlias /app {tmp_path}/app.wsgi process-group=app application-group=app1
WSGIScriptAlias /main {tmp_path}/app.wsgi process-group=app application-group=%{{GLOBAL}}
""")
    rc, res = run_json("check-apache", str(conf), "--python", str(python), "--no-predict")
    assert rc == 1
    assert codes(res) == ["extension-refuses-interpreter"], res["findings"]
    f = finding(res, "extension-refuses-interpreter")
    assert f["message"].startswith(f"/app ({tmp_path}/app.wsgi) runs in sub-interpreter app1 with its own GIL")
    assert f"psutil (installed in {venv.site_packages})" in f["message"]
    assert any(e.startswith(f"{venv.site_packages}/psutil/_psutil_linux") for e in f["evidence"])
    assert "application-group=%{GLOBAL}" in f["fix"]
    gil = {a["url"]: a["gil"] for a in res["facts"]["apps"]}
    assert gil == {"/app": "own", "/main": "shared"}
    # The text output shows the GIL column.
    from offline_helpers import run_cli
    rc, out, _ = run_cli("check-apache", str(conf), "--python", str(python), "--no-predict")
    header = next(line for line in out.splitlines() if line.startswith("where") and "GIL" in line)
    cols = header.split()
    assert cols.index("GIL") == cols.index("interpreter") + 1
    assert [line for line in out.splitlines() if " /app " in line and " app1 " in line and " own " in line]


def test_embedded_mode_that_cannot_start_as_the_apache_user(tmp_path):
    """WSGIPythonHome is a venv of pyenv's own Python, under a home www-data cannot read."""
    original = servers.pyenv_python("3.13")
    if original is None:
        servers.require(str(servers.pyenv_root() / "versions" / "3.13.*"))
    from venvprobe.offline.access import check_access, lookup_user
    if check_access(str(original.parents[1] / "lib"), lookup_user("www-data"), "rx").ok:
        pytest.skip(f"{original.parents[1]} is readable by www-data here")
    root = servers.fresh_shared_dir("ca6e")
    venv = servers.make_venv(root / "venv", python=str(original))
    conf = _conf(tmp_path / "httpd.conf", f"""\
WSGIPythonHome {venv.root}
WSGIDaemonProcess app python-home={venv.root}
WSGIScriptAlias /app {tmp_path}/app.wsgi process-group=app
WSGIScriptAlias /emb {tmp_path}/app.wsgi
""")
    (tmp_path / "app.wsgi").write_text("application = None\n")
    rc, res = run_json("check-apache", str(conf), "--python", str(original), "--no-predict")
    assert rc == 1
    base = [f for f in res["findings"] if f["code"] == "python-base-unreadable"]
    assert base and all(str(original.parents[1]) in f["message"] for f in base)
    f = finding(res, "embedded-python-fails")
    assert f["severity"] == "error" and "/emb run embedded" in f["message"]
    assert "WSGIRestrictEmbedded On" in f["fix"]


@pytest.mark.parametrize("which", ["debian-4.9", "pip-6.x"])
def test_new_directives_need_mod_wsgi6(tmp_path, which):
    """What httpd itself says (``apache2 -t``) with each mod_wsgi, against check-apache and explain-log."""
    import subprocess

    servers.require_apache()
    so = servers.MOD_WSGI_SO if which == "debian-4.9" else servers.mod_wsgi6("3.13").so
    conf = _conf(tmp_path / "httpd.conf", f"""\
LoadModule mpm_event_module {servers.APACHE_MODULES_DIR}/mod_mpm_event.so
LoadModule wsgi_module {so}
ServerName 127.0.0.1
ErrorLog {tmp_path}/error.log
WSGIPerInterpreterGIL On
""")
    test = subprocess.run([servers.apache_binary(), "-d", str(tmp_path), "-f", str(conf), "-t"],
                          capture_output=True, text=True, timeout=30)
    rc, res = run_json("check-apache", str(conf), "--no-homes")
    unknown = [f for f in res["findings"] if f["code"] == "directive-unknown-to-mod-wsgi"]
    if which == "debian-4.9":
        assert test.returncode != 0 and "Invalid command 'WSGIPerInterpreterGIL'" in test.stderr
        assert len(unknown) == 1 and unknown[0]["message"].startswith(f"WSGIPerInterpreterGIL ({conf}:5)")
        log = tmp_path / "httpd-t.log"
        log.write_text(test.stderr)
        rc, res = run_json("explain-log", str(log), "--no-check-homes")
        assert rc == 1 and codes(res) == ["directive-unknown-to-mod-wsgi"]
    else:
        assert test.returncode == 0, test.stderr
        assert unknown == []
