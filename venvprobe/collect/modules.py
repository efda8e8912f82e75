"""The ``modules`` section: what is loaded in this interpreter, from where, and whether it is stale.

Compares each loaded top-level module with what sys.path resolves to now
(the providers the shadowed section uses) and flags source files changed
after the process started.
"""

import os
import sys

from venvprobe.collect.common import WSGI_SCRIPT_PREFIXES, _ext_suffixes, _same_file, _text
from venvprobe.collect.process import process_start
from venvprobe.collect.shadowing import _classify_packages


def collect(ctx):
    """Top-level modules loaded in this interpreter and where from.

    Compares each with what sys.path resolves to *now* (stale imports),
    and flags source files changed after the process started.
    """
    providers = ctx.providers()
    start = process_start()
    suffixes = _ext_suffixes()
    loaded = []
    extensions = []
    wsgi_scripts = []
    for name, module in list(sys.modules.items()):
        if module is None:
            continue
        try:
            filename = getattr(module, "__file__", None)
        except Exception:
            filename = None
        if name.startswith(WSGI_SCRIPT_PREFIXES):
            wsgi_scripts.append({"module": name, "file": _text(filename) if filename else None})
            continue
        if filename and isinstance(filename, str) and filename.endswith(tuple(suffixes)):
            extensions.append({"module": name, "file": _text(filename)})
        if "." in name or not filename or not isinstance(filename, str):
            continue
        item = {"name": name, "file": _text(filename)}
        provs = providers.get(name)
        if provs:
            _classify_packages(provs)
            regular = [p for p in provs if p["kind"] != "namespace"]
            expected = regular[0] if regular else provs[0]
            item["resolves_to"] = expected["path"]
            loaded_root = filename
            if os.path.basename(filename).startswith("__init__."):
                loaded_root = os.path.dirname(filename)
            item["matches_sys_path"] = _same_file(loaded_root, expected["path"])
        if start is not None:
            try:
                mtime = os.stat(filename).st_mtime
                # The start time is only known to ~10 ms and file systems
                # round mtimes: a second of slack avoids flagging files
                # written just before the process started.
                if mtime > start + 1.0:
                    item["modified_after_start"] = True
                    item["mtime"] = mtime
            except OSError:
                item["file_missing"] = True
        loaded.append(item)
    loaded.sort(key=lambda m: m["name"])
    return {
        "count": len(sys.modules),
        "process_start": start,
        "top_level": loaded,
        "extensions": sorted(extensions, key=lambda e: e["module"]),
        "wsgi_scripts": wsgi_scripts,
    }
