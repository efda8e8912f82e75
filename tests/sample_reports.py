"""A report with errors, warnings and awkward paths, shared by the browser and Markdown tests."""

from __future__ import annotations

from test_analyze_report import PREFIX, _entry, mini_report
from venvprobe.analyze import analyze

# Markdown-active characters a real path can hold: emphasis, table pipes, code backticks.
ODD_PATH = "/srv/app/src/__init__/*star*|pipe|``tick`/lib_dir_/x"
LONG_PATH = ("/srv/deployments/customer-portal/releases/2030-01-01T00-00-00Z/venvs/"
             "python3.11-with-a-rather-long-name/lib/python3.11/site-packages")


def sample_report() -> dict:
    """A mod_wsgi report with 2 errors, 3 warnings and 1 info, 20 distributions, one shadowed."""
    r = mini_report()
    r["generated_at"] = "2030-01-01T00:00:00.000Z"
    r["interpreter"]["pyvenv_cfg"].update(version="3.9.18", home="/opt/python3.9/bin")
    r["identity"]["server"].update(mode="daemon")
    r["sys_path"]["entries"] += [
        _entry(3, ODD_PATH, "runtime", exists=False),
        _entry(4, "", "script_dir"),
        _entry(5, "", "script_dir", duplicate_of=4),
        _entry(6, "/srv/shared/private", "pythonpath", readable=False),
        _entry(7, LONG_PATH, "runtime"),
    ]
    r["environment"]["variables"] = {"PYTHONPATH": "/srv/shared/private"}
    site = PREFIX + "/lib/python3.11/site-packages"
    r["distributions"] = [{"name": f"package_{i}__init__", "version": f"1.{i}.0", "location": site,
                           "location_index": 2, "installer": "pip"} for i in range(19)]
    r["distributions"].append({"name": "requests", "version": "2.31.0", "location": LONG_PATH,
                               "location_index": 7, "installer": "pip"})
    r["shadowed"]["distributions"] = [{
        "name": "requests",
        "winner": {"version": "2.31.0", "location": LONG_PATH, "location_index": 7,
                   "metadata_path": LONG_PATH + "/requests-2.31.0.dist-info"},
        "losers": [{"version": "2.28.1", "location": site, "location_index": 2,
                    "metadata_path": site + "/requests-2.28.1.dist-info"}],
        "versions_differ": True,
    }]
    r["process"] = {"pid": 10, "name": "apache2", "user": "www-data", "rss": 73400320, "cmdline": ["/usr/sbin/apache2", "-k", "start"]}
    r["findings"] = analyze(r)
    return r
