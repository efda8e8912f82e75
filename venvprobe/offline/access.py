"""Can user NAME traverse and read a path?  Computed, then confirmed as that user.

The checks run as root on a server, and root bypasses file permissions, so
``os.access`` answers the wrong question.  :func:`check_access` computes the
answer from stat mode bits, owner, group and the user's groups, for every
directory on the way (including the directories symlinks lead through), and
:func:`confirm_as_user` optionally asks the kernel by running ``test -r`` /
``test -x`` as that user (``setpriv``, else ``runuser``), which also honours
ACLs and mount options that mode bits cannot show.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from venvprobe.errors import VenvprobeError


@dataclass(frozen=True)
class User:
    """A user account as the kernel sees it when checking permissions."""

    name: str
    uid: int
    gid: int
    groups: FrozenSet[int]
    home: str = "/"

    @property
    def is_root(self) -> bool:
        return self.uid == 0


class UnknownUser(VenvprobeError, LookupError):
    """No such user on this machine."""


def lookup_user(name: str) -> User:
    """The account *name* (or a numeric uid) with its supplementary groups."""
    try:
        pw = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, ValueError):
        raise UnknownUser(f"no user {name!r} on this machine") from None
    try:
        groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    except OSError:
        groups = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if pw.pw_name in g.gr_mem}
    return User(pw.pw_name, pw.pw_uid, pw.pw_gid, frozenset(groups), pw.pw_dir or "/")


def current_user() -> User:
    """The effective user running venvprobe."""
    try:
        return lookup_user(str(os.geteuid()))
    except UnknownUser:
        uid = os.geteuid()
        return User(str(uid), uid, os.getegid(), frozenset(os.getgroups()) | {os.getegid()})


def permitted(st: os.stat_result, user: User, want: str) -> bool:
    """Mode-bit check of *want* ("r", "w" or "x") on *st* for *user*.

    Root may read and write anything and search any directory, but may only
    execute a file with at least one x bit: the kernel's rules, not os.access.
    """
    bit = {"r": 4, "w": 2, "x": 1}[want]
    mode = st.st_mode
    if user.is_root:
        if want == "x" and not stat.S_ISDIR(mode):
            return bool(mode & 0o111)
        return True
    if st.st_uid == user.uid:
        return bool(mode & (bit << 6))
    if st.st_gid in user.groups:
        return bool(mode & (bit << 3))
    return bool(mode & bit)


@dataclass
class AccessResult:
    """Whether *user* can reach and use *path*, and where it is blocked."""

    path: str
    ok: bool
    exists: bool = True
    blocked_at: Optional[str] = None
    reason: str = ""
    checked: List[str] = field(default_factory=list)
    confirmed: Optional[bool] = None  # result of running as the user (None: not run)

    def as_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "exists": self.exists, "blocked_at": self.blocked_at,
                "reason": self.reason, "confirmed": self.confirmed}


def _describe(path: str, st: os.stat_result) -> str:
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"{path} ({stat.filemode(st.st_mode)} {owner}:{group})"


def traversal_dirs(path: str) -> List[str]:
    """Every directory that must be searchable (x) to reach *path*.

    A symlink met on the way is followed, and the directories of its target
    are needed too, so both the written and the resolved routes are listed.
    """
    path = os.path.abspath(path)
    needed: List[str] = []
    seen = set()

    def add(d: str) -> None:
        if d not in seen:
            seen.add(d)
            needed.append(d)

    parts = [p for p in path.split("/") if p]
    current = "/"
    add("/")
    for depth, part in enumerate(parts):
        current = os.path.join(current, part)
        last = depth == len(parts) - 1
        if os.path.islink(current):
            real = os.path.realpath(current)
            chain = "/"
            for rp in [p for p in real.split("/") if p][:-1]:
                chain = os.path.join(chain, rp)
                add(chain)
            if not last:
                add(real)
            current = real  # later components are looked up under the target
        elif not last:
            add(current)
    return needed


def _stat_or_block(result: AccessResult, path: str) -> Optional[os.stat_result]:
    """stat *path*; when that fails, record in *result* where and why access is blocked."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        result.ok, result.exists, result.blocked_at = False, False, path
        result.reason = f"{path} does not exist"
    except OSError as exc:
        result.ok, result.blocked_at = False, path
        result.reason = f"cannot stat {path}: {exc.strerror or exc}"
    except ValueError:  # a NUL byte: no such path can exist
        result.ok, result.exists, result.blocked_at = False, False, path
        result.reason = f"{path!r} contains a NUL byte"
    return None


