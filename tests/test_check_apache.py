"""check-apache without starting Apache: reading (Include, Define, IfModule...) and per-app resolution."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from offline_helpers import codes, finding, run_cli, run_json, write_app
from venvprobe.offline import apache_config as ac

NO_HOMES = ("--no-homes",)


def _conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_split_args_and_continuations(tmp_path):
    assert ac.split_args('a "b c" \'d\\\'e\' f=g') == ["a", "b c", "d'e", "f=g"]
    conf = _conf(tmp_path / "a.conf", 'WSGIDaemonProcess g \\\n    python-home="/srv/my venv" \\\n    user=app\n'
                                      "# WSGIDaemonProcess commented python-home=/x\n")
    cfg = ac.load(str(conf), envvars=None)
    [g] = cfg.groups
    assert g.name == "g" and g.python_home == "/srv/my venv" and g.options["user"] == "app"
    assert g.where == f"{conf}:1"


def test_includes_defines_and_conditionals(tmp_path):
    root = tmp_path / "etc"
    _conf(root / "mods" / "wsgi.load", "LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n")
    _conf(root / "sites" / "a.conf", "<IfModule mod_wsgi.c>\n  WSGIDaemonProcess a python-home=${VENVS}/a\n</IfModule>\n"
                                     "<IfModule !mod_wsgi.c>\n  WSGIDaemonProcess never\n</IfModule>\n")
    _conf(root / "sites" / "b.conf", "<IfDefine PROD>\n  WSGIDaemonProcess prod\n</IfDefine>\n"
                                     "<IfDefine !PROD>\n  WSGIDaemonProcess dev\n</IfDefine>\n")
    main = _conf(root / "httpd.conf", "Define VENVS /srv/venvs\nInclude mods/*.load\nIncludeOptional sites/*.conf\n"
                                      "IncludeOptional nothing/*.conf\nUser ${APACHE_RUN_USER}\n")
    envvars = _conf(tmp_path / "envvars", "export APACHE_RUN_USER=www-data\n")
    cfg = ac.load(str(main), envvars=str(envvars))
    assert [g.name for g in cfg.groups] == ["a", "dev"]
    assert cfg.groups[0].python_home == "/srv/venvs/a"
    assert cfg.user == "www-data" and cfg.wsgi_loaded and cfg.full_config and len(cfg.files) == 4
    cfg = ac.load(str(main), envvars=str(envvars), defines=["PROD"])
    assert [g.name for g in cfg.groups] == ["a", "prod"]
    # Include (not Optional) of nothing is an error, like httpd's
    _conf(root / "bad.conf", "Include missing/*.conf\n")
    with pytest.raises(ac.ConfigError, match="matches no file"):
        ac.load(str(root / "bad.conf"), envvars=None)
    rc, out, err = run_cli("check-apache", str(root / "bad.conf"))
    assert rc == 2 and "matches no file" in err and "Traceback" not in err
    _conf(root / "open.conf", "<VirtualHost *:80>\nServerName x\n")
    rc, out, err = run_cli("check-apache", str(root / "open.conf"))
    assert rc == 2 and "never closed" in err


def test_system_configuration_reads(tmp_path):
    if not os.path.exists("/etc/apache2/apache2.conf"):
        pytest.skip("no Debian apache2 config")
    cfg = ac.load()
    assert cfg.full_config and len(cfg.files) > 5 and cfg.user == "www-data"
    assert any(v.addrs for v in cfg.vhosts)
    rc, res = run_json("check-apache", "--no-predict")
    assert rc in (0, 1) and res["facts"]["config"] == "/etc/apache2/apache2.conf"


def test_process_and_application_group_resolution(tmp_path):
    app_dir = tmp_path / "srv"
    conf = _conf(tmp_path / "site.conf", f"""\
ServerName example.com
WSGIDaemonProcess global-g
WSGIProcessGroup global-g
WSGIScriptAlias /top {app_dir}/top.wsgi
<VirtualHost *:8080>
    ServerName shop.example.com
    WSGIDaemonProcess shop
    WSGIScriptAlias /shop {app_dir}/shop/app.wsgi
    WSGIScriptAlias /api {app_dir}/shop/api.wsgi application-group=api
    WSGIScriptAlias /admin {app_dir}/admin.wsgi process-group=%{{GLOBAL}}
    <Directory {app_dir}/shop>
        WSGIProcessGroup shop
        WSGIApplicationGroup %{{GLOBAL}}
    </Directory>
    <Location /api>
        WSGIApplicationGroup overridden-by-option
    </Location>
</VirtualHost>
""")
    cfg = ac.load(str(conf), envvars=None)
    apps = {a.url: a for a in cfg.apps}
    assert (apps["/top"].mode, apps["/top"].process_group, apps["/top"].interpreter_name()) == \
        ("daemon", "global-g", "example.com|/top")
    shop = apps["/shop"]
    assert (shop.mode, shop.process_group, shop.main_interpreter) == ("daemon", "shop", True)
    assert shop.process_group_from == f"{conf}:12"
    assert apps["/api"].application_group == "api" and apps["/api"].process_group == "shop"
    assert apps["/admin"].mode == "embedded"
    assert apps["/admin"].interpreter_name() == "shop.example.com:8080|/admin"
    # the global WSGIProcessGroup reaches into the vhost for /admin? no: process-group= wins
    assert apps["/admin"].process_group_from.endswith("(process-group=)")


def test_findings_from_the_config(tmp_path, venv_factory, shared_tmp):
    venv = venv_factory("venv")
    (venv.site_packages / "numpy-1.26.0.dist-info").mkdir()
    other = venv_factory("other")
    for name in ("a.wsgi", "b.wsgi", "sub.wsgi"):
        write_app(shared_tmp, name)
    probe = shared_tmp / "probe.wsgi"
    probe.write_text("from venvprobe.wsgi import application\n")
    conf = _conf(shared_tmp / "site.conf", f"""\
