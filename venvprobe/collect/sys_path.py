"""The ``sys_path`` section: every entry, what it holds, and who put it there.

Who put an entry there is decided by :data:`ORIGIN_RULES`, an ordered table:
the first rule that recognises an entry names its origin (``vocab.ORIGINS``
lists the same kinds; tests/test_vocab.py compares them).  Each rule is
``rule(entry, scan) -> details or None`` and may only read the facts in
:class:`_Entry` and :class:`_Scan`, computed before any rule runs.

About 400 lines on purpose: the rules and the facts they read are one
specification (as in CPython's site.py); split, a reader of one rule would
need the other file open to know what ``scan`` holds.
"""

import os
import sys

from venvprobe.collect.common import _cwd, _is_utf8, _read_bytes, _realpath, _text, first_row
from venvprobe.collect.identity import CWD_FIRST
from venvprobe.collect.interpreter import parse_pyvenv_cfg


class _Scan(object):
    """Facts about the whole of sys.path the origin rules share."""

    def __init__(self, ctx):
        self.ctx = ctx
        paths = ctx.paths()
        self.stdlib = os.path.normpath(paths.get("stdlib") or "")
        self.platstdlib = os.path.normpath(paths.get("platstdlib") or "")
        self.dynload = {os.path.join(self.stdlib, "lib-dynload"), os.path.join(self.platstdlib, "lib-dynload")}
        self.venv_sites, self.base_sites, self.user_site = _site_sets()
        self.cwd = cwd = _cwd()
        self.pythonpath = []
        if not sys.flags.ignore_environment and os.environ.get("PYTHONPATH"):
            self.pythonpath = [
                os.path.normpath(os.path.join(cwd, p)) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
            ]
        self.pth = ctx.pth()
        self.editable_pths = None  # read from the distributions only when a non-setuptools .pth needs it
        self.zipname = "python%d%d.zip" % sys.version_info[:2]
        script_reals, self.script_how = _script_dirs()
        self.server = _cwd_first_server(ctx)
        self.server_cwd_real = _realpath(cwd) if "<cwd>" in CWD_FIRST.get(self.server, ()) else None
        self.used_pp = set()
        self.used_pth = set()
        self.norms = []
        self.first_norm = {}
        for index, raw in enumerate(list(sys.path)):
            norm = (os.path.normpath(os.path.join(cwd, raw)) if raw else cwd) if isinstance(raw, str) else None
            self.norms.append(norm)
            if norm is not None:
                self.first_norm.setdefault(norm, index)
        self.script_index = _script_index(sys.path, self.norms, script_reals, self.pythonpath,
                                          (self.stdlib, self.platstdlib, self.zipname), self.server)

    def editable_pth_files(self):
        """The .pth files editable distributions installed (named in their RECORD)."""
        if self.editable_pths is None:
            out = self.editable_pths = set()
            try:
                dists = self.ctx.distributions()
            except Exception:  # the distributions section reports its own error
                return out
            for dist in dists:
                if dist.get("editable"):
                    for name in dist.get("record_pth") or ():
                        out.add(_text(os.path.join(dist.get("location") or "", name)))
                    if dist.get("editable_pth"):
                        out.add(dist["editable_pth"])
        return self.editable_pths


class _Entry(object):
    """One sys.path entry as the origin rules see it."""

    __slots__ = ("index", "raw", "norm", "real", "pth_hit")

    def __init__(self, index, raw, norm=None, real=None, pth_hit=None):
        self.index, self.raw, self.norm, self.real, self.pth_hit = index, raw, norm, real, pth_hit


# -- the origin rules, in order of precedence -------------------------------------


def _invalid(e, s):
    if not isinstance(e.raw, str):
        return {"detail": "not a str: %s" % type(e.raw).__name__}
    return None


def _server_cwd(e, s):
    if e.raw in CWD_FIRST.get(s.server, ()):
        return {"detail": "current directory, put first by %s" % s.server}
    if s.server_cwd_real is not None and e.real == s.server_cwd_real and e.index == 0:
        return {"detail": "working directory %s put first (--chdir, default: where it was started)" % s.server}
    return None


