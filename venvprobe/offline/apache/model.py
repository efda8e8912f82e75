"""What ``check-apache`` resolves a configuration into: virtual hosts, daemon groups, mounted apps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from venvprobe.offline.apache.reader import DEFAULT_USER, Node


GLOBAL = "%{GLOBAL}"


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
