"""The .pth files site.py processes, parsed as site.py would and never executed.

Which line of which file put an entry on sys.path, and which editable
finders import lines install.  Bounded: at most ``MAX_PTH_BYTES`` per file,
``MAX_PTH_TOTAL_BYTES`` and ``MAX_PTH_LINES`` in all (past those the lines
still explain entries, but are not listed).
"""

import os
import sys

from venvprobe.collect.common import MAX_PTH_BYTES, MAX_PTH_LINES, MAX_PTH_TOTAL_BYTES, _error, _read_text, _text


class PthScan(object):
    """Every .pth file of every sys.path directory, parsed.

    ``index``: {normalised path a line adds: (pth file, line number, its directory)};
    ``report``: one record per file (the sys_path section's ``pth_files``);
    ``finders``: the setuptools editable finders import lines install;
    ``imports``: (line, pth file, line number) of every import line.
    """

    __slots__ = ("index", "report", "finders", "imports")

    def __init__(self):
        self.index = {}
        self.report = []
        self.finders = []
        self.imports = []


def scan(ctx):
    """Parse every .pth file in every sys.path directory, never executing one (Context.pth)."""
    out = PthScan()
    index = out.index
    on_path = {os.path.normpath(p) for p in sys.path if isinstance(p, str)}
    total_bytes = 0
    reported = 0
    seen_dirs = set()
    for raw in list(sys.path):
        if not isinstance(raw, str) or not raw:
            continue
        sitedir = os.path.normpath(raw)
        if sitedir in seen_dirs:  # a repeated entry: one record per file
            continue
        seen_dirs.add(sitedir)
        listing = ctx.listing(sitedir)
        if listing.kind != "dir":
            continue
        for name in sorted(n for n in listing.names if n.endswith(".pth") and not n.startswith(".")):
            path = os.path.join(sitedir, name)
            record = {"file": _text(path), "dir": _text(sitedir), "lines": []}
            if total_bytes >= MAX_PTH_TOTAL_BYTES:
                record["error"] = "not read: the .pth files before it hold more than %d MiB" % (
                    MAX_PTH_TOTAL_BYTES >> 20)
                ctx.skip("pth_files", "files not read: the .pth files hold more than %d MiB in all"
                          % (MAX_PTH_TOTAL_BYTES >> 20))
                out.report.append(record)
                continue
            try:
                text = _read_text(path, min(MAX_PTH_BYTES, MAX_PTH_TOTAL_BYTES - total_bytes))
            except (OSError, ValueError) as exc:
                record["error"] = _error(exc)["error"]
                out.report.append(record)
                continue
            total_bytes += len(text)
            skipped_lines = 0
            lines = text.splitlines()
            for lineno, line in enumerate(lines, 1):
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                if reported >= MAX_PTH_LINES:
                    skipped_lines = _pth_rest(lines, lineno - 1, sitedir, path, on_path, index)
                    break
                reported += 1
                if line.startswith(("import ", "import\t")):
                    item = {"line": lineno, "kind": "import", "text": ctx.masker.pth_line(line.rstrip()[:500])}
                    finder = _editable_finder(sitedir, name, line) if name.startswith("__editable__") else None
                    if finder is not None:
                        item["editable_finder"] = finder
                        out.finders.append(dict(finder, pth_file=_text(path)))
                    record["lines"].append(item)
                    out.imports.append((line, _text(path), lineno))
                    continue
                target = os.path.normpath(os.path.join(sitedir, line.rstrip()))
                exists = os.path.exists(target)
                record["lines"].append({
                    "line": lineno, "kind": "path", "text": ctx.masker.text(_text(line.rstrip()[:500])),
                    "target": ctx.masker.text(_text(target)), "exists": exists, "on_sys_path": target in on_path,
                })
                if target not in index:
                    index[target] = (_text(path), lineno, sitedir)
            if skipped_lines:
                record["skipped_lines"] = skipped_lines
                ctx.skip("pth_lines", "lines of .pth files not listed: more than %d in all" % MAX_PTH_LINES)
            out.report.append(record)
    return out


def _pth_rest(lines, start, sitedir, path, on_path, index):
    """Lines of a .pth file past the cap: not listed nor stat'ed, but a line
    that put an entry on sys.path still explains that entry.  Set
    operations, not a Python loop per line: the rest may be a million lines.
    Returns how many lines were skipped."""
    rest = lines[start:]
    wanted = set(on_path)
    for p in on_path:
        try:
            wanted.add(os.path.relpath(p, sitedir))
        except ValueError:
            pass
    for hit in set(map(str.strip, rest)) & wanted:
        lineno = start + 1 + next(i for i, line in enumerate(rest) if line.strip() == hit)
        target = os.path.normpath(os.path.join(sitedir, hit))
        if target in on_path and target not in index:
            index[target] = (_text(path), lineno, sitedir)
    return len(rest)

# -- distributions ---------------------------------------------------------
def _editable_finder(sitedir, pth_name, line):
    """The module map of a setuptools editable finder a ``.pth`` import line installs.

    setuptools writes ``import __editable___<dist>_finder; ...install()`` and a
    sibling module holding ``MAPPING = {top-level name: source dir}``.  Only
    that literal is read (never imported): ``ast`` is loaded only here.
    """
    words = line.split()
    if len(words) < 2:
        return None
    module = words[1].rstrip(";")
    if not module.startswith("__editable__") or not module.isidentifier():
        return None
    path = os.path.join(sitedir, module + ".py")
    out = {"module": module, "file": _text(path), "mapping": {}}
    try:
        text = _read_text(path, 256 * 1024)
    except OSError as exc:
        out["error"] = _error(exc)["error"]
        return out
    for src_line in text.splitlines():
        if src_line.startswith("MAPPING") and "=" in src_line:
            try:
                import ast

                value = ast.literal_eval(src_line.split("=", 1)[1].strip())
                out["mapping"] = {_text(k): _text(v) for k, v in dict(value).items()}
            except Exception as exc:  # a hand-edited finder must not sink the report
                out["error"] = _error(exc)["error"]
            break
    return out