def _script_dir(e, s):
    if e.index == s.script_index:
        return {"detail": "current directory (python -c, -m or interactive)" if e.raw == "" else s.script_how}
    return None


def _pythonpath(e, s):
    if e.norm in s.pythonpath and e.norm not in s.used_pp:
        s.used_pp.add(e.norm)
        return {"detail": "PYTHONPATH environment variable"}
    return None


def _stdlib_zip(e, s):
    return {"detail": "standard library zip (usually absent)"} if os.path.basename(e.norm) == s.zipname else None


def _stdlib(e, s):
    return {"detail": "standard library"} if e.norm in (s.stdlib, s.platstdlib) else None


def _lib_dynload(e, s):
    return {"detail": "standard library extension modules"} if e.norm in s.dynload else None


def _venv_site(e, s):
    return {"detail": "site-packages of the venv at sys.prefix"} if e.norm in s.venv_sites else None


def _base_site(e, s):
    if e.norm in s.base_sites:
        return {"detail": "site-packages of the base installation (%s)" % _text(sys.base_prefix)}
    return None


def _user_site(e, s):
    return {"detail": "user site-packages (PEP 370)"} if s.user_site and e.norm == s.user_site else None


def _editable_finder(e, s):
    if e.raw.endswith(".__path_hook__") and "__editable__" in e.raw:
        return {"detail": "placeholder of a setuptools editable finder (namespace packages)"}
    return None


def _pth_line_details(e, s):
    s.used_pth.add(e.norm)
    pth, lineno = e.pth_hit[0], e.pth_hit[1]
    return {"detail": "%s line %d" % (pth, lineno), "pth_file": pth, "line": lineno}


def _editable_pth_line(e, s):
    if e.pth_hit is None:
        return None
    pth = e.pth_hit[0]
    if os.path.basename(pth).startswith("__editable__") or pth in s.editable_pth_files():
        return _pth_line_details(e, s)
    return None


def _pth_line(e, s):
    return _pth_line_details(e, s) if e.pth_hit is not None else None


def _pth_import_line(e, s):
    """The .pth import line that names this entry literally (it added it)."""
    for text, pth, lineno in s.pth.imports:
        if e.raw and (e.raw in text or e.norm in text):
            return {"detail": "%s line %d (import line)" % (pth, lineno), "pth_file": pth, "line": lineno, "via": "import"}
    return None


def _runtime_venv_site(e, s):
    venv_root = _venv_root_of_site(e.norm)
    if venv_root:
        return {"detail": "site-packages of another venv (%s) added at runtime (addsitedir, python-path or app code)"
                % venv_root, "venv_root": venv_root,
                "pyvenv_cfg": parse_pyvenv_cfg(os.path.join(venv_root, "pyvenv.cfg"), s.ctx.masker)}
    return None


def _runtime(e, s):
    if "mod_wsgi" in sys.modules:
        return {"detail": "added at runtime: python-path / WSGIPythonPath or application code"}
    return {"detail": "added at runtime (application code or sitecustomize)"}


#: (origin kind, rule): the first rule that answers names the entry's origin.
#: "invalid" is first because nothing else can be computed for a non-str entry;
#: "runtime" is last and always answers.
ORIGIN_RULES = (
    ("invalid", _invalid),
    ("server_cwd", _server_cwd),
    ("script_dir", _script_dir),
    ("pythonpath", _pythonpath),
    ("stdlib_zip", _stdlib_zip),
    ("stdlib", _stdlib),
    ("lib_dynload", _lib_dynload),
    ("venv_site", _venv_site),
    ("base_site", _base_site),
    ("user_site", _user_site),
    ("editable_finder", _editable_finder),
    ("editable", _editable_pth_line),
    ("pth", _pth_line),
    ("pth", _pth_import_line),
    ("runtime_venv_site", _runtime_venv_site),
    ("runtime", _runtime),
)


