"""The ``interpreter`` section: which Python this is, where it thinks it lives, how it was started.

Also :func:`parse_pyvenv_cfg`, which the offline checks share.  ``ctypes``
is imported only inside an embedding server (mod_wsgi, uWSGI), where the
C API is the only way to read the home it was given.
"""

import os
import sys

from venvprobe.collect.common import _error, _read_text, _text
from venvprobe.collect.masking import Masker
from venvprobe.collect.secret_words import _looks_secret_name


def collect(ctx):
    import sysconfig

    info = {
        "executable": _text(sys.executable),
        "real_executable": None,
        "base_executable": _text(getattr(sys, "_base_executable", "") or ""),
        "argv0": _text(sys.argv[0]) if getattr(sys, "argv", None) else None,
        "orig_argv": ctx.masker.argv(getattr(sys, "orig_argv", [])),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "version_full": _text(sys.version),
        "version_info": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "soabi": sysconfig.get_config_var("SOABI"),
        "abiflags": getattr(sys, "abiflags", ""),
        "platform": sys.platform,
        "prefix": _text(sys.prefix),
        "exec_prefix": _text(sys.exec_prefix),
        "base_prefix": _text(getattr(sys, "base_prefix", sys.prefix)),
        "base_exec_prefix": _text(getattr(sys, "base_exec_prefix", sys.exec_prefix)),
        "base_prefix_real": _text(os.path.realpath(getattr(sys, "base_prefix", sys.prefix))),
        "platlibdir": getattr(sys, "platlibdir", "lib"),
        "in_venv": getattr(sys, "base_prefix", sys.prefix) != sys.prefix,
        "real_prefix": _text(getattr(sys, "real_prefix")) if hasattr(sys, "real_prefix") else None,
        "has_real_prefix": hasattr(sys, "real_prefix"),
    }
    try:
        info["real_executable"] = _text(os.readlink("/proc/self/exe"))
    except OSError:
        info["real_executable"] = info["executable"]
    info["home"] = _home()
    info["pyvenv_cfg"] = _pyvenv_cfg(ctx.masker)
    paths = ctx.paths()
    info["sysconfig_paths"] = {
        key: _text(paths.get(key)) if paths.get(key) is not None else None
        for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts", "data", "include")
    }
    info["install_dirs_exist"] = {
        key: os.path.isdir(info["sysconfig_paths"][key]) if info["sysconfig_paths"].get(key) else None
        for key in ("purelib", "platlib")
    }
    try:
        info["sysconfig_scheme"] = sysconfig.get_default_scheme()
    except Exception:
        info["sysconfig_scheme"] = None
    info["user_site"] = _user_site()
    try:
        import site

        # Where site.py adds site-packages (the ones that exist) at start-up.
        info["site_packages"] = [_text(p) for p in site.getsitepackages()]
    except Exception:  # older virtualenv's site.py had no getsitepackages
        info["site_packages"] = None
    flags = sys.flags
    info["flags"] = {
        name: int(getattr(flags, name))
        for name in (
            "isolated", "no_site", "no_user_site", "ignore_environment",
            "safe_path", "dont_write_bytecode", "optimize", "utf8_mode",
        )
        if hasattr(flags, name)
    }
    info["build"] = {
        "shared_libpython": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
        "ldlibrary": sysconfig.get_config_var("LDLIBRARY"),
        "libdir": sysconfig.get_config_var("LIBDIR"),
        "configured_prefix": sysconfig.get_config_var("prefix"),
        "maxunicode": sys.maxunicode,
        "multiarch": sysconfig.get_config_var("MULTIARCH"),
    }
    info["mapped_objects"] = _mapped_objects()
    info["python_env"] = {
        name: ctx.masker.env_var(name, value)
        for name, value in sorted(os.environ.items()) if name.startswith("PYTHON")
    } if not sys.flags.ignore_environment else {}
    info["python_env_ignored"] = bool(sys.flags.ignore_environment)
    info["filesystem_encoding"] = sys.getfilesystemencoding()
    return info


