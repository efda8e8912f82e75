"""``check-apache``: read an Apache configuration and resolve every mounted WSGI app.

The reader follows ``Include``/``IncludeOptional`` (globs, directories,
ServerRoot-relative paths), ``Define``/``${VAR}`` (also from Debian's
``/etc/apache2/envvars``) and evaluates ``<IfModule>``/``<IfDefine>``/
``<IfFile>`` at parse time the way httpd does (modules loaded so far).

For every ``WSGIScriptAlias``/``WSGIScriptAliasMatch`` it then works out,
like mod_wsgi 4.x: daemon or embedded mode, which process group
(``process-group=`` option, else the last ``WSGIProcessGroup`` from the
server, virtual host, ``<Directory>`` of the script and ``<Location>`` of
the URL, in Apache's merge order), which application group (``%{GLOBAL}`` =
main interpreter, default = one sub-interpreter per ``host[:port]|/url``),
the user, python-home (the group's, else the server-wide ``WSGIPythonHome``)
and python-path (the group's only: mod_wsgi ignores ``WSGIPythonPath`` in
daemon processes).  The findings then use the catalog's codes.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from venvprobe.catalog import make_finding
from venvprobe.errors import VenvprobeError
from venvprobe.safeio import open_regular

DEFAULT_CONFIGS = ("/etc/apache2/apache2.conf", "/etc/httpd/conf/httpd.conf", "/usr/local/apache2/conf/httpd.conf")
DEFAULT_ENVVARS = "/etc/apache2/envvars"
DEFAULT_USER = "www-data"
MAX_INCLUDE_DEPTH = 64
MAX_CONFIG_BYTES = 16 << 20
# Hostile or broken configurations must fail as one line, not exhaust the
# machine: section nesting (Python recursion), lines per file and in all,
# files, and what ${NAME} expansion may build (Define A ${A}${A} doubles).
MAX_SECTION_DEPTH = 100
MAX_FILE_LINES = 200_000
MAX_TOTAL_LINES = 2_000_000
MAX_FILES = 10_000
MAX_EXPANDED_CHARS = 64 << 10

# Compiled into Debian's apache2 (apache2 -l): <IfModule> sees them without LoadModule.
STATIC_MODULES = ("core.c", "mod_so.c", "mod_watchdog.c", "http_core.c", "mod_log_config.c", "mod_logio.c",
                  "mod_version.c", "mod_unixd.c")

# mod_wsgi 4.x checks these with ap_check_cmd_context(cmd, GLOBAL_ONLY).
GLOBAL_ONLY = frozenset(d.lower() for d in (
    "WSGIAcceptMutex", "WSGICaseSensitivity", "WSGIDestroyInterpreter", "WSGIDontWriteBytecode",
    "WSGILazyInitialization", "WSGIPy3kWarningFlag", "WSGIPythonEggs", "WSGIPythonHashSeed", "WSGIPythonHome",
    "WSGIPythonOptimize", "WSGIPythonPath", "WSGIPythonWarnings", "WSGIRestrictEmbedded", "WSGIRestrictSignal",
    "WSGIRestrictStdin", "WSGIRestrictStdout", "WSGIServerMetrics", "WSGISocketPrefix", "WSGISocketRotation",
    "WSGIVerboseDebugging",
    # mod_wsgi 6 (GLOBAL_ONLY too, except inside a top-level <WSGIInterpreterOptions>)
    "WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGISwitchInterval"))
# What mod_wsgi 6 accepts inside <WSGIInterpreterOptions process-group=... application-group=...>.
INTERPRETER_OPTIONS = frozenset(d.lower() for d in (
    "WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGISwitchInterval", "WSGIPythonPath", "WSGIRestrictStdin",
    "WSGIRestrictStdout", "WSGIRestrictSignal"))
_CONDITIONALS = ("ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection", "else", "elseif")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROBE_SCRIPT = re.compile(rb"venvprobe\.(?:wsgi|probe)\b")
GLOBAL = "%{GLOBAL}"


class ConfigError(VenvprobeError):
    """The configuration cannot be read (missing Include, bad nesting, unreadable file)."""


@dataclass
class Node:
    """A directive (``children is None``) or a section of the configuration."""

    name: str
    args: List[str]
    file: str
    line: int
    children: Optional[List["Node"]] = None

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


# ---------------------------------------------------------------------------
# reading


def split_args(text: str) -> List[str]:
    """Split directive arguments like httpd's ap_getword_conf (quotes, backslash-escaped quotes)."""
    args: List[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        if text[i] in "\"'":
            quote = text[i]
            i += 1
            buf = []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n and text[i + 1] == quote:
                    i += 1
                buf.append(text[i])
                i += 1
            i += 1
            args.append("".join(buf))
        else:
            # mod_wsgi's option parser also accepts key="quoted value" (WSGIDaemonProcess).
            buf = []
            while i < n and not text[i].isspace():
                if text[i] == "=" and i + 1 < n and text[i + 1] in "\"'":
                    quote = text[i + 1]
                    buf.append("=")
                    i += 2
                    while i < n and text[i] != quote:
                        if text[i] == "\\" and i + 1 < n and text[i + 1] == quote:
                            i += 1
                        buf.append(text[i])
                        i += 1
                    i += 1
                    continue
                buf.append(text[i])
                i += 1
            args.append("".join(buf))
    return args


def read_envvars(path: str = DEFAULT_ENVVARS) -> Dict[str, str]:
    """``export NAME=value`` lines of Debian's envvars (shell conditionals ignored)."""
    env: Dict[str, str] = {"SUFFIX": ""}
    try:
        with open_regular(path) as fh:
            text = fh.read(MAX_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return {}
    for line in text.splitlines():
        m = re.match(r"\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if not m:
            continue
        value = m.group(2).strip().strip("'\"")
        value = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda mm: env.get(mm.group(1), ""), value)
        # export A=$A$A, repeated, doubles each time: keep the value bounded.
        env[m.group(1)] = value[:MAX_EXPANDED_CHARS]
    env.pop("SUFFIX", None)
    return env


def default_apache_user(envvars: str = DEFAULT_ENVVARS) -> str:
    """Apache's run user as Debian's envvars sets it, else www-data."""
    return read_envvars(envvars).get("APACHE_RUN_USER") or DEFAULT_USER


class Reader:
    """Parse a configuration tree with includes and parse-time conditionals."""

    def __init__(self, server_root: Optional[str] = None, defines: Iterable[str] = (),
                 env: Optional[Dict[str, str]] = None) -> None:
        self.server_root = server_root
        self.defines: Dict[str, str] = {d: "" for d in defines}
        self.env = dict(env or {})
        self.modules: Set[str] = set(STATIC_MODULES) | {m.replace("mod_", "").replace(".c", "_module")
                                                      for m in STATIC_MODULES}
        self.loaded_any = False
        self.files: List[str] = []
        self.warnings: List[str] = []
        self._stack: List[str] = []
        self._depth = 0
        self._lines_read = 0

    # -- variables ---------------------------------------------------------------
    def expand(self, text: str, file: str, line: int) -> str:
        built = [len(text)]

        def value(m: "re.Match[str]") -> str:
            name = m.group(1)
            if name in self.defines:
                return self.defines[name]
            if name in self.env:
                return self.env[name]
            if name in os.environ and name.startswith("APACHE_"):
                return os.environ[name]
            self.warnings.append(f"{file}:{line}: ${{{name}}} is not defined")
            return m.group(0)

        def sub(m: "re.Match[str]") -> str:
            out = value(m)
            built[0] += len(out)
            if built[0] > MAX_EXPANDED_CHARS:
                raise ConfigError(f"{file}:{line}: ${{...}} expands to more than {MAX_EXPANDED_CHARS >> 10} KiB "
                                  "(a Define that refers to itself?)")
            return out
        if "${" not in text:
            return text
        return _VAR.sub(sub, text)

    def resolve(self, path: str) -> str:
        if os.path.isabs(path) or not self.server_root:
            return path
        return os.path.join(self.server_root, path)

    # -- files --------------------------------------------------------------------
    def read_file(self, path: str) -> List[Node]:
        """Parse *path* (and its includes) into a node list."""
        path = os.path.abspath(path)
        if path in self._stack:
            raise ConfigError(f"{path} includes itself (via {' -> '.join(self._stack)})")
        if len(self._stack) >= MAX_INCLUDE_DEPTH:
            raise ConfigError(f"includes nested deeper than {MAX_INCLUDE_DEPTH} at {path}")
        try:
            # A FIFO or device as the file or as an Include must not block or never end.
            with open_regular(path) as fh:
                data = fh.read(MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            raise ConfigError(f"{path} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"{path} is a directory") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
        if len(self.files) >= MAX_FILES:
            raise ConfigError(f"more than {MAX_FILES:,} configuration files included (at {path})")
        self.files.append(path)
        self._stack.append(path)
        try:
            lines = _logical_lines(data.decode("utf-8", "replace"))
            self._lines_read += len(lines)
            if len(lines) > MAX_FILE_LINES:
                raise ConfigError(f"{path} has more than {MAX_FILE_LINES:,} directives")
            if self._lines_read > MAX_TOTAL_LINES:
                raise ConfigError(f"the configuration has more than {MAX_TOTAL_LINES:,} directives in all (at {path})")
            root: List[Node] = []
            self._parse(lines, 0, path, root, None)
            return root
        finally:
            self._stack.pop()

    def _include(self, node: Node, optional: bool) -> List[Node]:
        if not node.args:
            raise ConfigError(f"{node.where}: {node.name} needs a path")
        pattern = self.resolve(node.args[0])
        out: List[Node] = []
        if any(c in pattern for c in "*?["):
            matches = sorted(glob.glob(pattern))
            if not matches and not optional:
                raise ConfigError(f"{node.where}: Include {node.args[0]} matches no file (use IncludeOptional)")
            files = [m for m in matches if os.path.isfile(m)]
            for d in (m for m in matches if os.path.isdir(m)):
                files += _walk_files(d)
        elif os.path.isdir(pattern):
            files = _walk_files(pattern)
        elif os.path.exists(pattern):
            files = [pattern]
        elif optional:
            files = []
        else:
            raise ConfigError(f"{node.where}: Include {node.args[0]}: {pattern} does not exist")
        for f in files:
            out.extend(self.read_file(f))
        return out

    def _parse(self, lines: List[Tuple[int, str]], i: int, file: str, out: List[Node],
               closing: Optional[str]) -> int:
        last_cond: Optional[bool] = None
        while i < len(lines):
            lineno, text = lines[i]
            i += 1
            if text.startswith("</"):
                name = text[2:].rstrip(">").strip().lower()
                if closing is None or name != closing:
                    raise ConfigError(f"{file}:{lineno}: </{text[2:].rstrip('>')}> without matching opening section")
                return i
            if text.startswith("<"):
                body = text[1:]
                if body.endswith(">"):
                    body = body[:-1]
                parts = body.split(None, 1)
                name = parts[0]
                args = split_args(self.expand(parts[1], file, lineno)) if len(parts) > 1 else []
                section = Node(name, args, file, lineno, [])
                key = name.lower()
                if key in _CONDITIONALS:
                    inner: List[Node] = []
                    i = self._section(lines, i, file, inner, key, lineno)
                    if key == "else":
                        active = last_cond is False
                        last_cond = None
                    else:
                        active = self._condition(key, args)
                        if key == "elseif":
                            active = active and last_cond is False
                            last_cond = True if (last_cond or active) else False
                        else:
                            last_cond = active
                    if active:
                        out.extend(inner)
                    continue
                last_cond = None
                if key == "macro":  # a template: its body only applies where it is Use'd
                    i = self._section(lines, i, file, [], key, lineno)
                    continue
                i = self._section(lines, i, file, section.children, key, lineno)
                out.append(section)
                continue
            last_cond = None
            parts = text.split(None, 1)
            name = parts[0]
            raw_args = parts[1] if len(parts) > 1 else ""
            args = split_args(self.expand(raw_args, file, lineno))
            node = Node(name, args, file, lineno)
            key = name.lower()
            if key in ("include", "includeoptional"):
                out.extend(self._include(node, optional=key == "includeoptional"))
                continue
            if key == "define" and args:
                self.defines[args[0]] = args[1] if len(args) > 1 else ""
            elif key == "undefine" and args:
                self.defines.pop(args[0], None)
            elif key == "serverroot" and args:
                self.server_root = args[0]
            elif key == "loadmodule" and len(args) >= 2:
                self.loaded_any = True
                self.modules.add(args[0])
                base = os.path.basename(args[1])
                self.modules.add(re.sub(r"\.so.*$", ".c", base))
            out.append(node)
        if closing is not None:
            raise ConfigError(f"{file}: <{closing}> is never closed")
        return i

    def _section(self, lines: List[Tuple[int, str]], i: int, file: str, out: List[Node], key: str,
                 lineno: int) -> int:
        if self._depth >= MAX_SECTION_DEPTH:
            raise ConfigError(f"{file}:{lineno}: sections nested deeper than {MAX_SECTION_DEPTH}")
        self._depth += 1
        try:
            return self._parse(lines, i, file, out, key)
        finally:
            self._depth -= 1

    def _condition(self, key: str, args: List[str]) -> bool:
        if not args:
            return True
        arg = args[0]
        negate = arg.startswith("!")
        name = arg[1:] if negate else arg
        if key == "ifmodule":
            result = name in self.modules or name.replace(".c", "") + ".c" in self.modules
        elif key == "ifdefine":
            result = name in self.defines
        elif key == "iffile":
            result = os.path.exists(self.resolve(name))
        else:  # IfVersion, IfDirective, IfSection, ElseIf with expressions: assume true
            result = True
        return not result if negate else result


def _walk_files(directory: str) -> List[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        out += [os.path.join(dirpath, f) for f in sorted(filenames)]
    return out


def _logical_lines(text: str) -> List[Tuple[int, str]]:
    """(line number, text) with comments dropped and backslash continuations joined."""
    out: List[Tuple[int, str]] = []
    buf = ""
    start = 0
    # Apache ends a line at LF only; str.splitlines() would also split at
    # U+2028, \x85, \x1c... inside a value and forge a directive or a section.
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not buf:
            start = number
            if not line or line.startswith("#"):
                continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


# ---------------------------------------------------------------------------
# model


@dataclass
class VHost:
    """A <VirtualHost> (or the main server, ``addrs == []``)."""

    addrs: List[str]
    where: str
    nodes: List[Node]
    server_name: Optional[str] = None

    @property
    def port(self) -> Optional[int]:
        for a in self.addrs:
            m = re.search(r":(\d+)$", a)
            if m:
                return int(m.group(1))
        return None

    @property
    def label(self) -> str:
        if not self.addrs:
            return "main server"
        return f"<VirtualHost {' '.join(self.addrs)}>" + (f" {self.server_name}" if self.server_name else "")


@dataclass
class DaemonGroup:
    """A WSGIDaemonProcess."""

    name: str
    options: Dict[str, str]
    where: str
    vhost: Optional[VHost]
    apps: List["App"] = field(default_factory=list)
    referenced: bool = False

    @property
    def python_home(self) -> Optional[str]:
        return self.options.get("python-home")

    @property
    def python_path(self) -> List[str]:
        value = self.options.get("python-path")
        return [p for p in value.split(":") if p] if value else []


@dataclass
class App:
    """A mounted WSGI application and how mod_wsgi will run it."""

    url: str
    script: str
    where: str
    vhost: VHost
    is_match: bool = False
    options: Dict[str, str] = field(default_factory=dict)
    process_group: Optional[str] = None
    process_group_from: str = ""
    application_group: Optional[str] = None
    application_group_from: str = ""
    group: Optional[DaemonGroup] = None
    user: str = DEFAULT_USER
    python_home: Optional[str] = None
    python_home_from: str = ""
    python_path: List[str] = field(default_factory=list)
    is_probe: bool = False
    gil: str = "shared"  # shared / own / none, as mod_wsgi 6 will create the interpreter
    gil_from: str = ""
    free_threading: bool = False  # WSGIFreeThreading resolved On for its process

    @property
    def mode(self) -> str:
        pg = self.process_group
        if not pg or pg == GLOBAL:
            return "embedded"
        if pg.startswith("%{"):
            return "dynamic"
        return "daemon" if self.group else "undefined group"

    @property
    def main_interpreter(self) -> bool:
        return self.application_group in (GLOBAL, "")

    def interpreter_name(self) -> str:
        """The application group name mod_wsgi will use (a pattern for per-URL groups)."""
        ag = self.application_group
        if ag is None or ag == "%{RESOURCE}":
            host = self.vhost.server_name or "<host>"
            port = self.vhost.port
            host += f":{port}" if port and port not in (80, 443) else ""
            url = self.url.rstrip("/") if not self.is_match else self.url
            return f"{host}|{url}"
        if ag == GLOBAL:
            return "%{GLOBAL} (main interpreter)"
        if ag == "%{SERVER}":
            return self.vhost.server_name or "<host>"
        return ag

    def as_dict(self) -> dict:
        return {"url": self.url, "script": self.script, "where": self.where, "vhost": self.vhost.label,
                "mode": self.mode, "process_group": self.process_group or "", "process_group_from": self.process_group_from,
                "application_group": self.application_group if self.application_group is not None else "%{RESOURCE}",
                "interpreter": self.interpreter_name(), "user": self.user, "python_home": self.python_home,
                "python_home_from": self.python_home_from, "python_path": list(self.python_path),
                "is_probe": self.is_probe, "gil": self.gil, "gil_from": self.gil_from,
                "free_threading": self.free_threading}


@dataclass
class ApacheConfig:
    """The parsed configuration and what it means for mod_wsgi."""

    path: str
    nodes: List[Node]
    files: List[str]
    warnings: List[str]
    full_config: bool  # loads modules itself (a whole httpd config, not a snippet)
    wsgi_loaded: bool
    user: str
    vhosts: List[VHost] = field(default_factory=list)
    groups: List[DaemonGroup] = field(default_factory=list)
    apps: List[App] = field(default_factory=list)
    globals: Dict[str, Node] = field(default_factory=dict)
    misplaced: List[Tuple[Node, str]] = field(default_factory=list)  # global-only directive, enclosing section
    restrict_embedded: bool = False
    env: Dict[str, str] = field(default_factory=dict)  # exported by envvars: Apache's environment
    envvars: Optional[str] = None
    interpreter_options: List["InterpreterOptions"] = field(default_factory=list)

    @property
    def python_home(self) -> Optional[str]:
        node = self.globals.get("wsgipythonhome")
        return node.args[0] if node and node.args else None

    @property
    def python_path(self) -> List[str]:
        node = self.globals.get("wsgipythonpath")
        return [p for p in node.args[0].split(":") if p] if node and node.args else []


@dataclass
class InterpreterOptions:
    """A mod_wsgi 6 ``<WSGIInterpreterOptions process-group=... application-group=...>`` block."""

    process_group: Optional[str]
    application_group: Optional[str]
    where: str
    settings: Dict[str, Node] = field(default_factory=dict)  # directive key -> last node
    python_path: List[str] = field(default_factory=list)  # WSGIPythonPath layers add up

    @property
    def specificity(self) -> int:
        return (self.process_group is not None) + (self.application_group is not None)

    def matches(self, process_group: Optional[str], name: str) -> bool:
        # wsgi_resolve_interpreter_options(): each selector given must equal the
        # daemon group (none in embedded mode) and the interpreter's name.
        if self.process_group is not None and self.process_group != process_group:
            return False
        return self.application_group is None or self.application_group == name


def _on(node: Optional[Node]) -> Optional[bool]:
    if node is None or not node.args:
        return None
    return node.args[0].lower() == "on"


def parse_options(args: Sequence[str]) -> Dict[str, str]:
    """``key=value`` options of WSGIDaemonProcess / WSGIScriptAlias (later keys win)."""
    out: Dict[str, str] = {}
    for a in args:
        k, sep, v = a.partition("=")
        if sep:
            out[k.strip().lower()] = v
    return out


def load(path: Optional[str] = None, defines: Iterable[str] = (), server_root: Optional[str] = None,
         envvars: Optional[str] = DEFAULT_ENVVARS, user: Optional[str] = None) -> ApacheConfig:
    """Read the configuration at *path* (default: the system's) and resolve its WSGI apps."""
    if path is None:
        path = next((p for p in DEFAULT_CONFIGS if os.path.exists(p)), None)
        if path is None:
            raise ConfigError("no Apache configuration found (looked in " + ", ".join(DEFAULT_CONFIGS) + "); give CONFIG")
    env = read_envvars(envvars) if envvars else {}
    if server_root is None:
        server_root = os.path.dirname(os.path.abspath(path))
    reader = Reader(server_root=server_root, defines=defines, env=env)
    nodes = reader.read_file(path)
    run_user = user
    if run_user is None:
        node = _last_global(nodes, "user")
        if node and node.args and "${" not in node.args[0]:
            run_user = node.args[0].lstrip("#") if node.args[0].startswith("#") else node.args[0]
        else:
            run_user = env.get("APACHE_RUN_USER") or DEFAULT_USER
    cfg = ApacheConfig(path=os.path.abspath(path), nodes=nodes, files=reader.files, warnings=reader.warnings,
                       full_config=reader.loaded_any, wsgi_loaded=("wsgi_module" in reader.modules or
                                                                   "mod_wsgi.c" in reader.modules),
                       user=run_user, env=env, envvars=envvars if env else None)
    _build(cfg)
    return cfg


def _last_global(nodes: List[Node], key: str) -> Optional[Node]:
    found = None
    for n in nodes:
        if n.children is None and n.key == key:
            found = n
    return found


def _walk(nodes: List[Node], scope: Tuple[Node, ...] = ()) -> Iterable[Tuple[Node, Tuple[Node, ...]]]:
    for n in nodes:
        yield n, scope
        if n.children is not None:
            yield from _walk(n.children, scope + (n,))


def _build(cfg: ApacheConfig) -> None:
    main = VHost([], cfg.path, cfg.nodes)
    sn = _last_global(cfg.nodes, "servername")
    main.server_name = sn.args[0] if sn and sn.args else None
    cfg.vhosts.append(main)
    for node, scope in _walk(cfg.nodes):
        if node.children is not None and node.key == "virtualhost":
            vh = VHost(list(node.args), node.where, node.children)
            name = next((c for c in node.children if c.children is None and c.key == "servername"), None)
            vh.server_name = name.args[0] if name and name.args else main.server_name
            cfg.vhosts.append(vh)
    vhost_of: Dict[int, VHost] = {id(v.nodes): v for v in cfg.vhosts[1:]}

    def owner(scope: Tuple[Node, ...]) -> VHost:
        for s in scope:
            if s.key == "virtualhost":
                return vhost_of[id(s.children)]
        return main

    for node, scope in _walk(cfg.nodes):
        if node.children is not None:
            continue
        in_vhost = any(s.key == "virtualhost" for s in scope)
        if any(x.key == "wsgiinterpreteroptions" for x in scope) and node.key in INTERPRETER_OPTIONS:
            continue  # scoped to the block (a misplaced block is reported itself)
        if node.key in GLOBAL_ONLY:
            if scope:
                cfg.misplaced.append((node, scope[-1].name))
            else:
                cfg.globals[node.key] = node
        if node.key == "wsgidaemonprocess" and node.args:
            cfg.groups.append(DaemonGroup(node.args[0], parse_options(node.args[1:]), node.where, owner(scope)
                                          if in_vhost else None))
        elif node.key in ("wsgiscriptalias", "wsgiscriptaliasmatch") and len(node.args) >= 2:
            if scope and scope[-1].key != "virtualhost":
                continue  # WSGIScriptAlias is not allowed in <Directory>/<Location>; httpd refuses it
            cfg.apps.append(App(node.args[0], node.args[1], node.where, owner(scope),
                                is_match=node.key == "wsgiscriptaliasmatch", options=parse_options(node.args[2:])))
    restrict = cfg.globals.get("wsgirestrictembedded")
    cfg.restrict_embedded = bool(restrict and restrict.args and restrict.args[0].lower() == "on")
    for node, scope in _walk(cfg.nodes):
        if node.children is not None and node.key == "wsgiinterpreteroptions":
            if scope:
                cfg.misplaced.append((node, scope[-1].name))
                continue
            opts = parse_options(node.args)
            block = InterpreterOptions(opts.get("process-group"), opts.get("application-group"), node.where)
            for child in node.children:
                if child.children is None and child.key in INTERPRETER_OPTIONS:
                    block.settings[child.key] = child
                    if child.key == "wsgipythonpath" and child.args:
                        block.python_path += [p for p in child.args[0].split(":") if p]
            cfg.interpreter_options.append(block)
    for node, scope in _walk(cfg.nodes):
        if node.children is None and node.key == "wsgiprocessgroup" and node.args:
            for g in cfg.groups:
                if g.name == node.args[0]:
                    g.referenced = True
        if node.children is None and node.key == "wsgiimportscript":
            opts = parse_options(node.args[1:])
            for g in cfg.groups:
                if g.name == opts.get("process-group"):
                    g.referenced = True
    for app in cfg.apps:
        _resolve(cfg, app)


def _dir_matches(section: Node, script: str, url: str) -> Optional[int]:
    """Merge rank of *section* for a request to *url* served by *script* (None: no match)."""
    key = section.key
    arg = section.args[0] if section.args else ""
    script_dir = os.path.dirname(script) if not script.endswith("/") else script.rstrip("/")
    if key == "directory":
        if arg.startswith("~"):
            return 20 if _re_search(section.args[1] if len(section.args) > 1 else "", script) else None
        pattern = arg.rstrip("/") or "/"
        if any(c in pattern for c in "*?["):
            return 10 + pattern.count("/") if fnmatch.fnmatch(script_dir, pattern) or fnmatch.fnmatch(
                script_dir, pattern + "/*") else None
        if script_dir == pattern or script_dir.startswith(pattern.rstrip("/") + "/") or pattern == "/":
            return 10 + (0 if pattern == "/" else pattern.count("/"))
        return None
    if key == "directorymatch":
        return 20 if _re_search(arg, script_dir) else None
    if key in ("files", "filesmatch"):
        base = os.path.basename(script)
        if key == "filesmatch" or arg.startswith("~"):
            return 30 if _re_search(section.args[-1], base) else None
        return 30 if fnmatch.fnmatch(base, arg) else None
    if key == "location":
        if arg.startswith("~"):
            return 40 if _re_search(section.args[1] if len(section.args) > 1 else "", url) else None
        loc = arg.rstrip("/")
        return 40 if (url == arg or url.startswith(loc + "/") or not loc or url == loc) else None
    if key == "locationmatch":
        return 40 if _re_search(arg, url) else None
    return None


def _re_search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _setting(cfg: ApacheConfig, app: App, key: str) -> Tuple[Optional[str], str]:
    """The value of per-directory directive *key* for *app*, and where it was set."""
    candidates: List[Tuple[int, int, Node]] = []
    order = 0

    def collect(nodes: List[Node], base_rank: int, in_section: Optional[int]) -> None:
        nonlocal order
        for n in nodes:
            order += 1
            if n.children is None:
                if n.key == key and n.args:
                    candidates.append((in_section if in_section is not None else base_rank, order, n))
                continue
            if n.key == "virtualhost":
                continue
            rank = _dir_matches(n, app.script, app.url)
            if rank is not None:
                collect(n.children, base_rank, rank)

    collect(cfg.nodes, 0, None)
    if app.vhost.addrs:
        collect(app.vhost.nodes, 1, None)
    if not candidates:
        return None, ""
    candidates.sort(key=lambda c: (c[0], c[1]))
    node = candidates[-1][2]
    return node.args[0], node.where


def _find_group(cfg: ApacheConfig, name: str, vhost: VHost) -> Optional[DaemonGroup]:
    for g in cfg.groups:
        if g.name == name and (g.vhost is None or g.vhost is vhost or
                               (g.vhost.server_name and g.vhost.server_name == vhost.server_name)):
            return g
    return None


def _is_probe(app: App) -> bool:
    if "venvprobe" in app.url:
        return True
    try:
        with open_regular(app.script) as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return False
    # The probe's entry point, not an app that merely wraps itself in the middleware.
    return _PROBE_SCRIPT.search(head) is not None


def _resolve(cfg: ApacheConfig, app: App) -> None:
    if "process-group" in app.options:
        app.process_group, app.process_group_from = app.options["process-group"], f"{app.where} (process-group=)"
    else:
        app.process_group, app.process_group_from = _setting(cfg, app, "wsgiprocessgroup")
    if "application-group" in app.options:
        app.application_group = app.options["application-group"]
        app.application_group_from = f"{app.where} (application-group=)"
    else:
        app.application_group, app.application_group_from = _setting(cfg, app, "wsgiapplicationgroup")
    pg = app.process_group
    if pg and pg != GLOBAL and not pg.startswith("%{"):
        app.group = _find_group(cfg, pg, app.vhost)
        if app.group is not None:
            app.group.apps.append(app)
    app.user = cfg.user
    if app.group is not None:
        app.user = app.group.options.get("user", cfg.user)
        if app.group.python_home:
            app.python_home, app.python_home_from = app.group.python_home, f"{app.group.where} (python-home=)"
        elif cfg.python_home:
            app.python_home = cfg.python_home
            app.python_home_from = f"{cfg.globals['wsgipythonhome'].where} (WSGIPythonHome, inherited)"
        app.python_path = app.group.python_path
    elif app.mode == "embedded":
        if cfg.python_home:
            app.python_home = cfg.python_home
            app.python_home_from = f"{cfg.globals['wsgipythonhome'].where} (WSGIPythonHome)"
        app.python_path = cfg.python_path
    app.is_probe = _is_probe(app)
    _resolve_interpreter_options(cfg, app)


def _resolve_interpreter_options(cfg: ApacheConfig, app: App) -> None:
    """GIL mode, free-threading and layered python-path as mod_wsgi 6 resolves them
    (``wsgi_resolve_interpreter_options`` / ``wsgi_resolve_free_threading``)."""
    pg = app.group.name if app.group else None
    name = "" if app.main_interpreter else app.interpreter_name()
    own = _on(cfg.globals.get("wsgiperinterpretergil"))
    own_from = cfg.globals["wsgiperinterpretergil"].where if own is not None else ""
    free = _on(cfg.globals.get("wsgifreethreading"))
    best = -1
    layers: List[Tuple[int, int, List[str]]] = []
    for order, block in enumerate(cfg.interpreter_options):
        if not block.matches(pg, name):
            continue
        node = block.settings.get("wsgiperinterpretergil")
        if node is not None and block.specificity >= best:
            own, own_from, best = _on(node), f"{block.where} (<WSGIInterpreterOptions>)", block.specificity
        ft = block.settings.get("wsgifreethreading")
        if ft is not None and block.application_group is None:  # WSGI0201: application-group cannot scope it
            free = _on(ft)
        if block.python_path:
            layers.append((block.specificity, order, block.python_path))
    # WSGIPythonPath inside a block adds to the process's base path, least specific first.
    for _, _, paths in sorted(layers):
        app.python_path = list(app.python_path) + [p for p in paths if p not in app.python_path]
    app.free_threading = bool(free)
    if app.free_threading:
        app.gil, app.gil_from = "none", "WSGIFreeThreading On"
    elif app.main_interpreter:
        app.gil, app.gil_from = "shared", "main interpreter (always the process GIL)"
    elif own:
        app.gil, app.gil_from = "own", own_from
    else:
        app.gil, app.gil_from = "shared", own_from or "default (WSGIPerInterpreterGIL Off)"


# ---------------------------------------------------------------------------
# findings

Adder = Callable[..., dict]


def analyse(cfg: ApacheConfig, *, embedder: Any = None, check_homes: bool = True, do_predict: bool = True,
            confirm: bool = True) -> Tuple[List[dict], Dict[str, Any]]:
    """Findings for *cfg* (catalog codes) and the per-home check results."""
    from venvprobe.offline.access import UnknownUser, check_access, lookup_user
    from venvprobe.offline.home import check_home, find_venv_root, site_packages_dirs, subinterpreter_unsafe

    findings: List[dict] = []

    def add(code: str, message: str, evidence: Sequence[str] = (), **kw: Any) -> dict:
        f = make_finding(code, message, list(evidence), server="mod_wsgi", **kw)
        findings.append(f)
        return f

    for node, section in cfg.misplaced:
        add("global-only-directive-in-virtualhost",
            f"{node.name} at {node.where} is inside a <{section}> section: Apache refuses to start "
            f"(\"{node.name} cannot occur within <{section}> section\")",
            [f"{node.where}: {node.name} {' '.join(node.args)}"])
    for var, code in (("PYTHONHOME", "pythonhome-from-env"), ("PYTHONPATH", "pythonpath-from-env")):
        if cfg.env.get(var):
            add(code, f"{cfg.envvars} exports {var}={cfg.env[var]}: every mod_wsgi interpreter inherits it"
                + (" and it overrides python-home / WSGIPythonHome" if var == "PYTHONHOME" else ""),
                [f"{cfg.envvars}: export {var}={cfg.env[var]}"], severity="error" if var == "PYTHONHOME" else None)
    uses_wsgi = bool(cfg.apps or cfg.groups or cfg.globals)
    if cfg.full_config and uses_wsgi and not cfg.wsgi_loaded:
        add("mod-wsgi-not-loaded", f"{cfg.path} uses WSGI directives but never loads mod_wsgi (LoadModule wsgi_module)",
            [f"configuration files read: {len(cfg.files)}"])

    # -- delegation --------------------------------------------------------------------
    for g in cfg.groups:
        if not g.apps and not g.referenced:
            embedded = [a for a in cfg.apps if a.mode == "embedded" and (g.vhost is None or a.vhost is g.vhost)]
            msg = f"WSGIDaemonProcess {g.name} ({g.where}) is declared but nothing is delegated to it"
            if embedded:
                msg += ": " + ", ".join(f"{a.url} ({a.script})" for a in embedded) + \
                       " run embedded in Apache's own processes" + \
                       (f" without python-home={g.python_home}" if g.python_home else "")
            add("daemon-group-unused", msg, [f"{g.where}: WSGIDaemonProcess {g.name} " +
                                             " ".join(f"{k}={v}" for k, v in g.options.items())] +
                [f"{a.where}: WSGIScriptAlias {a.url} {a.script} (no process-group, no WSGIProcessGroup)" for a in embedded])
    for a in cfg.apps:
        if a.mode == "undefined group":
            add("daemon-group-undefined", f"{a.url} ({a.script}) is delegated to process group {a.process_group!r} "
                f"but no WSGIDaemonProcess {a.process_group} is declared for {a.vhost.label}",
                [f"{a.process_group_from}: process group {a.process_group}",
                 "declared groups: " + (", ".join(f"{g.name} ({g.where})" for g in cfg.groups) or "none")])
        elif a.mode == "embedded" and cfg.restrict_embedded:
            add("embedded-mode-disabled", f"{a.url} ({a.script}) is not delegated to a daemon group but "
                f"WSGIRestrictEmbedded On: every request fails with HTTP 500",
                [f"{cfg.globals['wsgirestrictembedded'].where}: WSGIRestrictEmbedded On", f"{a.where}: no process group"])

    # -- shared interpreters ---------------------------------------------------------------
    shared: Dict[Tuple[str, str], List[App]] = {}
    for a in cfg.apps:
        if a.mode in ("daemon", "embedded") and not a.is_probe and a.application_group not in (None, "%{RESOURCE}") \
                and not (a.application_group or "").startswith("%{ENV"):
            key = ((a.group.name if a.group else "(embedded)"), a.interpreter_name())
            shared.setdefault(key, []).append(a)
    for (group, interp), apps in shared.items():
        scripts = sorted({a.script for a in apps})
        if len(scripts) > 1:
            add("several-apps-one-interpreter",
                f"{len(scripts)} applications share the interpreter {interp} of process group {group}: "
                + ", ".join(f"{a.url} ({a.script})" for a in apps),
                [f"{a.where}: {a.url} -> application group {a.application_group} ({a.application_group_from or 'default'})"
                 for a in apps], severity="warning")

    for a in cfg.apps:
        if a.is_probe and a.mode in ("daemon", "embedded"):
            mates = [o for o in cfg.apps if o is not a and not o.is_probe and o.mode == a.mode and o.group is a.group
                     and o.interpreter_name() == a.interpreter_name()]
            if not mates:
                add("probe-alone", f"the probe {a.url} ({a.script}) gets its own interpreter {a.interpreter_name()} "
                    f"in process group {a.process_group or '(embedded)'}: it will not report any app's interpreter",
                    [f"{a.where}: application group {a.application_group or '%{RESOURCE} (default: per URL)'}"])

    # -- python-home per group / embedded ----------------------------------------------------
    homes: Dict[Tuple[str, str], Any] = {}
    for g in cfg.groups:
        delegated = [a for a in g.apps]
        if not g.python_home and cfg.python_home and (delegated or g.referenced):
            add("global-python-home-inherited",
                f"WSGIDaemonProcess {g.name} ({g.where}) has no python-home, so it silently uses WSGIPythonHome "
                f"{cfg.python_home} ({cfg.globals['wsgipythonhome'].where})",
                [f"{g.where}: WSGIDaemonProcess {g.name} (no python-home=)"])
        if not g.python_home and not cfg.python_home and delegated:
            add("prefix-from-path-search", f"WSGIDaemonProcess {g.name} ({g.where}) has no python-home: the daemon "
                f"runs the Python mod_wsgi links with its own packages", [f"{g.where}: no python-home="])
    embedded_apps = [a for a in cfg.apps if a.mode == "embedded"]
    if embedded_apps and not cfg.python_home and not cfg.restrict_embedded:
        add("prefix-from-path-search", "applications run in embedded mode and there is no WSGIPythonHome: "
            + ", ".join(a.url for a in embedded_apps), [f"{a.where}: {a.url} embedded" for a in embedded_apps])
    targets: List[Tuple[str, str, str]] = []  # (home, user, context)
    for g in cfg.groups:
        home = g.python_home or (cfg.python_home if (g.apps or g.referenced) else None)
        if home:
            targets.append((home, g.options.get("user", cfg.user), f"WSGIDaemonProcess {g.name}: "))
    if cfg.python_home and (embedded_apps or not cfg.groups):
        targets.append((cfg.python_home, cfg.user, "WSGIPythonHome: "))
    if check_homes:
        for home, user_name, context in targets:
            if (home, user_name) in homes:
                continue
            try:
                user = lookup_user(user_name)
            except UnknownUser:
                add("python-home-inaccessible", f"{context}user {user_name!r} does not exist on this machine",
                    [f"user={user_name}"])
                continue
            result = check_home(home, embedder=embedder, user=user, server="mod_wsgi", do_predict=do_predict,
                                confirm=confirm, context=context)
            homes[(home, user_name)] = result
            findings.extend(result.findings)

    _analyse_interpreters(cfg, embedder, add, homes, findings)

    # -- python-path, sub-interpreters, scripts --------------------------------------------------
    xy = embedder.major_minor if embedder is not None else None
    for a in cfg.apps:
        if a.mode not in ("daemon", "embedded"):
            continue
        label = f"WSGIDaemonProcess {a.group.name}" if a.group else "WSGIPythonPath"
        try:
            user = lookup_user(a.user)
        except UnknownUser:
            user = None
        for entry in a.python_path:
            root = find_venv_root(entry)
            if re.search(r"/(site|dist)-packages/?$", entry) and (root or "/lib/python" in entry):
                home_root = os.path.normpath(a.python_home) if a.python_home else None
                if not root or os.path.normpath(root) != home_root:
                    add("base-site-visible", f"{label} python-path={entry} adds a venv's site-packages instead of "
                        f"making the venv the Python home: the base installation's packages stay importable"
                        + (f"; use python-home={root}" if root else ""),
                        [f"{(a.group.where if a.group else a.where)}: python-path {entry}",
                         f"python-home: {a.python_home or 'not set'}"])
                m = re.search(r"python(\d+\.\d+)", entry)
                if m and xy and m.group(1) != xy:
                    add("venv-python-mismatch", f"{label} python-path={entry} is for Python {m.group(1)} but mod_wsgi "
                        f"embeds Python {xy}", [f"python-path {entry}"])
            if user is not None:
                res = check_access(entry, user, "rx")
                if not res.exists:
                    add("sys-path-missing", f"{label} python-path entry {entry} does not exist", [res.reason])
                elif not res.ok:
                    add("sys-path-unreadable", f"{label} python-path entry {entry} is not readable by {user.name}: "
                        f"{res.reason}", [res.reason])
        if user is not None and not a.is_match and "$" not in a.script:
            res = check_access(a.script.rstrip("/"), user, "r")
            if not res.ok:
                add("wsgi-script-unreadable", f"{a.url}: WSGI script {a.script} " +
                    ("does not exist" if not res.exists else f"is not readable by {user.name}: {res.reason}"),
                    [f"{a.where}: WSGIScriptAlias {a.url} {a.script}", res.reason])
        if not a.main_interpreter and not a.is_probe and a.gil != "own":
            sites: List[str] = []
            if a.python_home:
                sites += site_packages_dirs(a.python_home, xy) or site_packages_dirs(a.python_home)
            sites += [p for p in a.python_path if os.path.isdir(p)]
            unsafe = subinterpreter_unsafe(sites) if sites else []
            if unsafe:
                add("c-extension-in-subinterpreter",
                    f"{a.url} ({a.script}) runs in sub-interpreter {a.interpreter_name()} but its packages include "
                    + ", ".join(n for n, _ in unsafe) + ": set WSGIApplicationGroup %{GLOBAL}",
                    [why for _, why in unsafe] + [f"{a.where}: application group "
                                                   f"{a.application_group or '%{RESOURCE} (default: per URL)'}"])
    return findings, homes


# Directives mod_wsgi 6 added: a 4.x module does not know them and httpd refuses the configuration
# ("Invalid command 'WSGIPerInterpreterGIL', perhaps misspelled or defined by a module not included").
MOD_WSGI6_DIRECTIVES = ("WSGIPerInterpreterGIL", "WSGIFreeThreading", "WSGIInterpreterOptions", "WSGISwitchInterval")
MAX_MODULE_BYTES = 32 << 20


def unknown_directives(cfg: ApacheConfig, module: Optional[str]) -> List[dict]:
    """mod_wsgi 6 directives used with a mod_wsgi module that does not define them.

    A module's command table holds each directive name as a C string, so the names
    it knows are in its file (``<WSGIInterpreterOptions`` with its bracket).
    """
    if not module:
        return []
    try:
        with open_regular(module) as fh:
            data = fh.read(MAX_MODULE_BYTES)
    except OSError:
        return []
    used: Dict[str, str] = {}
    for node, _scope in _walk(cfg.nodes):
        for name in MOD_WSGI6_DIRECTIVES:
            if node.key == name.lower():
                used.setdefault(name, node.where)
    out = []
    for name, where in sorted(used.items()):
        if name.encode() not in data:
            out.append(make_finding(
                "directive-unknown-to-mod-wsgi",
                f"{name} ({where}) is a mod_wsgi 6 directive, but the mod_wsgi loaded ({module}) does not define "
                f"it: httpd refuses to start (\"Invalid command '{name}'\")",
                [f"{where}: {name}", f"{module}: no {name} in its command table"], server="mod_wsgi"))
    return out


def _free_threaded(embedder: Any) -> Optional[bool]:
    """Is the embedded Python a free-threaded build (libpython3.13t, cpython-313t)? None: unknown."""
    if embedder is None:
        return None
    names = " ".join(str(x) for x in (embedder.libpython, embedder.executable, embedder.source) if x)
    return bool(re.search(r"python3\.\d+t\b|cpython-3\d+t-", names))


def _version_tuple(xy: Optional[str]) -> Tuple[int, ...]:
    try:
        return tuple(int(x) for x in (xy or "").split("."))
    except ValueError:
        return ()


def _analyse_interpreters(cfg: ApacheConfig, embedder: Any, add: Adder, homes: Dict[Tuple[str, str], Any],
                          findings: List[dict]) -> None:
    """mod_wsgi 6: GIL modes, free-threading, extensions an own-GIL interpreter refuses, embedded mode."""
    from venvprobe._collect import _extension_init_kind, _walk_extensions
    from venvprobe.offline.access import UnknownUser, check_access, lookup_user
    from venvprobe.offline.home import site_packages_dirs

    free_build = _free_threaded(embedder)
    xy = embedder.major_minor if embedder is not None else None
    asked_free = [a for a in cfg.apps if a.free_threading]
    if asked_free and free_build is False:
        where = [n.where for n in ([cfg.globals["wsgifreethreading"]] if "wsgifreethreading" in cfg.globals else [])]
        where += [b.where for b in cfg.interpreter_options if "wsgifreethreading" in b.settings]
        skipped = [a for a in asked_free if not a.main_interpreter and a.gil_from and "WSGIPerInterpreterGIL" not in a.gil_from]
        add("free-threading-unavailable",
            f"WSGIFreeThreading On for {', '.join(sorted({a.url for a in asked_free}))}, but mod_wsgi embeds "
            f"{embedder.source} (Python {embedder.version or xy}), not a free-threaded build: the GIL stays, and "
            f"mod_wsgi skips any per-interpreter GIL in those processes (WSGI0202)",
            [f"{w}: WSGIFreeThreading On" for w in where] + [f"embedding: {embedder.source}"])
        for a in asked_free:
            a.gil, a.gil_from = "shared", "WSGIFreeThreading On, but not a free-threaded build"
        del skipped
    for a in cfg.apps:
        if a.gil == "own" and xy and _version_tuple(xy) < (3, 12):
            add("per-interpreter-gil-unsupported", f"{a.url}: WSGIPerInterpreterGIL On ({a.gil_from}) but mod_wsgi "
                f"embeds Python {embedder.version or xy}: every sub-interpreter shares the GIL (WSGI0198)",
                [f"{a.gil_from}", f"embedding: {embedder.source}"])
            a.gil, a.gil_from = "shared", f"WSGIPerInterpreterGIL needs Python 3.12+ (embeds {xy})"
    # -- own-GIL interpreters: installed extensions that will not load ----------------------------------
    scanned: Dict[str, List[dict]] = {}
    for a in cfg.apps:
        if a.gil != "own" or a.mode not in ("daemon", "embedded"):
            continue
        sites: List[str] = []
        if a.python_home:
            sites += site_packages_dirs(a.python_home, xy) or site_packages_dirs(a.python_home)
        sites += [p for p in a.python_path if os.path.isdir(p)]
        by_package: Dict[Tuple[str, str], List[str]] = {}
        for site in sites:
            if site not in scanned:
                budget = [20000]
                scanned[site] = [{"file": f, "package": os.path.relpath(f, site).split(os.sep)[0].split(".")[0]}
                                 for f in _walk_extensions(site, budget) if _extension_init_kind(f) == "single-phase"]
            for item in scanned[site]:
                by_package.setdefault((item["package"], site), []).append(item["file"])
        for (package, site), files in sorted(by_package.items()):
            add("extension-refuses-interpreter",
                f"{a.url} ({a.script}) runs in sub-interpreter {a.interpreter_name()} with its own GIL ({a.gil_from}), "
                f"but {package} (installed in {site}) has single-phase-init extensions ("
                + ", ".join(os.path.basename(f) for f in files[:3]) + "): `import " + package + "` fails there",
                [f"{f}: single-phase init (no PyModuleDef_Init): refused where multi-interpreter support is checked"
                 for f in files[:5]] + [f"{a.where}: application group {a.application_group}"])
    # -- embedded mode: will Python start in Apache's children as the Apache user? -----------------------
    if cfg.restrict_embedded:
        return
    embedded = [a for a in cfg.apps if a.mode == "embedded"]
    try:
        user = lookup_user(cfg.user)
    except UnknownUser:
        return
    if cfg.python_home:
        check = homes.get((cfg.python_home, cfg.user))
        bad = [f for f in (check.findings if check else []) if f["severity"] == "error"]
        if not bad:
            return
        why, what = bad[0]["message"], f"WSGIPythonHome {cfg.python_home}"
    elif embedder is not None and embedder.prefix and xy:
        res = check_access(os.path.join(embedder.prefix, "lib", f"python{xy}"), user, "rx")
        if res.ok:
            return
        why, what = f"{res.reason} (blocked at {res.blocked_at})", f"the compiled-in prefix {embedder.prefix}"
    else:
        return
    add("embedded-python-fails",
        f"Apache's children ({cfg.user}) initialise Python from {what} and cannot: {why}; "
        + (f"{', '.join(a.url for a in embedded)} run embedded and answer 500" if embedded else
           "no app runs embedded, but every child logs WSGI0036/WSGI0001 at start"),
        [f"{cfg.path}: WSGIRestrictEmbedded is not On"] + [f"{a.where}: {a.url} embedded" for a in embedded[:5]],
        severity="error" if embedded else "warning")


__all__ = ["App", "ApacheConfig", "InterpreterOptions", "unknown_directives", "ConfigError", "DaemonGroup", "GLOBAL_ONLY", "Node", "Reader", "VHost", "analyse",
           "default_apache_user", "load", "parse_options", "read_envvars", "split_args"]