def origin_of(entry, scan):
    return first_row(ORIGIN_RULES, entry, scan)


# -- the section ---------------------------------------------------------------------


def collect(ctx):
    s = _Scan(ctx)
    entries = []
    first_real = {}
    cwd = s.cwd
    this_xy = "python%d.%d" % sys.version_info[:2]
    for index, raw in enumerate(list(sys.path)):
        item = {"index": index, "path": _text(raw)}
        if not isinstance(raw, str):
            item["origin"] = origin_of(_Entry(index, raw), s)
            entries.append(item)
            continue
        if not _is_utf8(raw):
            item["non_utf8"] = True
        absolute = os.path.normpath(os.path.join(cwd, raw)) if raw else cwd
        item["abs_path"] = _text(absolute)
        real = ctx.real(absolute)
        item["real_path"] = _text(real)
        listing = ctx.listing(absolute)
        item["exists"] = listing.kind not in ("missing",)
        item["is_dir"] = listing.kind == "dir"
        item["is_zip"] = listing.kind == "zip"
        try:
            item["readable"] = os.access(absolute, os.R_OK | (os.X_OK if listing.kind == "dir" else 0)) if item["exists"] else False
        except ValueError:
            item["readable"] = False
        if listing.error:
            item["error"] = listing.error
            item["readable"] = False
        if listing.truncated:
            item["truncated_listing"] = True
        if item["is_dir"]:
            item["entries"] = len(listing.names)
        if real in first_real:
            item["duplicate_of"] = first_real[real]
        else:
            first_real[real] = index
        norm = os.path.normpath(absolute)
        pth_hit = s.pth.index.get(norm)
        if pth_hit is not None:
            # A path line is appended after its own directory is processed,
            # once: an earlier copy, or a later repeat, was put there by code.
            pth_dir_index = s.first_norm.get(pth_hit[2])
            if norm in s.used_pth or pth_dir_index is None or pth_dir_index >= index:
                pth_hit = None
        origin = item["origin"] = origin_of(_Entry(index, raw, norm, real, pth_hit), s)
        # The site-packages of another Python (X.Y) on this path: its
        # bytecode and C extensions are not for this interpreter.
        other = _other_python_site(norm, this_xy)
        if other is not None and origin["kind"] not in ("venv_site", "base_site", "user_site", "stdlib"):
            item["other_python_site"] = other
        entries.append(item)
    return {"entries": entries, "pth_files": s.pth.report, "editable_finders": s.pth.finders}


# -- helpers -------------------------------------------------------------------------


def _site_sets():
    """Where site.py would put venv / base / user site-packages."""
    import site

    prefix = sys.prefix
    base = getattr(sys, "base_prefix", prefix)
    venv_sites, base_sites = set(), set()
    try:
        if prefix != base:
            venv_sites.update(site.getsitepackages([prefix, sys.exec_prefix]))
        base_sites.update(site.getsitepackages([base, getattr(sys, "base_exec_prefix", base)]))
    except Exception:
        pass
    norm = lambda paths: {os.path.normpath(p) for p in paths}
    user = getattr(site, "USER_SITE", None)
    return norm(venv_sites), norm(base_sites), os.path.normpath(user) if user else None


def _cwd_first_server(ctx):
    """The server kind (identity's detectors) when it is one that puts its directory first, else None."""
    try:
        kind = ctx.server()["kind"]
    except Exception:  # the identity section reports its own error
        return None
    return kind if kind in CWD_FIRST else None


