"""What ``report --python X`` sends to interpreter X, and the few lines that run it there.

X gets, on stdin after a one-line ``-c`` (:data:`BOOTSTRAP`, short: the
report shows X's argv, and masking scans it): :data:`STUB`, which runs
:data:`LOADER` from X's cached code of it (compiling LOADER is 1-2 ms of a
fresh interpreter) or from its text, which follows; then header
lines -- redaction key, bytecode cache stem, whether to analyse, ``--fail-on``,
a digest of the sources' sizes and mtimes, and ``name=P|M=path`` of each module of
:func:`modules` (NUL-separated; P for a package).  X reads and compiles those files only when
its cached code objects are missing, so a warm run moves a few hundred bytes
through the pipe; the cache is written after the report, and only for the
sources the caller stamped.  Nothing is written into X's environment, nothing
secret shows in ``ps``, and the modules run from memory through
:func:`venvprobe._memimport.private_modules`: X's ``sys.path`` and
``sys.modules`` are left as they were, so the report does not see venvprobe.

X prints one header line (the exit code for ``--fail-on``) and the report as
the collector's own JSON writer gives it (analysed in X when asked: the
CLI's fast path then only forwards bytes).

Imports nothing beyond what a bare interpreter has loaded (``zlib`` is C):
the CLI's fast path (:mod:`venvprobe._quick`) uses this module.
"""

import os

#: The collector package, as X runs it.  tests/test_collect_package.py checks
#: that this is exactly what the collector's entry point imports, so a module
#: added to the collector is added here too.
COLLECTOR_MODULES = (
    "venvprobe",
    "venvprobe.collect",
    "venvprobe.collect.collector",
    "venvprobe.collect.common",
    "venvprobe.collect.context",
    "venvprobe.collect.distributions",
    "venvprobe.collect.editables",
    "venvprobe.collect.environment",
    "venvprobe.collect.extensions",
    "venvprobe.collect.identity",
    "venvprobe.collect.interpreter",
    "venvprobe.collect.jsonout",
    "venvprobe.collect.listing",
    "venvprobe.collect.masking",
    "venvprobe.collect.metadata",
    "venvprobe.collect.modules",
    "venvprobe.collect.process",
    "venvprobe.collect.pth",
    "venvprobe.collect.secret_words",
    "venvprobe.collect.shadowing",
    "venvprobe.collect.sys_path",
)
#: The collector's entry point, and the analysis's (run in X by the fast path).
ROOTS = ("venvprobe.collect.collector", "venvprobe.analyze")


def modules():
    """Every module X runs: the loader first, the collector, then the live analysis (``venvprobe.rules.SHIPPED``)."""
    from venvprobe.rules import SHIPPED  # that __init__ imports nothing: cheap on the fast path

    return ("venvprobe._memimport",) + COLLECTOR_MODULES + tuple(m for m in SHIPPED if m not in COLLECTOR_MODULES)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def source_path(name):
    """(file, is_package) of venvprobe module *name* in this installation; FileNotFoundError if none."""
    base = os.path.join(_PACKAGE_DIR, *name.split(".")[1:])
    if os.path.isfile(os.path.join(base, "__init__.py")):
        return os.path.join(base, "__init__.py"), True
    if os.path.isfile(base + ".py"):
        return base + ".py", False
    raise FileNotFoundError("venvprobe module %s has no source file under %s" % (name, _PACKAGE_DIR))


def _located(name, parent):
    """(file, is_package, os.stat_result) of venvprobe module *name*: :func:`source_path`'s answer in one stat.

    *parent*: other modules live in *name*, so it is a package (tried first, as the import system does).
    """
    base = os.path.join(_PACKAGE_DIR, *name.split(".")[1:])
    path = os.path.join(base, "__init__.py") if parent else base + ".py"
    try:
        return path, parent, os.stat(path)
    except FileNotFoundError:
        path, is_package = source_path(name)
        return path, is_package, os.stat(path)


def digest(stamps):
    """Names a set of sources by their stamps (see :func:`stamp`); the cache directory is private, so this only tells versions apart."""
    import zlib

    data = ";".join(stamps).encode()
    return "%08x%x" % (zlib.crc32(data) & 0xFFFFFFFF, len(data))


def stamp(st):
    """One source file's size and mtime: what tells an installed or edited file apart, for a stat, not a read."""
    return "%d.%d" % (st.st_size, st.st_mtime_ns)


