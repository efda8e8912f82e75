"""C extensions this interpreter may refuse, and its GIL and PEP 684 configuration (part of ``identity``).

Static, from each extension file's ELF dynamic symbols: nothing is
imported (``venvprobe check-extensions`` ships this module to run the
opt-in import test in a throwaway process).  Bounded: at most
``MAX_EXTENSION_FILES`` files looked at, ``MAX_DYNSTR_BYTES`` read from each.
"""

import os
import sys

from venvprobe.collect.common import _ext_suffixes, _text


def _extension_support(ctx, config):
    """Installed and loaded C extensions this interpreter may refuse.

    Only looked at where the interpreter checks (own GIL: PEP 489
    multi-phase init with ``Py_mod_multiple_interpreters`` required) or
    runs free-threaded: elsewhere every extension loads and the scan
    would only cost time.  Static, from each file's dynamic symbols:
    nothing is imported (see ``venvprobe check-extensions`` for the
    opt-in import test in a throwaway process).
    """
    checks = config.get("check_multi_interp_extensions")
    free = config.get("free_threaded_build")
    out = {"checked": bool(checks or free), "reason": None, "modules": [], "truncated": False}
    if not out["checked"]:
        out["reason"] = "this interpreter loads any extension (shared GIL, no multi-interpreter check)"
        return out
    out["reason"] = "own GIL: extensions must declare multi-interpreter support" if checks else \
        "free-threaded build: extensions must be built for it and declare Py_mod_gil"
    suffixes = _ext_suffixes()
    loaded = {}
    for name, module in list(sys.modules.items()):
        try:
            filename = getattr(module, "__file__", None) if module is not None else None
        except Exception:
            continue
        if isinstance(filename, str) and filename.endswith(suffixes):  # realpath costs: extensions only
            loaded[os.path.realpath(filename)] = name
    # In a venv platstdlib names the venv, stdlib the base: os.py's directory is the truth.
    stdlibs = set(os.path.normpath(p) for p in (ctx.paths().get("platstdlib"), ctx.paths().get("stdlib"),
                                                os.path.dirname(os.__file__)) if p)
    seen = set()
    budget = [MAX_EXTENSION_FILES]
    for entry in list(sys.path):
        if not isinstance(entry, str) or not entry or not os.path.isdir(entry):
            continue
        entry = os.path.normpath(entry)
        if any(entry == lib or entry.startswith(lib + os.sep) for lib in stdlibs) \
                and "site-packages" not in entry and "dist-packages" not in entry:
            continue  # the standard library's own extensions are built for this interpreter
        for path in _walk_extensions(entry, budget):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            init = _cached_init_kind(path)
            item = {"file": _text(path), "site_dir": _text(entry),
                    "package": _text(os.path.relpath(path, entry).split(os.sep)[0].split(".")[0]),
                    "init": init, "loaded": loaded.get(real)}
            base = os.path.basename(path)
            if free and not base.endswith(tuple(s for s in suffixes if s != ".so")) \
                    and (".abi3." in base or ".cpython-" in base):
                # untested here: no free-threaded build on the test machines
                item["abi_mismatch"] = True
            if checks and init == "single-phase":
                item["refused"] = "single-phase init: never loads in an interpreter that checks"
            elif item.get("abi_mismatch"):
                item["refused"] = "not built for this free-threaded ABI"
            out["modules"].append(item)
        if budget[0] <= 0:
            out["truncated"] = True
            break
    out["modules"].sort(key=lambda m: m["file"])
    return out

# -- process -----------------------------------------------------------------
MAX_EXTENSION_FILES = 5000
MAX_DYNSTR_BYTES = 8 << 20


