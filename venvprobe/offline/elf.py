"""Which libpython does a shared object (mod_wsgi.so, a uWSGI python plugin) link?

mod_wsgi and uWSGI's python plugin embed exactly one libpython, chosen when
they were built.  A venv only works in them if it was made by the Python
installation that owns that libpython, so the offline checks need its name
and location.  This module reads the ELF dynamic section directly (``DT_NEEDED``,
``DT_RUNPATH``/``DT_RPATH``) and resolves the library the way ld.so would,
without running ``ldd`` (which executes code from the inspected object on
some systems); ``ldd`` is only a fallback when the ELF cannot be parsed.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, List, Optional, Tuple

from venvprobe.errors import VenvprobeError
from venvprobe.safeio import open_regular

DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29
SHT_DYNAMIC = 6
PT_DYNAMIC = 2
PT_LOAD = 1
_LIBPYTHON = re.compile(r"^libpython(\d+)\.(\d+)[a-z]*\.so(?:\.[\d.]+)?$")
# Searched after RPATH/RUNPATH and /etc/ld.so.conf, like ld.so's built-in list.
_DEFAULT_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64")
MAX_ELF_BYTES = 512 << 20


class ElfError(VenvprobeError):
    """The file is not an ELF shared object we can read."""


@dataclass
class DynamicInfo:
    """The parts of an ELF dynamic section that decide library loading."""

    path: str
    needed: List[str] = field(default_factory=list)
    soname: Optional[str] = None
    rpath: List[str] = field(default_factory=list)
    runpath: List[str] = field(default_factory=list)
    machine: Optional[int] = None
    elf_class: int = 64


@dataclass
class LinkedPython:
    """The libpython an object links: soname, resolved file and X.Y."""

    object_path: str
    soname: Optional[str]
    path: Optional[str]
    version: Optional[str]
    method: str  # "elf", "ldd" or "none"
    note: str = ""

    def as_dict(self) -> dict:
        return {"object": self.object_path, "soname": self.soname, "path": self.path,
                "version": self.version, "method": self.method, "note": self.note}


def read_dynamic(path: str) -> DynamicInfo:
    """Parse the dynamic section of the ELF file at *path*.

    Raises ElfError when *path* is not a readable ELF file with a dynamic
    section (a static binary, a script, a truncated file).
    """
    try:
        with open_regular(path) as fh:
            return _read_dynamic(fh, path)
    except OSError as exc:
        raise ElfError(f"cannot read {path}: {exc.strerror or exc}") from None
    except struct.error:
        raise ElfError(f"{path} is a truncated or corrupt ELF file") from None


def _read_dynamic(fh: BinaryIO, path: str) -> DynamicInfo:
    ident = fh.read(16)
    if len(ident) < 16 or ident[:4] != b"\x7fELF":
        raise ElfError(f"{path} is not an ELF file")
    cls, data = ident[4], ident[5]
    if cls not in (1, 2) or data not in (1, 2):
        raise ElfError(f"{path}: unsupported ELF class/encoding {cls}/{data}")
    end = "<" if data == 1 else ">"
    is64 = cls == 2
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    if size > MAX_ELF_BYTES:
        raise ElfError(f"{path} is larger than {MAX_ELF_BYTES >> 20} MiB")

    def read_at(offset: int, count: int) -> bytes:
        if offset < 0 or offset + count > size:
            raise ElfError(f"{path}: reference outside the file (offset {offset})")
        fh.seek(offset)
        return fh.read(count)

    if is64:
        hdr = struct.unpack(end + "HHIQQQIHHHHHH", read_at(16, 48))
    else:
        hdr = struct.unpack(end + "HHIIIIIHHHHHH", read_at(16, 36))
    (_type, machine, _ver, _entry, phoff, shoff, _flags, _ehsize,
     phentsize, phnum, shentsize, shnum, _shstrndx) = hdr
    info = DynamicInfo(path=path, machine=machine, elf_class=64 if is64 else 32)

    dyn_off = dyn_size = None
    strtab_off = None
    # Section headers are the simple route (.dynamic links its string table);
    # stripped objects can lack them, then program headers are used.
    if shoff and shnum:
        sh_fmt = end + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
        sh_len = struct.calcsize(sh_fmt)
        sections = [struct.unpack(sh_fmt, read_at(shoff + i * shentsize, sh_len)) for i in range(shnum)]
        for sec in sections:
            if sec[1] == SHT_DYNAMIC:
                dyn_off, dyn_size = sec[4], sec[5]
                link = sec[6]
                if link < len(sections):
                    strtab_off = sections[link][4]
                break
    loads: List[Tuple[int, int, int]] = []
    if dyn_off is None and phoff and phnum:
        ph_fmt = end + ("IIQQQQQQ" if is64 else "IIIIIIII")
        ph_len = struct.calcsize(ph_fmt)
        for i in range(phnum):
            ph = struct.unpack(ph_fmt, read_at(phoff + i * phentsize, ph_len))
            if is64:
                p_type, _pf, p_offset, p_vaddr, _pa, p_filesz = ph[:6]
            else:
                p_type, p_offset, p_vaddr, _pa, p_filesz = ph[:5]
            if p_type == PT_DYNAMIC:
                dyn_off, dyn_size = p_offset, p_filesz
            elif p_type == PT_LOAD:
                loads.append((p_vaddr, p_offset, p_filesz))
    if dyn_off is None:
        raise ElfError(f"{path} has no dynamic section (statically linked?)")

    ent_fmt = end + ("qQ" if is64 else "iI")
    ent_len = struct.calcsize(ent_fmt)
    raw = read_at(dyn_off, min(dyn_size, size - dyn_off))
    entries: List[Tuple[int, int]] = []
    for i in range(0, len(raw) - ent_len + 1, ent_len):
        tag, val = struct.unpack_from(ent_fmt, raw, i)
        if tag == DT_NULL:
            break
        entries.append((tag, val))
    if strtab_off is None:
        strtab_vaddr = next((v for t, v in entries if t == 5), None)  # DT_STRTAB
        for vaddr, offset, filesz in loads:
            if strtab_vaddr is not None and vaddr <= strtab_vaddr < vaddr + filesz:
                strtab_off = offset + (strtab_vaddr - vaddr)
                break
    if strtab_off is None:
        raise ElfError(f"{path}: dynamic string table not found")

    def string(offset: int) -> str:
        fh.seek(strtab_off + offset)
        buf = b""
        while len(buf) < 4096:
            chunk = fh.read(256)
            if not chunk:
                break
            nul = chunk.find(b"\0")
            if nul >= 0:
                buf += chunk[:nul]
                break
            buf += chunk
        return buf.decode("utf-8", "surrogateescape")

    for tag, val in entries:
        if tag == DT_NEEDED:
            info.needed.append(string(val))
        elif tag == DT_SONAME:
            info.soname = string(val)
        elif tag == DT_RPATH:
            info.rpath = [p for p in string(val).split(":") if p]
        elif tag == DT_RUNPATH:
            info.runpath = [p for p in string(val).split(":") if p]
    return info


def ld_so_conf_dirs(conf: str = "/etc/ld.so.conf", _seen: Optional[set] = None) -> List[str]:
    """Directories listed in /etc/ld.so.conf, following its ``include`` lines."""
    seen = _seen if _seen is not None else set()
    if conf in seen:
        return []
    seen.add(conf)
    out: List[str] = []
    try:
        with open_regular(conf) as fh:
            lines = fh.read(1 << 20).decode("utf-8", "replace").splitlines()
    except OSError:
        return out
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include"):
            pattern = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            if pattern and not os.path.isabs(pattern):
                pattern = os.path.join(os.path.dirname(conf), pattern)
            for inc in sorted(glob.glob(pattern)):
                out.extend(ld_so_conf_dirs(inc, seen))
        elif line.startswith("hwcap"):
            continue
        else:
            out.append(line)
    return out


def _expand_origin(entry: str, origin: str) -> str:
    return entry.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)


def search_dirs(info: DynamicInfo) -> List[str]:
    """Directories ld.so searches for *info*'s DT_NEEDED entries, in order.

    LD_LIBRARY_PATH is left out on purpose: the server's environment, not
    ours, would decide it.
    """
    origin = os.path.dirname(os.path.realpath(info.path))
    dirs: List[str] = []
    if info.rpath and not info.runpath:  # DT_RPATH is ignored when DT_RUNPATH exists
        dirs += [_expand_origin(d, origin) for d in info.rpath]
    dirs += [_expand_origin(d, origin) for d in info.runpath]
    dirs += ld_so_conf_dirs()
    dirs += list(_DEFAULT_DIRS)
    seen, ordered = set(), []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            ordered.append(d)
    return ordered


def resolve_library(name: str, info: DynamicInfo) -> Optional[str]:
    """Path ld.so would load for DT_NEEDED *name*, or None when not found."""
    if "/" in name:
        return name if os.path.exists(name) else None
    for d in search_dirs(info):
        candidate = os.path.join(d, name)
        if os.path.isfile(candidate) and _same_class(candidate, info):
            return candidate
    return None


def _same_class(candidate: str, info: DynamicInfo) -> bool:
    # A 32-bit libpython in a multilib dir must not satisfy a 64-bit module.
    try:
        with open_regular(candidate) as fh:
            ident = fh.read(5)
    except OSError:
        return False
    return len(ident) == 5 and ident[:4] == b"\x7fELF" and (ident[4] == 2) == (info.elf_class == 64)


def version_of_soname(soname: Optional[str]) -> Optional[str]:
    """"3.11" for libpython3.11.so.1.0 (None if *soname* is not a libpython)."""
    m = _LIBPYTHON.match(os.path.basename(soname or ""))
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _ldd(path: str) -> Dict[str, Optional[str]]:
    exe = shutil.which("ldd")
    if not exe:
        return {}
    try:
        proc = subprocess.run([exe, path], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out: Dict[str, Optional[str]] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|(\S+))", line)
        if m:
            out[m.group(1)] = m.group(3)
    return out


def linked_python(path: str, use_ldd: bool = True) -> LinkedPython:
    """Find the libpython that the ELF object at *path* needs.

    Reads DT_NEEDED and resolves it like ld.so; falls back to ``ldd`` when
    the ELF cannot be parsed.  ``method == "none"`` means no libpython is
    linked (e.g. a server binary with Python built in statically).
    """
    real = os.path.realpath(path)
    try:
        info = read_dynamic(real)
    except ElfError as exc:
        if not use_ldd:
            raise
        libs = _ldd(real)
        for name, resolved in libs.items():
            if version_of_soname(name):
                return LinkedPython(path, name, resolved, version_of_soname(name), "ldd",
                                    f"ELF parse failed ({exc}); used ldd")
        raise
    for name in info.needed:
        version = version_of_soname(name)
        if version:
            resolved = resolve_library(name, info)
            note = ""
            if resolved is None and use_ldd:
                resolved = _ldd(real).get(name)
                note = "resolved with ldd" if resolved else "not found in the library search path"
            return LinkedPython(path, name, resolved, version, "elf", note)
    return LinkedPython(path, None, None, None, "none",
                        f"{os.path.basename(path)} links no libpython (needs: {', '.join(info.needed) or 'nothing'})")


__all__ = ["DynamicInfo", "ElfError", "LinkedPython", "ld_so_conf_dirs", "linked_python", "read_dynamic",
           "resolve_library", "search_dirs", "version_of_soname"]
