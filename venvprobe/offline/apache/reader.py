"""Read an Apache configuration into a tree of :class:`Node` the way httpd does.

Follows ``Include``/``IncludeOptional`` (globs, directories, ServerRoot-relative paths),
``Define``/``${VAR}`` (also from Debian's ``/etc/apache2/envvars``) and evaluates ``<IfModule>``/
``<IfDefine>``/``<IfFile>`` at parse time (modules loaded so far).  Every read is bounded: a hostile
configuration fails as one line.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from venvprobe.errors import VenvprobeError
from venvprobe.safeio import open_regular, read_config


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

_CONDITIONALS = ("ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection", "else", "elseif")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


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
            word, i = _quoted(text, i + 1, text[i])
            args.append(word)
        else:
            # mod_wsgi's option parser also accepts key="quoted value" (WSGIDaemonProcess).
            buf = []
            while i < n and not text[i].isspace():
                if text[i] == "=" and i + 1 < n and text[i + 1] in "\"'":
                    word, i = _quoted(text, i + 2, text[i + 1])
                    buf.append("=" + word)
                    continue
                buf.append(text[i])
                i += 1
            args.append("".join(buf))
    return args


def _quoted(text: str, i: int, quote: str) -> Tuple[str, int]:
    """The quoted word whose text starts at *i*, and the index after its closing *quote* (\\" escapes it)."""
    buf = []
    n = len(text)
    while i < n and text[i] != quote:
        if text[i] == "\\" and i + 1 < n and text[i + 1] == quote:
            i += 1
        buf.append(text[i])
        i += 1
    return "".join(buf), i + 1


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
        data = read_config(path, MAX_CONFIG_BYTES, ConfigError)
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
                children: List[Node] = []
                section = Node(name, args, file, lineno, children)
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
                i = self._section(lines, i, file, children, key, lineno)
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


def _walk(nodes: List[Node], scope: Tuple[Node, ...] = ()) -> Iterable[Tuple[Node, Tuple[Node, ...]]]:
    for n in nodes:
        yield n, scope
        if n.children is not None:
            yield from _walk(n.children, scope + (n,))
