"""Reading DT_NEEDED/RUNPATH of mod_wsgi.so and the uWSGI plugin, and finding the owning installation."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from venvprobe.offline import elf, embed
from venvprobe.offline.access import traversal_dirs
from report_helpers import pyenv_python

MOD_WSGI = "/usr/lib/apache2/modules/mod_wsgi.so"
PLUGIN = "/usr/lib/uwsgi/plugins/python3_plugin.so"
PYENV_BIN = pyenv_python("3.11") or "pyenv-python3.11"
PYENV_PREFIX = os.path.dirname(os.path.dirname(PYENV_BIN))


def _ldd(path: str) -> dict:
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = {}
    for line in out.splitlines():
        parts = line.split("=>")
        if len(parts) == 2:
            libs[parts[0].strip()] = parts[1].split("(")[0].strip()
    return libs


@pytest.mark.parametrize("obj", [MOD_WSGI, PLUGIN, PYENV_BIN])
def test_libpython_matches_ldd(obj):
    if not os.path.exists(obj) or not shutil.which("ldd"):
        pytest.skip(f"no {obj} or ldd")
    linked = elf.linked_python(obj, use_ldd=False)
    assert linked.method == "elf" and linked.version == "3.11"
    assert linked.soname == "libpython3.11.so.1.0"
    assert os.path.realpath(linked.path) == os.path.realpath(_ldd(obj)[linked.soname])


def test_runpath_is_honoured():
    if not os.path.exists(PYENV_BIN):
        pytest.skip("no pyenv 3.11")
    info = elf.read_dynamic(PYENV_BIN)
    assert info.runpath == [f"{PYENV_PREFIX}/lib"]
    assert elf.resolve_library("libpython3.11.so.1.0", info) == f"{PYENV_PREFIX}/lib/libpython3.11.so.1.0"


def test_without_section_headers_program_headers_are_used(tmp_path):
    if not os.path.exists(MOD_WSGI):
        pytest.skip("no mod_wsgi")
    copy = tmp_path / "mod_wsgi.so"
    data = bytearray(open(MOD_WSGI, "rb").read())
    # Zero e_shoff/e_shnum as a stripped-section-headers object would have them.
    struct.pack_into("<Q", data, 0x28, 0)
    struct.pack_into("<H", data, 0x3C, 0)
    copy.write_bytes(bytes(data))
    info = elf.read_dynamic(str(copy))
    assert "libpython3.11.so.1.0" in info.needed and info.soname == "mod_wsgi.so"


def test_not_elf_and_no_libpython(tmp_path):
    text = tmp_path / "x.so"
    text.write_text("not an ELF")
    with pytest.raises(elf.ElfError):
        elf.read_dynamic(str(text))
    ls = elf.linked_python("/bin/ls")
    assert ls.method == "none" and "links no libpython" in ls.note
    assert elf.version_of_soname("libpython3.12d.so.1.0") == "3.12"
    assert elf.version_of_soname("libc.so.6") is None


def test_embedding_installation_of_debian_mod_wsgi():
    if not os.path.exists(MOD_WSGI):
        pytest.skip("no mod_wsgi")
    e = embed.from_mod_wsgi(MOD_WSGI)
    assert e.prefix == "/usr" and e.version.startswith("3.11.") and e.executable.startswith("/usr/bin/python3")
    assert e.owns_home("/usr/bin") and e.owns_home("/bin")  # merged /usr
    assert not e.owns_home(f"{PYENV_PREFIX}/bin")
    with pytest.raises(embed.EmbedError):
        embed.from_mod_wsgi("/nonexistent/mod_wsgi.so")


def test_ld_so_conf_includes(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("/opt/a/lib\n# comment\n")
    (tmp_path / "ld.so.conf").write_text("include conf.d/*.conf\n/opt/b/lib\n")
    assert elf.ld_so_conf_dirs(str(tmp_path / "ld.so.conf")) == ["/opt/a/lib", "/opt/b/lib"]


def test_traversal_dirs_follow_symlinks(tmp_path):
    real = tmp_path / "real" / "venv"
    real.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    dirs = traversal_dirs(str(tmp_path / "link" / "venv" / "pyvenv.cfg"))
    assert str(tmp_path / "real") in dirs and str(real) in dirs