def _interpreter_config(main):
    """GIL mode and PEP 684 configuration of the interpreter this code runs in.

    ``gil``: "shared" (the main interpreter's GIL, which every legacy
    sub-interpreter shares), "own" (a PEP 684 sub-interpreter with its own
    GIL) or "none" (free-threaded build with the GIL disabled).
    """
    import sysconfig

    out = {"gil": None, "gil_source": None, "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
           "gil_enabled": None, "config": None, "config_source": None,
           "check_multi_interp_extensions": None}
    is_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    out["gil_enabled"] = bool(is_enabled()) if is_enabled is not None else True
    config = None
    # 3.13: _interpreters; 3.14 keeps it beside concurrent.interpreters (untested: no 3.14 at hand).
    for modname in ("_interpreters",):
        try:
            module = __import__(modname)
            current = module.get_current()
            cur_id = current[0] if isinstance(current, tuple) else current
            ns = module.get_config(int(getattr(cur_id, "id", cur_id)))
            config = {}
            for key in ("use_main_obmalloc", "allow_fork", "allow_exec", "allow_threads", "allow_daemon_threads",
                        "check_multi_interp_extensions", "gil"):
                if hasattr(ns, key):
                    value = getattr(ns, key)
                    config[key] = value if isinstance(value, (bool, int)) else _text(str(value))
            out["config_source"] = modname + ".get_config()"
            break
        except Exception:
            config = None
    if config is None:
        # 3.12 has no get_config(); the one piece it exposes: daemon threads
        # are refused exactly in isolated (own-GIL) configurations.
        try:
            import _thread

            allowed = getattr(_thread, "daemon_threads_allowed", None)
            if allowed is not None:
                config = {"allow_daemon_threads": bool(allowed())}
                out["config_source"] = "_thread.daemon_threads_allowed()"
        except Exception:
            config = None
    out["config"] = config
    if out["free_threaded_build"] and not out["gil_enabled"]:
        out["gil"], out["gil_source"] = "none", "sys._is_gil_enabled()"
    elif config and config.get("gil") in ("own", "shared", "default") and main is not None:
        # The main interpreter reports 'own': it owns the process's GIL, the
        # one legacy sub-interpreters share.
        out["gil"] = "own" if config["gil"] == "own" and not main else "shared"
        out["gil_source"] = out["config_source"]
    elif main:
        out["gil"], out["gil_source"] = "shared", "main interpreter"
    elif config and "allow_daemon_threads" in config and sys.version_info >= (3, 12):
        out["gil"] = "shared" if config["allow_daemon_threads"] else "own"
        out["gil_source"] = "inferred from " + out["config_source"] + " (3.12 has no get_config)"
    elif sys.version_info < (3, 12):
        out["gil"], out["gil_source"] = "shared", "Python < 3.12 has no per-interpreter GIL"
    if config and "check_multi_interp_extensions" in config:
        out["check_multi_interp_extensions"] = bool(config["check_multi_interp_extensions"])
    elif out["gil"] is not None:
        # PEP 684: an own GIL requires the check; legacy configs do not check.
        out["check_multi_interp_extensions"] = out["gil"] == "own"
    return out


def _walk_extensions(top, budget, depth=6):
    """Extension module files under *top* (bounded by budget[0] files seen)."""
    suffixes = _ext_suffixes()
    stack = [(top, 0)]
    while stack and budget[0] > 0:
        path, level = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            budget[0] -= 1
            if budget[0] <= 0:
                return
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if level < depth and name != "__pycache__" and not name.endswith((".dist-info", ".egg-info")):
                        stack.append((entry.path, level + 1))
                elif name.endswith(".so") and (name.endswith(suffixes) or ".cpython-" in name or ".abi3." in name):
                    yield entry.path
            except OSError:
                continue


# {path: ((mtime_ns, size), kind)}: /identity runs this scan on every request in an own-GIL
# interpreter; module state is per interpreter, so each keeps its own.
_INIT_KINDS = {}  # type: dict[str, tuple]


def _cached_init_kind(path):
    try:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
    except OSError:
        return "unknown"
    hit = _INIT_KINDS.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    kind = _extension_init_kind(path)
    if len(_INIT_KINDS) < MAX_EXTENSION_FILES:
        _INIT_KINDS[path] = (key, kind)
    return kind


def _extension_init_kind(path):
    """"single-phase", "multi-phase" or "unknown", from the ELF dynamic string table.

    A PEP 489 multi-phase module returns its definition through
    ``PyModuleDef_Init``; a single-phase one builds its module with
    ``PyModule_Create2`` and never calls it.  Neither name is ever defined
    by an extension, so their presence in .dynstr means "imported".
    """
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return "unknown"
            end = "<" if head[5] == 1 else ">"
            if head[4] == 2:
                shoff = struct.unpack_from(end + "Q", head, 0x28)[0]
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x3A)
                fmt = end + "IIQQQQIIQQ"
            else:
                shoff = struct.unpack_from(end + "I", head, 0x20)[0]
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x2E)
                fmt = end + "IIIIIIIIII"
            if not shnum or shnum > 4096 or shentsize < struct.calcsize(fmt):
                return "unknown"
            handle.seek(shoff)
            table = handle.read(shentsize * shnum)
            sections = [struct.unpack_from(fmt, table, i * shentsize) for i in range(len(table) // shentsize)]
            for sec in sections:
                if sec[1] != 11 or sec[6] >= len(sections):  # SHT_DYNSYM -> its string table
                    continue
                strtab = sections[sec[6]]
                if strtab[5] > MAX_DYNSTR_BYTES:
                    return "unknown"
                handle.seek(strtab[4])
                names = handle.read(strtab[5])
                if b"\0PyModuleDef_Init\0" in names:
                    return "multi-phase"
                if b"\0PyModule_Create2\0" in names or b"\0PyModule_Create\0" in names:
                    return "single-phase"
                return "unknown"
    except (OSError, struct.error, ValueError):
        pass
    return "unknown"