def cache_dir():
    """The private directory for X's cached code, or "" when none is usable."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "venvprobe")
    # HOME=/nonexistent (daemon users, clean environments): no cache, rather than making a home.
    if not os.path.isdir(os.path.dirname(os.path.normpath(base))):
        return ""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
        # Cached code is executed: only trust a directory nobody else can write.
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return ""
    except OSError:
        return ""
    return directory


def cache_stem(stamps, kind="report", directory=None):
    """Path prefix for cached bytecode of the sources with *stamps* in *directory* (default :func:`cache_dir`), or ""."""
    directory = cache_dir() if directory is None else directory
    return os.path.join(directory, "%s-%s-" % (kind, digest(stamps))) if directory else ""


def payload(key="", analyse=True, fail_on="never", cache=True):
    """What X gets on stdin after :data:`BOOTSTRAP`: :data:`STUB`, then :data:`LOADER` and its header lines."""
    names = modules()
    # One stat per module, not a read: X reads the sources itself only when its cached code is missing.
    parents = {name.rpartition(".")[0] for name in names}
    found = [_located(name, name in parents) for name in names]
    stamps = [stamp(st) for _, _, st in found]
    items = [("%s=%s" % (name, "P" if is_package else "M")).encode() + b"=" + os.fsencode(path)
             for name, (path, is_package, _) in zip(names, found)]
    loader = LOADER.encode()
    directory = cache_dir() if cache else ""  # checked once for both entries
    return STUB.encode() + b"\n".join([
        b"%d" % len(loader), cache_stem([_text_stamp(loader)], "loader", directory).encode(), loader
        + (key or "").encode(), cache_stem(stamps, "report", directory).encode(), b"1" if analyse else b"0",
        fail_on.encode(), digest(stamps).encode(), b"\0".join(items)])


def _text_stamp(data):
    """Names the compiled :data:`LOADER` by its text (it is part of this module, not a file X reads)."""
    import zlib

    return "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)


# Runs inside X first, compiled on every run, so as short as it can be:
# compiling LOADER takes 1-2 ms of a fresh interpreter, reading its cached
# code 0.02 ms.  Then LOADER runs with the rest of stdin in `_stdin`, and
# with `_keep` (cache path, code) when its code is to be cached.
STUB = """\
import sys,marshal
b=getattr(sys.stdin,'buffer',sys.stdin).read()
n,p,b=b.split(b'\\n',2)
n=int(n)
x=None
if p:
    try:
        with open(p.decode()+sys.implementation.cache_tag+'.bin','rb') as h:
            x=marshal.loads(h.read())
    except Exception:
        x=None
    if not hasattr(x,'co_code'):
        x=None
w=x is None
if w:
    x=compile(b[:n],'<venvprobe loader>','exec')
exec(x,{'__name__':'__venvprobe_ship__','_stdin':b[n:],'_keep':(p,x) if w and p else None})
"""


# Runs inside X (any Python 3; the collector needs 3.6+, the analysis 3.7+: an older X falls back).
LOADER = """\
import sys
if sys.version_info < (3, 6):
    sys.stderr.write('venvprobe: the collector needs Python 3.6 or newer, this is %s\\n' % sys.version.split()[0])
    sys.exit(3)
import os, marshal
k, c, a, f, d, n = _stdin.split(b'\\n', 5)
if a == b'1' and sys.version_info < (3, 7):
    sys.stdout.write('venvprobe-fallback\\n')
    sys.exit(0)
m = [i.split(b'=', 2) for i in n.split(b'\\0')]
p = c.decode() + sys.implementation.cache_tag + '.bin' if c else ''
code = None
if p:
    try:
        with open(p, 'rb') as h:
            code = marshal.loads(h.read())
    except Exception:
        code = None
s = None
if not isinstance(code, tuple) or len(code) != len(m) or not all(hasattr(i, 'co_code') for i in code):
    # Compiled as each module is first used: an old X that is not asked to
    # analyse never compiles the analysis.
    code = None
    s = []
    st = []
    for i in m:
        with open(i[2], 'rb') as h:
            t = os.fstat(h.fileno())
            st.append('%d.%d' % (t.st_size, t.st_mtime_ns))
            s.append(h.read())
cc = {} if code is None else None
g = {'__name__': '__venvprobe_ship__'}
if code is None:
    cc[m[0][0].decode()] = compile(s[0], '<venvprobe> <%s>' % m[0][0].decode(), 'exec')
exec(code[0] if code else cc[m[0][0].decode()], g)
get = g['private_modules'](dict((i[0].decode(), (code[j] if code else s[j], i[1] == b'P'))
                                for j, i in enumerate(m) if j), '<venvprobe>', cc)
collector = get('venvprobe.collect.collector')
report = collector._foreign_report(k.decode() or None, True)
fails = False
if a == b'1':
    # After collecting: what the analysis imports is not to show in the report.
    report['findings'] = get('venvprobe.analyze').analyze(report)
    rank = get('venvprobe.vocab').SEVERITY_RANK
    r = rank.get(f.decode())
    fails = r is not None and any(rank.get(x.get('severity'), 0) >= r for x in report['findings'])
