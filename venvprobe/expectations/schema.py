"""The expectations format's words: its version, keys, the friendly fields of [interpreter]/[identity], its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

from venvprobe.errors import VenvprobeError
from venvprobe.vocab import SERVER_KINDS


FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 << 20

# Parts of a worker's fingerprint (see venvprobe.workers.fingerprint).
WORKER_PARTS = ("interpreter", "identity", "sys_path", "distributions", "findings", "code")

GLOBAL_GROUP = "%{GLOBAL}"

Path_ = Tuple[Union[str, int], ...]


@dataclass(frozen=True)
class FieldSpec:
    """Where a friendly key of ``[interpreter]``/``[identity]`` lives in a report."""

    path: Tuple[str, ...]
    kind: str  # "str", "bool", "int", "version", "path"
    doc: str


INTERPRETER_FIELDS: Dict[str, FieldSpec] = {
    "python": FieldSpec(("interpreter", "python"), "version", "Python major.minor, e.g. \"3.11\""),
    "version": FieldSpec(("interpreter", "version"), "version", "full Python version, e.g. \"3.11.2\""),
    "implementation": FieldSpec(("interpreter", "implementation"), "str", "cpython, pypy, ..."),
    "executable": FieldSpec(("interpreter", "executable"), "path", "sys.executable"),
    "real_executable": FieldSpec(("interpreter", "real_executable"), "path", "sys.executable with symlinks resolved"),
    "base_executable": FieldSpec(("interpreter", "base_executable"), "path", "sys._base_executable"),
    "prefix": FieldSpec(("interpreter", "prefix"), "path", "sys.prefix (the venv root when in a venv)"),
    "exec_prefix": FieldSpec(("interpreter", "exec_prefix"), "path", "sys.exec_prefix"),
    "base_prefix": FieldSpec(("interpreter", "base_prefix"), "path", "sys.base_prefix (the installation the venv was made from)"),
    "base_exec_prefix": FieldSpec(("interpreter", "base_exec_prefix"), "path", "sys.base_exec_prefix"),
    "in_venv": FieldSpec(("interpreter", "in_venv"), "bool", "sys.prefix != sys.base_prefix"),
    "platform": FieldSpec(("interpreter", "platform"), "str", "sys.platform"),
    "cache_tag": FieldSpec(("interpreter", "cache_tag"), "str", "sys.implementation.cache_tag"),
    "soabi": FieldSpec(("interpreter", "soabi"), "str", "SOABI of C extensions"),
    "platlibdir": FieldSpec(("interpreter", "platlibdir"), "str", "sys.platlibdir"),
    "sysconfig_scheme": FieldSpec(("interpreter", "sysconfig_scheme"), "str", "default install scheme"),
    "filesystem_encoding": FieldSpec(("interpreter", "filesystem_encoding"), "str", "sys.getfilesystemencoding()"),
}

IDENTITY_FIELDS: Dict[str, FieldSpec] = {
    "in_venv": FieldSpec(("interpreter", "in_venv"), "bool", "running inside a virtual environment"),
    "main_interpreter": FieldSpec(("identity", "main_interpreter"), "bool", "the main interpreter, not a sub-interpreter"),
    "interpreter_id": FieldSpec(("identity", "interpreter_id"), "int", "interpreter id (0 is the main interpreter)"),
    "server": FieldSpec(("identity", "server", "kind"), "str", "server kind: " + ", ".join(SERVER_KINDS)),
    "mode": FieldSpec(("identity", "server", "mode"), "str", "mod_wsgi mode: daemon or embedded"),
    "process_group": FieldSpec(("identity", "server", "process_group"), "str", "mod_wsgi process group (\"\" in embedded mode)"),
    "application_group": FieldSpec(("identity", "server", "application_group"), "str",
                                   "mod_wsgi application group (\"%{GLOBAL}\" or \"\" for the main interpreter)"),
    "user": FieldSpec(("process", "user"), "str", "user the process runs as"),
}

MATCHER_KEYS = ("equals", "glob", "version", "one_of")
TOP_KEYS = ("version", "description", "interpreter", "identity", "sys_path", "distributions",
             "shadowing", "findings", "workers", "fields")
SECTION_KEYS = {
    "sys_path": ("first", "before", "include", "exclude"),
    "distributions": ("require", "forbid", "only_from_venv"),
    "shadowing": ("allow",),
    "findings": ("max", "allow", "forbid"),
    "workers": ("identical", "ignore"),
}
SPEC_OPERATORS = ("===", "==", "!=", "~=", ">=", "<=", ">", "<")


class ExpectationsError(VenvprobeError):
    """A problem in an expectations file, located as ``file:line``."""

    def __init__(self, message: str, source: str = "<expectations>", line: Optional[int] = None,
                 hint: Optional[str] = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")
