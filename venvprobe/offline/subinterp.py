"""Installed packages known to break in sub-interpreters (``c-extension-in-subinterpreter`` in
``check-apache`` and ``check-uwsgi``): by distribution name, and by PyO3's marker in extension modules."""

from __future__ import annotations

import os
from typing import Dict, List, Sequence, Tuple

from venvprobe.safeio import open_regular


# Packages whose C extensions refuse or break in sub-interpreters (single-phase
# init with global state).  PyO3-built ones are also found by scanning .so files.
SUBINTERPRETER_UNSAFE = {
    "numpy": "numpy (C extensions with global state: 'cannot load module more than once per process')",
    "scipy": "scipy (built on numpy's C API)",
    "pandas": "pandas (built on numpy's C API)",
    "lxml": "lxml (libxml2 global state)",
    "psycopg2": "psycopg2 (single-phase init C extension)",
    "psycopg2-binary": "psycopg2 (single-phase init C extension)",
    "cryptography": "cryptography (PyO3: 'PyO3 modules do not yet support subinterpreters')",
    "pydantic-core": "pydantic-core (PyO3)",
    "orjson": "orjson (PyO3)",
    "rpds-py": "rpds-py (PyO3)",
    "bcrypt": "bcrypt (PyO3 since 4.0)",
    "jiter": "jiter (PyO3)",
    "tokenizers": "tokenizers (PyO3)",
    "polars": "polars (PyO3)",
}


MAX_SCAN_BYTES = 256 << 20


def subinterpreter_unsafe(site_dirs: Sequence[str], scan_limit: int = MAX_SCAN_BYTES) -> List[Tuple[str, str]]:
    """Installed packages known to break in sub-interpreters: (name, why).

    Looks at *.dist-info names, then scans extension modules for PyO3's
    marker strings (bounded by *scan_limit* bytes in total).
    """
    found: Dict[str, str] = {}
    budget = scan_limit
    for sp in site_dirs:
        try:
            names = os.listdir(sp)
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                dist = name.rsplit(".", 1)[0].split("-")[0].lower().replace("_", "-")
                if dist in SUBINTERPRETER_UNSAFE:
                    found.setdefault(dist, SUBINTERPRETER_UNSAFE[dist])
        for dirpath, _dirs, files in os.walk(sp):
            for f in files:
                if not f.endswith(".so") or budget <= 0:
                    continue
                full = os.path.join(dirpath, f)
                top = os.path.relpath(full, sp).split(os.sep)[0].split(".")[0]
                if any(top.replace("_", "-").lower() == k or top.lower() == k.split("-")[0] for k in found):
                    continue
                try:
                    size = os.path.getsize(full)
                    if size > budget:
                        continue
                    budget -= size
                    with open_regular(full) as fh:  # a FIFO named x.so must not block the scan
                        data = fh.read(size)
                except OSError:
                    continue
                if b"pyo3" in data or b"PyO3" in data:
                    found.setdefault(top.lower(), f"{top} (PyO3 extension {os.path.relpath(full, sp)})")
    return sorted(found.items())