out = sys.stdout.buffer
out.write(b'%d\\n' % (1 if fails else 0))
out.write(collector.encode_report(report))
out.flush()
def save(q, make):
    # Written whole under another name, then renamed: a reader never sees half an entry.
    try:
        obj = make()
        t = '%s.%d.tmp' % (q, os.getpid())
        with open(t, 'wb') as h:
            h.write(marshal.dumps(obj))
        os.replace(t, q)
    except Exception:
        pass
# Cached after the report (zlib is not to show among the target's modules), and
# only what the caller stamped: a file replaced meanwhile is compiled, not cached.
if s is not None and p:
    import zlib
    b = ';'.join(st).encode()
    if ('%08x%x' % (zlib.crc32(b) & 0xFFFFFFFF, len(b))).encode() == d:
        save(p, lambda: tuple(cc.get(i[0].decode()) or compile(src, '<venvprobe> <%s>' % i[0].decode(), 'exec')
                              for src, i in zip(s, m)))
if _keep is not None:
    save(_keep[0].decode() + sys.implementation.cache_tag + '.bin', lambda: _keep[1])
# Tearing down the interpreter (every module, the report's objects) costs
# milliseconds and does nothing for the caller.
if sys.stderr is not None:
    sys.stderr.flush()
os._exit(0)
"""
BOOTSTRAP = "import sys;exec(getattr(sys.stdin,'buffer',sys.stdin).read(%d))" % len(STUB.encode())


# --------------------------------------------------------------------------
# venvprobe code as one self-contained file (the single-file probe, tests)


def module_closure(roots, walk_parents=True):
    """{module name: (source, is_package)} for *roots*, every venvprobe module they import and their packages.

    Follows ``import venvprobe...`` statements at any depth, also inside
    functions; relative imports are refused (the private loader cannot serve
    them).  With *walk_parents* false, a package that is only there as the
    parent of a module is included but its own imports are not followed
    (``venvprobe/__init__.py`` imports the report builder inside a function
    the collector never calls).
    """
    import ast

    sources = {}
    todo = [(name, True) for name in roots]
    while todo:
        name, walk = todo.pop()
        if name in sources and (not walk or sources[name][2]):
            continue
        path, is_package = source_path(name)
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        sources[name] = (source, is_package, walk)
        parts = name.split(".")
        todo += [(".".join(parts[:i]), walk_parents) for i in range(1, len(parts))]  # parent packages
        if not walk:
            continue
        for node in ast.walk(ast.parse(source, path)):
            if isinstance(node, ast.Import):
                todo += [(alias.name, True) for alias in node.names if alias.name.split(".")[0] == "venvprobe"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    raise ValueError("%s: relative import in a shipped module; use absolute imports" % name)
                module = node.module or ""
                if module.split(".")[0] != "venvprobe":
                    continue
                todo.append((module, True))
                for alias in node.names:  # `from venvprobe.collect import sys_path`: a submodule
                    try:
                        source_path(module + "." + alias.name)
                    except FileNotFoundError:
                        continue
                    todo.append((module + "." + alias.name, True))
    return {name: (source, is_package) for name, (source, is_package, _) in sorted(sources.items())}


def bundle(roots, tail, head=""):
    """The text of one self-contained Python file running *roots* privately.

    It holds the sources of *roots* and what they import, and
    :func:`venvprobe._memimport.private_modules`; *tail* runs after, with
    ``_get(name)`` returning a module.
    """
    sources = module_closure(roots)
    with open(source_path("venvprobe._memimport")[0], encoding="utf-8") as handle:
        loader = handle.read()
    parts = [head, "_SOURCES = {\n"]
    for name, (source, is_package) in sources.items():
        parts.append("    %r: (%r, %r),\n" % (name, source, is_package))
    parts.append("}\n\n")
    parts.append("_LOADER = %r\n" % loader)
    parts.append("_FILE = globals().get('__file__') or '<venvprobe>'\n")
    parts.append("_g = {'__name__': '__venvprobe_loader__'}\n")
    parts.append("exec(compile(_LOADER, _FILE + ' <venvprobe._memimport>', 'exec'), _g)\n")
    parts.append("_get = _g['private_modules'](_SOURCES, _FILE)\n")
    parts.append("del _g\n\n")
    parts.append(tail)
    return "".join(parts)


def standalone_collector():
    """The collector as one file: exec it and call ``collect(options)``, ``dumps(report)``, ``_main_foreign(key)``."""
    return bundle(("venvprobe.collect.collector",), (
        "_collector = _get('venvprobe.collect.collector')\n"
        "collect, dumps, _main_foreign = _collector.collect, _collector.dumps, _collector._main_foreign\n"))
