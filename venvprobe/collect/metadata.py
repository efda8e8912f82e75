"""Reading distribution metadata without ``importlib.metadata`` or ``email``: bounded, header only."""

import os

from venvprobe.collect.common import MAX_METADATA_HEADER_BYTES, MAX_RECORD_BYTES, _read_bytes, _read_text


def _read_name_version(path):
    try:
        data = _read_bytes(path, MAX_METADATA_HEADER_BYTES)
    except OSError:
        return None, None
    return _parse_name_version(data)


def _parse_name_version(data):
    """Name and Version from the header of a METADATA / PKG-INFO (bytes)."""
    name = version = None
    # Only the header matters: it ends at the first empty line, before a
    # long description that can be most of the file.
    end = data.find(b"\n\n")
    if end >= 0:
        data = data[:end + 1]
    for line in data.split(b"\n"):
        if not line.strip():
            break
        if line.startswith(b"Name:"):
            name = line[5:].strip().decode("utf-8", "replace")
        elif line.startswith(b"Version:"):
            version = line[8:].strip().decode("utf-8", "replace")
        if name and version:
            break
    return name, version


def _read_record(metadir):
    """RECORD of a .dist-info directory as text, or None when it cannot be read."""
    try:
        return _read_text(metadir + "/RECORD", MAX_RECORD_BYTES)
    except OSError:
        return None


# INSTALLER files whose content RECORD's sha256 names: pip, uv and friends
# write one of these, and RECORD lists it with its hash, so the common case
# needs no open/read/close of INSTALLER (3 syscalls x every distribution).
_KNOWN_INSTALLERS = {
    "zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg": "pip",  # b"pip\n"
    "_tUDi_L0J6suyE-FiB8QPA6Ubo1iUrhzH5mrDLV3Kdk": "pip",
    "LDjFKbbqirilWXGia_0Uo3lsFc1zKP416eimZah7jNw": "uv",  # b"uv\n"
    "5hhM4Q4mYTT9z6QB6PGpUAW81PGNFrYrdXMj4oM_6ak": "uv",
    "vDMCLty3Y5_1M1W06R2t5QoLvwKZ7-thcdHsC6UCnPw": "conda",  # b"conda\n"
    "mW_fLwxqq2qolUAc4tTyQdR4T6XTMiHf8udQ-4wDxQ8": "poetry",  # b"poetry\n"
    "Cu-ORg10ePqxMgGegeh3l35cfvb__RJMnfYt-UFKKZk": "pdm",  # b"pdm\n"
}


def _installer_from_record(text, metadir, metaname=None):
    """INSTALLER's first line when RECORD gives its hash and the hash is a known one, else None.

    *metaname*: ``os.path.basename(metadir)`` when the caller has it.
    """
    if not text:
        return None
    marker = "%s/INSTALLER,sha256=" % (metaname if metaname is not None else os.path.basename(metadir))
    pos = text.find(marker)
    if pos < 0:
        return None
    start = pos + len(marker)
    return _KNOWN_INSTALLERS.get(text[start:text.find(",", start)])


def _first_line(path):
    try:
        return _read_text(path, 256).strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def _extract_json_str(text, key):
    """Pull one string value out of a small JSON document without json."""
    marker = '"%s"' % key
    pos = text.find(marker)
    if pos < 0:
        return None
    start = text.find('"', text.find(":", pos + len(marker)) + 1)
    end = text.find('"', start + 1)
    return text[start + 1:end] if start >= 0 and end > start else None