def _script_dirs():
    """({real paths}, how): what the interpreter itself put first on sys.path for its program.

    CPython prepends dirname(realpath(script)) for a script or console
    script, the working directory for ``-m``, ``''`` for ``-c`` and
    interactive use, the path itself for a zip or directory run as the
    program; nothing under ``-P``/PYTHONSAFEPATH except that last case.
    ``sys.argv[0]`` is as typed (often relative), so it is resolved here.
    """
    out = set()
    argv = getattr(sys, "argv", None) or [""]
    argv0 = argv[0] if isinstance(argv[0], str) else ""
    main = sys.modules.get("__main__")
    try:
        spec = getattr(main, "__spec__", None)
        mfile = getattr(main, "__file__", None)
    except Exception:  # a __main__ whose attribute access raises
        spec = mfile = None
    try:
        if argv0 and (os.path.isdir(argv0) or (os.path.isfile(argv0) and _read_bytes(argv0, 4) == b"PK\x03\x04")):
            out.add(_realpath(argv0))
            return out, "zip file or directory run as the program (python %s)" % _text(argv0)
    except (OSError, ValueError):
        pass
    if getattr(sys.flags, "safe_path", False):
        return out, None
    name = getattr(spec, "name", None) if spec is not None else None
    if isinstance(name, str) and name != "__main__" and isinstance(mfile, str):
        root = os.path.abspath(mfile)
        for _ in range(name.count(".") + 1):
            root = os.path.dirname(root)
        out.add(_realpath(root))
        return out, "working directory at start-up (python -m %s)" % _text(name)
    for candidate in (argv0, mfile):
        try:
            if isinstance(candidate, str) and candidate and os.path.isfile(candidate):
                out.add(os.path.dirname(_realpath(candidate)))
        except ValueError:
            continue
    return out, "directory of the script being run (%s)" % _text(os.path.basename(argv0) or "?")


def _script_index(path, norms, script_reals, pythonpath, stdlib_marks, server):
    """Index of the entry the interpreter itself put first for its program, or None.

    CPython inserts it at 0 after site.py ran: it sits just before what
    start-up added (.pth insertions, PYTHONPATH, the standard library), and
    anything before it was inserted later by code.  So the last candidate
    in that leading block is the interpreter's (``PYTHONPATH=.`` and a
    script inserting its own directory both repeat it).  The interpreter
    writes the resolved directory: an exact match beats a symlinked copy.
    """
    stdlib, platstdlib, zipname = stdlib_marks
    first_std = None
    for index, norm in enumerate(norms):
        if norm is not None and (norm in (stdlib, platstdlib) or os.path.basename(norm) == zipname):
            first_std = index
            break
    if first_std is None:
        block = len(norms)
    else:
        # The PYTHONPATH entries right before the standard library are not it.
        block = first_std
        for item in reversed(pythonpath):
            if block > 0 and norms[block - 1] == item:
                block -= 1
    leading = range(block - 1, -1, -1)
    if script_reals:
        for index in leading:
            if norms[index] in script_reals:
                return index
        for index in leading:
            if norms[index] is not None and path[index] and _realpath(norms[index]) in script_reals:
                return index
    if server not in CWD_FIRST:
        for index in leading:
            if path[index] == "":  # -c, interactive: the current directory
                return index
    return None


def _other_python_site(norm, this_xy):
    """Facts about *norm* when it is .../lib/pythonX.Y/site-packages of another X.Y, else None."""
    parts = norm.rstrip(os.sep).split(os.sep)
    if len(parts) < 3 or parts[-1] not in ("site-packages", "dist-packages"):
        return None
    xy = parts[-2]
    if not xy.startswith("python") or xy == this_xy or "." not in xy or not xy[6:].replace(".", "").isdigit():
        return None
    out = {"python": xy[6:]}
    root = _venv_root_of_site(norm)
    if root:
        cfg = parse_pyvenv_cfg(os.path.join(root, "pyvenv.cfg")) or {}
        out["venv_root"] = _text(root)
        out["venv_version"] = cfg.get("version")
        out["venv_home"] = cfg.get("home")
    return out
def _venv_root_of_site(path):
    """If *path* is <root>/lib*/pythonX.Y/site-packages of a venv, return <root>."""
    parts = path.rstrip(os.sep).split(os.sep)
    if len(parts) >= 4 and parts[-1] in ("site-packages", "dist-packages") and parts[-2].startswith("python"):
        root = os.sep.join(parts[:-3])
        if os.path.isfile(os.path.join(root, "pyvenv.cfg")):
            return root
    return None