def _home():
    home = {"env_PYTHONHOME": None, "initialised_with": None, "source": None}
    if not sys.flags.ignore_environment and os.environ.get("PYTHONHOME"):
        home["env_PYTHONHOME"] = _text(os.environ["PYTHONHOME"])
        home["source"] = "PYTHONHOME"
    # Only an embedding process (mod_wsgi, uWSGI) can have been given a
    # home through the C API; ctypes costs ms, so skip it elsewhere.
    if _embedded():
        try:
            import ctypes

            api = ctypes.pythonapi
            config_get = getattr(api, "PyConfig_Get", None)  # 3.14+ (PEP 741)
            getter = getattr(api, "Py_GetPythonHome", None)
            if config_get is not None:
                config_get.restype = ctypes.py_object
                config_get.argtypes = [ctypes.c_char_p]
                value = config_get(b"home")
                if value:
                    home["initialised_with"] = _text(value)
                    home["source"] = home["source"] or "PyConfig.home (embedding server)"
            elif getter is not None:
                getter.restype = ctypes.c_wchar_p
                value = getter()
                if value:
                    home["initialised_with"] = _text(value)
                    # mod_wsgi 5+ sets PyConfig.home (Py_GetPythonHome still reads it back);
                    # 4.x and uWSGI call Py_SetPythonHome.
                    version = getattr(sys.modules.get("mod_wsgi"), "version", None) or ()
                    api_name = "PyConfig.home" if version and version[0] >= 5 else "Py_SetPythonHome"
                    home["source"] = home["source"] or "%s (embedding server)" % api_name
        except Exception as exc:
            home["error"] = _error(exc)["error"]
        # mod_wsgi 4.x-6.x: a python-home holding a readable pyvenv.cfg is not
        # passed as a home at all; the interpreter is started as if it
        # were <home>/bin/python, so the venv shows as the program name.
        exe = sys.executable or ""
        if not home["initialised_with"] and sys.prefix != getattr(sys, "base_prefix", sys.prefix) \
                and os.path.dirname(os.path.dirname(exe)) == sys.prefix:
            home["program_name_home"] = _text(sys.prefix)
            home["source"] = home["source"] or "program name %s (python-home of a venv)" % _text(exe)
    return home


def _embedded():
    exe = os.path.basename(_real_exe())
    return not exe.startswith(("python", "pypy")) and ("mod_wsgi" in sys.modules or "uwsgi" in sys.modules)


def _real_exe():
    try:
        return os.readlink("/proc/self/exe")
    except OSError:
        return sys.executable or ""


def _pyvenv_cfg(masker):
    candidates = [os.path.join(sys.prefix, "pyvenv.cfg")]
    if sys.executable:
        bindir = os.path.dirname(sys.executable)
        candidates.append(os.path.join(os.path.dirname(bindir), "pyvenv.cfg"))
    for path in candidates:
        parsed = parse_pyvenv_cfg(path, masker)
        if parsed is not None:
            return parsed
    return None


def _user_site():
    import site

    out = {
        "ENABLE_USER_SITE": getattr(site, "ENABLE_USER_SITE", None),
        "USER_SITE": None,
        "USER_BASE": None,
        "HOME": _text(os.environ.get("HOME", "")) or None,
    }
    try:
        out["USER_BASE"] = _text(site.getuserbase())
        out["USER_SITE"] = _text(site.getusersitepackages())
    except Exception as exc:
        out["error"] = _error(exc)["error"]
    if out["USER_SITE"]:
        out["USER_SITE_exists"] = os.path.isdir(out["USER_SITE"])
    return out


def _mapped_objects():
    """libpython / mod_wsgi / uwsgi objects mapped into this process."""
    found = []
    try:
        with open("/proc/self/maps", "rb") as handle:
            data = handle.read(8 << 20)
    except OSError:
        return None
    seen = set()
    for line in data.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5].strip()
        base = os.path.basename(path)
        if path in seen:
            continue
        if base.startswith((b"libpython", b"mod_wsgi", b"python3", b"uwsgi")) or b"python3" in base and base.endswith(b".so"):
            seen.add(path)
            found.append(_text(path))
    return found

# -- sys.path ------------------------------------------------------------

def parse_pyvenv_cfg(path, masker=None):
    """Parse a pyvenv.cfg the way site.py does (key = value); None if unreadable.

    Values go through *masker* (a ``command`` line may carry an index URL with a token).
    """
    try:
        text = _read_text(path, 64 * 1024)
    except OSError as exc:
        if os.path.exists(path):
            return {"path": _text(path), "error": _error(exc)["error"], "readable": False}
        return None
    if masker is None:
        masker = Masker(os.environ.get("VENVPROBE_REDACT_KEY"))
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            key = key.strip().lower()
            value = value.strip()
            if _looks_secret_name(key):
                value = masker.mark(value)
            elif key == "command":
                value = masker.cmdline(value)
            else:
                value = masker.value(value)
            values[key] = value
    home = values.get("home")
    return {
        "path": _text(path),
        "readable": True,
        "home": home,
        "home_exists": os.path.isdir(home) if home else None,
        "version": values.get("version") or values.get("version_info"),
        "include_system_site_packages": values.get("include-system-site-packages", "false").lower() == "true",
        "creator": "virtualenv" if "virtualenv" in values else ("uv" if "uv" in values else "venv"),
        "creator_version": values.get("virtualenv") or values.get("uv"),
        "executable": values.get("executable"),
        "command": values.get("command"),
        "values": values,
    }