WSGIPythonHome {venv.root}
WSGIDaemonProcess inherits
WSGIDaemonProcess old python-home={venv.root} python-path={other.site_packages}
WSGIDaemonProcess subs python-home={venv.root}
WSGIScriptAlias /a {shared_tmp}/a.wsgi process-group=inherits application-group=%{{GLOBAL}}
WSGIScriptAlias /b {shared_tmp}/b.wsgi process-group=inherits application-group=%{{GLOBAL}}
WSGIScriptAlias /old {shared_tmp}/a.wsgi process-group=old application-group=%{{GLOBAL}}
WSGIScriptAlias /sub {shared_tmp}/sub.wsgi process-group=subs
WSGIScriptAlias /_venvprobe {shared_tmp}/probe.wsgi process-group=subs
WSGIScriptAlias /gone {shared_tmp}/gone.wsgi process-group=subs application-group=%{{GLOBAL}}
""")
    rc, res = run_json("check-apache", str(conf), "--no-predict")
    assert rc == 1
    assert "/a" in finding(res, "several-apps-one-interpreter")["message"]
    assert finding(res, "several-apps-one-interpreter")["severity"] == "warning"
    assert "inherits" in finding(res, "global-python-home-inherited")["message"]
    f = finding(res, "base-site-visible")
    assert f"use python-home={other.root}" in f["message"] and "python-home" in f["fix"]
    f = finding(res, "c-extension-in-subinterpreter")
    assert "/sub" in f["message"] and "numpy" in f["message"] and "%{GLOBAL}" in f["fix"]
    assert "/_venvprobe" in finding(res, "probe-alone")["message"]
    assert "gone.wsgi" in finding(res, "wsgi-script-unreadable")["message"]
    apps = {a["url"]: a for a in res["facts"]["apps"]}
    assert apps["/a"]["python_home"] == str(venv.root) and "inherited" in apps["/a"]["python_home_from"]
    assert apps["/_venvprobe"]["is_probe"] and not apps["/sub"]["is_probe"]
    # text output has the per-app table
    rc, out, err = run_cli("check-apache", str(conf), "--no-predict")
    assert "== Applications ==" in out and "main interpreter" in out


def test_global_directives_in_sections(tmp_path):
    conf = _conf(tmp_path / "x.conf", "<VirtualHost *:80>\n  WSGIPythonPath /srv/a\n</VirtualHost>\n"
                                      "<Directory /srv>\n  WSGIRestrictEmbedded On\n</Directory>\n")
    rc, res = run_json("check-apache", str(conf), *NO_HOMES)
    msgs = [f["message"] for f in res["findings"] if f["code"] == "global-only-directive-in-virtualhost"]
    assert any("WSGIPythonPath" in m and "<VirtualHost>" in m for m in msgs)
    assert any("WSGIRestrictEmbedded" in m and "<Directory>" in m for m in msgs)


def test_config_errors_match_httpd(tmp_path):
    """What check-apache calls fatal, apache2 -t refuses too (and the reverse for a clean file)."""
    apache = shutil.which("apache2") or "/usr/sbin/apache2"
    if not os.path.exists(apache):
        pytest.skip("no apache2")
    base = ("ServerRoot /etc/apache2\nLoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n"
            "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
            f"PidFile {tmp_path}/pid\nErrorLog {tmp_path}/err\nListen 127.0.0.1:1\n")
    for body, bad in (("WSGIPythonHome /srv/v\n", False), ("<VirtualHost *:1>\nWSGIPythonHome /srv/v\n</VirtualHost>\n", True)):
        conf = _conf(tmp_path / "t.conf", base + body)
        proc = subprocess.run([apache, "-t", "-f", str(conf)], capture_output=True, text=True)
        rc, res = run_json("check-apache", str(conf), *NO_HOMES)
        assert (proc.returncode != 0) == bad == ("global-only-directive-in-virtualhost" in codes(res)), proc.stderr


def test_mod_wsgi_not_loaded(tmp_path):
    conf = _conf(tmp_path / "x.conf", "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                                      "WSGIScriptAlias / /srv/app.wsgi\n")
    rc, res = run_json("check-apache", str(conf), *NO_HOMES)
    assert "mod-wsgi-not-loaded" in codes(res)


def test_alias_match_else_and_macro(tmp_path):
    conf = _conf(tmp_path / "m.conf", """\
<IfModule mod_nothing.c>
    WSGIDaemonProcess no
</IfModule>
<Else>
    WSGIDaemonProcess yes
</Else>
<Macro App $name>
    WSGIDaemonProcess $name
</Macro>
WSGIScriptAliasMatch ^/shop/([^/]+) /srv/shops/$1.wsgi process-group=yes
""")
    cfg = ac.load(str(conf), envvars=None)
    assert [g.name for g in cfg.groups] == ["yes"]  # the Macro body is a template, not a group
    [app] = cfg.apps
    assert app.is_match and app.mode == "daemon" and app.group.name == "yes"
    rc, res = run_json("check-apache", str(conf), *NO_HOMES)
    assert "wsgi-script-unreadable" not in codes(res)  # a $1 path cannot be checked
