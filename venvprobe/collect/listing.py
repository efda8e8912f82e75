"""One ``os.scandir`` per sys.path entry: what it holds, shared by sys_path, distributions and shadowing.

A listing never raises: a missing, unreadable, special or corrupt entry
becomes ``listing.kind`` / ``listing.error``.  Listings are capped at
``MAX_DIR_ENTRIES`` names.
"""

import os

from venvprobe.collect.common import MAX_DIR_ENTRIES, _read_bytes, _text


class _Listing(object):
    """What one sys.path entry provides, read with a single scandir."""

    __slots__ = ("names", "dirs", "truncated", "error", "kind", "importer", "_name_set")

    def __init__(self):
        self.importer = None
        self._name_set = None
        self.names = []
        self.dirs = set()
        self.truncated = False
        self.error = None
        self.kind = "missing"

    def name_set(self):
        """The names as a set, built once (RECORD checks of every dist share it)."""
        if self._name_set is None:
            self._name_set = set(self.names)
        return self._name_set


def _list_entry(path):
    """List one sys.path entry; every failure becomes ``listing.error``, never an exception."""
    import stat

    listing = _Listing()
    try:
        st = os.stat(path)
    except ValueError as exc:  # an embedded NUL byte: no such path can exist
        listing.error = "ValueError: %s" % exc
        return listing
    except OSError as exc:
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc.strerror or str(exc)))
        if isinstance(exc, PermissionError):
            # A parent directory is not traversable: the entry may well exist.
            listing.kind = "inaccessible"
        elif getattr(exc, "errno", None) == 40 or os.path.islink(path):
            listing.kind = "missing"
            listing.error = "dangling symlink or symlink loop: " + listing.error
        return listing
    try:
        if stat.S_ISDIR(st.st_mode):
            listing.kind = "dir"
            count = 0
            with os.scandir(path) as it:
                for entry in it:
                    count += 1
                    if count > MAX_DIR_ENTRIES:
                        listing.truncated = True
                        break
                    name = entry.name
                    listing.names.append(name)
                    try:
                        if entry.is_dir():
                            listing.dirs.add(name)
                    except OSError:
                        pass
        elif stat.S_ISREG(st.st_mode):
            listing.kind = "file"
            listing.names = _zip_top_level(path, listing)
        else:
            listing.kind = "special"
            listing.error = "neither a directory nor a regular file"
    except OSError as exc:
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc.strerror or str(exc)))
    return listing


def _zip_top_level(path, listing):
    """Top-level names in a zip on sys.path, without importing zipfile."""
    names = set()
    try:
        if _read_bytes(path, 4) != b"PK\x03\x04":
            listing.kind = "file-not-zip"
            return []
        listing.kind = "zip"
        # zipimport is always available and already parses the directory.
        import zipimport

        importer = zipimport.zipimporter(path)
        listing.importer = importer
        files = getattr(importer, "_files", None) or {}
        for name in files:
            name = name.replace("\\", "/")
            head, sep, _ = name.partition("/")
            names.add(head)
            if sep:
                listing.dirs.add(head)
    except Exception as exc:  # a corrupt zip must not stop the report
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc))
    return sorted(names)


def _module_name(name, is_dir, ext_suffixes):
    """Module name provided by a directory entry, and its kind, or None."""
    if is_dir:
        if name.isidentifier() and name != "__pycache__":
            return name, "package"
        return None
    for suffix in ext_suffixes:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return (stem, "extension") if stem.isidentifier() else None
    if name.endswith(".py"):
        stem = name[:-3]
        return (stem, "module") if stem.isidentifier() else None
    if name.endswith(".pyc"):
        stem = name[:-4]
        return (stem, "bytecode") if stem.isidentifier() else None
    return None


# --------------------------------------------------------------------------
# the collector
