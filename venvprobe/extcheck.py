"""Opt-in: do the C extensions an interpreter can import load in an own-GIL sub-interpreter?

The live collector only reads each extension's ELF symbols (single-phase init
never loads where multi-interpreter support is checked).  That cannot see a
multi-phase module that declares ``Py_mod_multiple_interpreters`` as not
supported, nor one whose init fails for another reason.  This check knows,
at a price, which is why it is opt-in (``venvprobe check-extensions``):

* it runs in a throwaway process of the target interpreter, never in the
  app's: each extension file is loaded in a fresh isolated (own-GIL)
  sub-interpreter that is destroyed after it;
* it executes each extension's C init function (``PyInit_*``) — code from the
  installed packages — but none of their Python code: the module is created
  from its file with ``ExtensionFileLoader``, the package's ``__init__.py`` is
  not imported;
* an extension that crashes the process ends the check (reported as such),
  not a server.

Everything below ``_main_extension_check`` runs inside the target after the
collector's source (it reuses its extension walker) and is standard-library
only; Python 3.12+ (``_xxsubinterpreters``; 3.13 ``_interpreters``).  3.14's
``concurrent.interpreters`` keeps ``_interpreters``: untested, no 3.14 here.
On a free-threaded build (untested here: none on the test machines) it also
imports each module with the GIL disabled and reports those that turn it
back on (no ``Py_mod_gil``).
"""

MAX_EXTENSIONS = 2000


def _isolated_api():
    import sys

    if sys.version_info < (3, 12):
        return None
    try:
        import _interpreters as api  # 3.13+

        return (lambda: api.create("isolated")), api.run_string, api.destroy, True
    except ImportError:
        import _xxsubinterpreters as api  # 3.12

        return (lambda: api.create(isolated=True)), api.run_string, api.destroy, False


def _module_name(site, path):
    import os

    rel = os.path.relpath(path, site).split(os.sep)
    rel[-1] = rel[-1].split(".")[0]
    return ".".join(rel)


def _main_extension_check():
    import json
    import os
    import sys
    import sysconfig

    api = _isolated_api()
    out = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
           "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")), "modules": [],
           "truncated": False, "error": None}
    if api is None:
        out["error"] = "Python %d.%d has no per-interpreter GIL (3.12+ needed)" % sys.version_info[:2]
        sys.stdout.write(json.dumps(out))
        return
    create, run, destroy, returns_exc = api
    stdlibs = set(os.path.normpath(p) for p in (sysconfig.get_paths().get("stdlib"),
                                                sysconfig.get_paths().get("platstdlib"),
                                                os.path.dirname(os.__file__)) if p)
    budget = [200000]
    seen = set()
    for entry in list(sys.path):
        if not isinstance(entry, str) or not entry or not os.path.isdir(entry):
            continue
        entry = os.path.normpath(entry)
        if any(entry == s or entry.startswith(s + os.sep) for s in stdlibs) and "-packages" not in entry:
            continue
        for path in _walk_extensions(entry, budget):  # noqa: F821 (from the collector's source)
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            if len(out["modules"]) >= MAX_EXTENSIONS:
                out["truncated"] = True
                break
            name = _module_name(entry, path)
            code = ("import importlib.machinery as m, importlib.util as u\n"
                    "l = m.ExtensionFileLoader(%r, %r)\n"
                    "u.module_from_spec(u.spec_from_file_location(%r, %r, loader=l))\n" % (name, path, name, path))
            error = None
            interp = create()
            try:
                result = run(interp, code)
                if returns_exc and result is not None:
                    error = getattr(result, "formatted", None) or str(result)
            except Exception as exc:  # 3.12: RunFailedError carries "<class 'ImportError'>: ..."
                error = str(exc)
            finally:
                try:
                    destroy(interp)
                except Exception:
                    pass
            item = {"module": name, "file": path, "site_dir": entry,
                    "package": name.split(".")[0], "loads": error is None, "error": error,
                    "init": _extension_init_kind(path)}  # noqa: F821
            out["modules"].append(item)
    if out["free_threaded_build"]:
        _check_gil_slots(out)
    sys.stdout.write(json.dumps(out))


def _check_gil_slots(out):
    """Free-threaded build only (untested: no such build on the test machines)."""
    import subprocess
    import sys

    for item in out["modules"]:
        code = ("import warnings, sys\nwarnings.simplefilter('error', RuntimeWarning)\n"
                "import importlib.machinery as m, importlib.util as u\n"
                "l = m.ExtensionFileLoader(%r, %r)\n"
                "u.module_from_spec(u.spec_from_file_location(%r, %r, loader=l))\n"
                % (item["module"], item["file"], item["module"], item["file"]))
        proc = subprocess.run([sys.executable, "-X", "gil=0", "-c", code], capture_output=True, text=True,
                              timeout=60)
        item["gil_not_used"] = proc.returncode == 0
        if proc.returncode != 0:
            item["gil_error"] = (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1][:300]
