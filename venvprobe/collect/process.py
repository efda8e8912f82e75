"""The ``process`` section: pid, user, cwd, command line (masked), parents; from /proc, or psutil in-process.

psutil is venvprobe's own dependency in-process; in a foreign interpreter
it would be one of the inspected packages, so it is never imported there.
"""

import os

from venvprobe.collect.common import _error, _int, _safe, _text

_PROCESS_START = None


def collect(ctx):
    if ctx.options.get("use_psutil", True) and not ctx.foreign:
        try:
            import psutil  # noqa: F401  (venvprobe's own dependency in-process)
        except Exception as exc:  # built for another Python, refused by a sub-interpreter...
            psutil, failure = None, exc
        if psutil is not None:
            try:
                return _process_psutil(ctx, psutil)
            except Exception as exc:
                failure = exc
        # The report goes on from /proc, and says why.
        info = _process_proc(ctx)
        info["psutil_error"] = _error(failure)["error"]
        return info
    return _process_proc(ctx)


def _process_psutil(ctx, psutil):
    proc = psutil.Process()
    with proc.oneshot():
        info = {
            "source": "psutil",
            "pid": proc.pid,
            "ppid": proc.ppid(),
            "name": proc.name(),
            "user": _safe(proc.username),
            "uids": list(proc.uids()),
            "gids": list(proc.gids()),
            "create_time": proc.create_time(),
            "threads": proc.num_threads(),
            "rss": proc.memory_info().rss,
            "cwd": _text(_safe(proc.cwd) or ""),
            "cmdline": ctx.masker.argv(_safe(proc.cmdline) or []),
        }
    chain = []
    parent = _safe(proc.parent)
    while parent is not None and len(chain) < 12:
        chain.append({"pid": parent.pid, "name": _safe(parent.name)})
        parent = _safe(parent.parent)
    info["parents"] = chain
    return info


def _process_proc(ctx):
    info = {"source": "/proc", "pid": os.getpid(), "ppid": os.getppid(), "uids": None}
    try:
        info["uids"] = [os.getuid(), os.geteuid()]
        info["gids"] = [os.getgid(), os.getegid()]
        import pwd

        info["user"] = pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, ImportError, OSError):
        info.setdefault("user", None)
    status = _proc_status(os.getpid())
    info["name"] = status.get("Name")
    info["threads"] = _int(status.get("Threads"))
    rss = status.get("VmRSS", "")
    info["rss"] = _int(rss.split()[0]) * 1024 if rss else None
    info["create_time"] = process_start()
    try:
        info["cwd"] = _text(os.getcwd())
    except OSError:
        info["cwd"] = None
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
        info["cmdline"] = ctx.masker.argv([a for a in args if a])
    except OSError:
        info["cmdline"] = None
    chain = []
    pid = os.getppid()
    while pid and pid > 0 and len(chain) < 12:
        st = _proc_status(pid)
        if not st:
            break
        chain.append({"pid": pid, "name": st.get("Name")})
        pid = _int(st.get("PPid"))
    info["parents"] = chain
    return info

# -- environment -------------------------------------------------------------


def _proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid, "rb") as handle:
            for line in handle.read().decode("utf-8", "replace").splitlines():
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except OSError:
        pass
    return out


def process_start():
    """When this process started (seconds since the epoch, from /proc), or None."""
    global _PROCESS_START
    if _PROCESS_START is not None:
        return _PROCESS_START
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])
        hz = os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        import time

        _PROCESS_START = time.time() - uptime + ticks / float(hz)
    except (OSError, ValueError, IndexError):
        _PROCESS_START = None
    return _PROCESS_START

# -- identity ----------------------------------------------------------------
