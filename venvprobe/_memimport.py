"""Run venvprobe modules from memory, privately: nothing written, ``sys.path`` and ``sys.modules`` untouched.

:func:`private_modules` is the one loader for every place venvprobe's code
runs without being installed: ``report --python X`` (:mod:`venvprobe.ship`
sends this file's code to X with the collector's), the single-file probe
(:mod:`venvprobe.probe.single_file` embeds this file's text) and the
standalone collector the tests and ``check-extensions`` run.

Each module runs in a module object of its own that never enters
``sys.modules``; its ``import venvprobe...`` statements are answered from the
table (a private ``__import__`` in the modules' builtins), every other import
goes to the real import system.  So an installed venvprobe of any version in
the same interpreter is left alone, and a report does not list the
collector among the modules it finds loaded.  The modules must use absolute
imports.

Standard library only; nothing is imported at module level, so the text can
be run anywhere as it is.
"""


def private_modules(table, filename, compiled=None):
    """``get(name) -> module`` for the modules in *table*: {name: (code object or source text, is_package)}.

    Source text is compiled when the module is first used, and the code
    object kept in *compiled* ({name: code}) when given (the caller caches it).
    """
    import _thread
    import builtins
    import sys

    modules = {}
    real_import = builtins.__import__
    # The import system's module locks do not cover these private modules: without
    # this lock, a threaded server's concurrent first requests saw half-run modules
    # ("cannot import name 'SCHEMA_VERSION' from ...").  Re-entrant,
    # as one module's code imports the next in the same thread.
    lock = _thread.RLock()

    def get(name):
        with lock:
            return load(name)

    def load(name):
        module = modules.get(name)
        if module is None:
            code, is_package = table[name]
            module = type(sys)(name)
            module.__file__ = filename
            module.__package__ = name if is_package else name.rpartition(".")[0]
            if is_package:
                module.__path__ = []
            module.__builtins__ = private_builtins
            modules[name] = module  # before running it, as the import system does
            parent, _, child = name.rpartition(".")
            try:
                if not hasattr(code, "co_code"):  # source text: compiled on first use
                    code = compile(code, "%s <%s>" % (filename, name), "exec")
                    if compiled is not None:
                        compiled[name] = code
                exec(code, module.__dict__)
            except BaseException:
                del modules[name]
                raise
            if parent:
                setattr(get(parent), child, module)
        return module

    def private_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "venvprobe" or name.startswith("venvprobe.")):
            module = get(name)
            if not fromlist:
                return get(name.partition(".")[0])
            for item in fromlist:
                if not hasattr(module, item) and name + "." + item in table:
                    get(name + "." + item)
            return module
        return real_import(name, globals, locals, fromlist, level)

    private_builtins = dict(builtins.__dict__)
    private_builtins["__import__"] = private_import
    return get