def check_access(path: str, user: User, want: str = "r") -> AccessResult:
    """Can *user* reach *path* and use it as *want* ("r", "x", "rx" or "" for reach only)?

    For a directory "r" means list it; "x" search it.  The first directory
    that blocks, or the final permission that is missing, is reported.
    """
    path = os.path.abspath(path)
    result = AccessResult(path=path, ok=True)
    for d in traversal_dirs(path):
        result.checked.append(d)
        st = _stat_or_block(result, d)
        if st is None:
            return result
        if not stat.S_ISDIR(st.st_mode):
            result.ok, result.blocked_at = False, d
            result.reason = f"{d} is not a directory"
            return result
        if not permitted(st, user, "x"):
            result.ok, result.blocked_at = False, d
            result.reason = f"{user.name} cannot traverse {_describe(d, st)}"
            return result
    st = _stat_or_block(result, path)
    if st is None:
        return result
    for w in want:
        if not permitted(st, user, w):
            verb = {"r": "read", "x": "traverse" if stat.S_ISDIR(st.st_mode) else "execute", "w": "write"}[w]
            result.ok, result.blocked_at = False, path
            result.reason = f"{user.name} cannot {verb} {_describe(path, st)}"
            return result
    return result


# ``test -r`` / ``test -x`` use access(2) with the ids setpriv gave us, so the
# kernel (ACLs, read-only mounts, LSMs) has the last word.
_CONFIRM_SCRIPT = 'for a do m=${a%%:*}; p=${a#*:}; if test "-$m" "$p"; then echo 1; else echo 0; fi; done'


def run_as_argv(user: User) -> Optional[List[str]]:
    """argv prefix that runs a command as *user* (None: we cannot switch users)."""
    me = os.geteuid()
    if me == user.uid:
        return []
    if me != 0:
        return None
    setpriv = shutil.which("setpriv") or ("/usr/bin/setpriv" if os.path.exists("/usr/bin/setpriv") else None)
    if setpriv:
        return [setpriv, f"--reuid={user.uid}", f"--regid={user.gid}",
                "--groups=" + ",".join(str(g) for g in sorted(user.groups)) if user.groups else "--clear-groups", "--"]
    runuser = shutil.which("runuser") or ("/usr/sbin/runuser" if os.path.exists("/usr/sbin/runuser") else None)
    if runuser:
        return [runuser, "-u", user.name, "--"]
    return None


def confirm_as_user(checks: Sequence[Tuple[str, str]], user: User, timeout: float = 10.0) -> Optional[Dict[Tuple[str, str], bool]]:
    """Ask the kernel, as *user*, whether each (path, "r"|"x") is permitted.

    Returns None when we cannot run commands as *user* (not root, no
    setpriv/runuser) or the helper fails.
    """
    prefix = run_as_argv(user)
    if prefix is None or not checks:
        return None
    args = [f"{mode}:{path}" for path, mode in checks]
    try:
        proc = subprocess.run(prefix + ["/bin/sh", "-c", _CONFIRM_SCRIPT, "sh"] + args, capture_output=True,
                              text=True, timeout=timeout, cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != len(checks):
        return None
    return {check: line == "1" for check, line in zip(checks, lines)}


__all__ = ["AccessResult", "UnknownUser", "User", "check_access", "confirm_as_user", "current_user", "lookup_user",
           "permitted", "run_as_argv", "traversal_dirs"]
