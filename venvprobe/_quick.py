"""The CLI's fast paths: ``--version``, ``--help`` and ``report --python X [--format F]``.

For these, start-up is most of the cost: ``argparse``, ``json``, ``subprocess``
and ``typing`` each pull in ``re`` and ``enum`` (4-7 ms each) against ~8 ms for
a bare interpreter (benchmarks/bench_report.py).  So this module imports only
what a bare interpreter has already loaded (plus ``select`` and ``zlib``,
which are C), and anything it does not recognise exactly goes to the full
argparse CLI.  tests/test_cli_fast.py checks that both give the same output.

``report --python X`` runs the collector *and* the analysis inside X and X
prints the final JSON: with ``-f json`` this process only forwards bytes; for
text, Markdown and HTML it decodes the JSON with the C scanner (no ``json``,
no ``re``) and renders it as the full CLI would.
"""

import os
import sys

from venvprobe import VenvprobeError  # the package is loaded already: no extra module on the fast path
from venvprobe import ship  # what X runs: imports nothing a bare interpreter lacks

# The top-level --help, laid out as argparse lays it out (tests compare the two
# for many widths and every supported Python).  Order and texts come from
# _cli.COMMANDS, passed in by the caller.
_USAGE = "usage: venvprobe [-h] [--version] COMMAND ..."
DESCRIPTION = "Which Python, venv and sys.path does this (WSGI) interpreter really use?"
EPILOG = ("Exit codes: 0 clean, 1 problems found, 2 could not check. Text output fits $COLUMNS or the "
          "terminal; piped or written to a file, lines are not wrapped.")

REPORT_FORMATS_FAST = ("text", "markdown", "json", "html")  # == render.FORMATS (a test keeps them equal)
FAIL_ON = ("error", "warning", "info", "never")
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}  # == vocab.SEVERITY_RANK (a test keeps them equal)


# The collector caps its report at 64 MiB; anything much larger is not one.
MAX_OUTPUT_BYTES = 128 << 20
MAX_STDERR_BYTES = 1 << 20


class CollectError(VenvprobeError):
    """The target interpreter could not produce a report."""


# --------------------------------------------------------------------------
# --help


def _terminal_width():
    """shutil.get_terminal_size().columns, without importing shutil (it imports fnmatch, re, bz2...)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _chunks(text):
    """textwrap's chunks for plain prose: (piece, starts a word), words split after a hyphen between letters."""
    out = []
    for word in text.split():
        start = 0
        for i in range(2, len(word) - 2):
            if word[i] == "-" and word[i - 1].isalpha() and word[i - 2].isalpha() and word[i + 1].isalpha() \
                    and (word[i + 2].isalpha() or word[i + 2] == "-" and i + 3 < len(word) and word[i + 3].isalpha()):
                out.append((word[start:i + 1], start == 0))
                start = i + 1
        out.append((word[start:], start == 0))
    return out


def _wrap(text, width):
    """textwrap.wrap(text, width) for prose with no word longer than *width*; None otherwise."""
    lines, line, length = [], [], 0
    for piece, new_word in _chunks(text):
        if len(piece) > width:
            return None
        sep = 1 if (line and new_word) else 0
        if line and length + sep + len(piece) > width:
            lines.append("".join(line))
            line, length = [piece], len(piece)
            continue
        if sep:
            line.append(" ")
        line.append(piece)
        length += sep + len(piece)
    if line:
        lines.append("".join(line))
    return lines


def top_help(commands):
    """argparse's top-level help for *commands* [(name, help)], or None when this layout may differ."""
    if sys.version_info < (3, 9) or sys.version_info >= (3, 14):  # 3.14 colours help; 3.8 untested
        return None
    width = _terminal_width() - 2
    if width < len(_USAGE) + 2 or width < 60:
        return None  # argparse would wrap the usage line
    max_help_position = min(24, max(width - 20, 4))
    # argparse < 3.13 measures sub-commands at their parent's indent, 3.13 at their own.
    sub_indent = 4 if sys.version_info >= (3, 13) else 2
    invocations = [("-h, --help", 2), ("--version", 2), ("COMMAND", 2)] + [(name, sub_indent) for name, _ in commands]
    help_position = min(max(len(inv) + indent for inv, indent in invocations) + 2, max_help_position)
    help_width = max(width - help_position, 11)
    out = [_USAGE, ""]
    desc = _wrap(DESCRIPTION, width)
    epilog = _wrap(EPILOG, width)
    if desc is None or epilog is None:
        return None
    out += desc + ["", "positional arguments:", "  COMMAND"]

    def action(name, text, indent):
        lines = _wrap(text, help_width)
        if lines is None:
            return None
        action_width = help_position - indent - 2
        if len(name) <= action_width:
            first = " " * indent + name.ljust(action_width) + "  " + lines[0]
            rest = lines[1:]
        else:
            first = " " * indent + name
            rest = lines
        return [first] + [" " * help_position + line for line in rest]

    rows = [action(name, text, 4) for name, text in commands]
    rows.append([""])
    rows.append(["options:" if sys.version_info >= (3, 10) else "optional arguments:"])
    rows.append(action("-h, --help", "show this help message and exit", 2))
    rows.append(action("--version", "show program's version number and exit", 2))
    if any(r is None for r in rows):
        return None
    for r in rows:
        out += r
    out += [""] + epilog
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# report --python X --format json


def find_interpreter(python):
    """The executable for *python* (an interpreter, a bare name on PATH or a venv root); CollectError if none."""
    exe = os.path.expanduser(python)
    if os.sep not in exe:
        import shutil

        exe = shutil.which(exe) or exe  # a bare name such as python3.9, looked up on PATH
    if not os.path.exists(exe):
        raise CollectError("no interpreter at %r" % (python,))
    if os.path.isdir(exe):
        for candidate in ("bin/python", "bin/python3", "Scripts/python.exe"):
            if os.path.exists(os.path.join(exe, candidate)):
                exe = os.path.join(exe, candidate)
                break
        else:
            raise CollectError("%r is a directory with no bin/python in it" % (python,))
    if not os.access(exe, os.X_OK):
        raise CollectError("%r is not executable" % (exe,))
    return exe


def exit_error(exe, returncode, stderr):
    """The one-line CollectError for a target that exited with *returncode*."""
    # The last line of a traceback names the cause.
    lines = [l.strip() for l in stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    why = lines[-1] if lines else "no error output"
    return CollectError("%s exited with status %d: %s" % (exe, returncode, why[:300]))


def run_target(exe, args, payload, timeout):
    """Run *exe* *args* with *payload* on stdin: (returncode, stdout, stderr); CollectError on timeout.

    os.posix_spawn and select instead of subprocess, whose import (locale, re,
    signal, threading, selectors) costs more than a bare interpreter start.
    """
    import select
    import time

    deadline = time.monotonic() + timeout
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawn(exe, [exe] + list(args), os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, in_r, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)])
    except OSError as exc:
        for fd in (in_r, in_w, out_r, out_w, err_r, err_w):
            os.close(fd)
        raise CollectError("cannot run %s: %s" % (exe, exc.strerror or exc)) from None
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    os.set_blocking(in_w, False)
    chunks = {out_r: [], err_r: []}
    sizes = {out_r: 0, err_r: 0}
    readers = [out_r, err_r]
    writers = [in_w]
    view = memoryview(payload)
    try:
        while readers or writers:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pid = None
                raise CollectError("%s did not finish collecting within %g s" % (exe, timeout))
            ready_r, ready_w, _ = select.select(readers, writers, [], left)
            for fd in ready_w:
                try:
                    view = view[os.write(fd, view[:1 << 16]):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:  # the target exited without reading it all
                    view = view[:0]
                if not view:
                    os.close(fd)
                    writers.remove(fd)
            for fd in ready_r:
                data = os.read(fd, 1 << 20)
                if not data:
                    readers.remove(fd)
                    continue
                sizes[fd] += len(data)
                if fd == err_r and sizes[fd] > MAX_STDERR_BYTES:
                    continue  # the head says why it failed; the rest is dropped, not stored
                if fd == out_r and sizes[fd] > MAX_OUTPUT_BYTES:
                    # Every read bounded: a target printing without end is stopped, not buffered.
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    pid = None
                    raise CollectError("%s printed more than %d MiB: not a report" % (exe, MAX_OUTPUT_BYTES >> 20))
                chunks[fd].append(data)
        _, status = os.waitpid(pid, 0)
        pid = None
    finally:
        for fd in readers + writers + [out_r, err_r]:
            try:
                os.close(fd)
            except OSError:
                pass
        if pid is not None:  # an exception (KeyboardInterrupt) left the child running
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
    code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (
        -(status & 0x7F) if status & 0x7F else status >> 8)
    return code, b"".join(chunks[out_r]), b"".join(chunks[err_r])


def report_json(python, timeout=60.0, fail_on="never"):
    """(exit code for --fail-on, JSON bytes of the analysed report of *python*), or None to use the full path."""
    exe = find_interpreter(python)
    return run_shipped(exe, ship.payload(analyse=True, fail_on=fail_on), timeout)


def run_shipped(exe, payload, timeout):
    """Run the shipped collector in *exe*: (exit code for --fail-on, report JSON bytes), or None for the full path."""
    code, out, err = run_target(exe, ["-c", ship.BOOTSTRAP], payload, timeout)
    if code != 0:
        raise exit_error(exe, code, err)
    if out.startswith(b"venvprobe-fallback\n"):
        return None
    head, sep, body = out.partition(b"\n")
    if not sep or head not in (b"0", b"1") or not body.startswith(b"{"):
        raise CollectError("%s printed something that is not a report (%r)" % (exe, out[:60]))
    return int(head), body


def _report_args(argv):
    """{python, format, timeout, fail_on} for exactly `report --python X [-f F] [--timeout S] [--fail-on L]`, else None."""
    opts = {"python": None, "format": "text", "timeout": "60", "fail-on": "never"}
    short = {"-f": "format"}
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            step = 1
        elif arg in short or arg[2:] in opts and arg.startswith("--"):
            name = short.get(arg) or arg[2:]
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
            step = 2
        elif arg.startswith("-f") and len(arg) > 2 and not arg.startswith("--"):
            name, value, step = "format", arg[2:], 1
        else:
            return None
        if name not in opts or not value or value.startswith("-"):
            return None
        opts[name] = value
        i += step
    if opts["python"] is None or opts["format"] not in REPORT_FORMATS_FAST or opts["fail-on"] not in FAIL_ON:
        return None
    try:
        timeout = float(opts["timeout"])
    except ValueError:
        return None
    if not timeout > 0 or timeout != timeout or timeout == float("inf"):
        return None
    return {"python": opts["python"], "format": opts["format"], "timeout": timeout, "fail_on": opts["fail-on"]}


def _loads(text):
    """json.loads without importing json (whose decoder imports re): CPython's C scanner, else json."""
    try:
        from _json import make_scanner
    except ImportError:  # not CPython
        import json

        return json.loads(text)

    class _Context(object):
        strict = True
        object_hook = object_pairs_hook = None
        parse_float, parse_int = float, int
        parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
        memo = {}

    value, end = make_scanner(_Context())(text, 0)
    if text[end:].strip():
        raise ValueError("extra data after the report at %d" % end)
    return value


def run(argv, commands, version):
    """Exit code for *argv*, or None when the full CLI must handle it."""
    if argv == ["--version"]:
        sys.stdout.write("venvprobe %s\n" % version)
        raise SystemExit(0)  # as argparse's version action does
    if argv in (["-h"], ["--help"], []):
        text = top_help(commands)
        if text is None:
            return None
        sys.stdout.write(text)
        if argv:
            raise SystemExit(0)
        return 2  # no command: help and "could not check", as the full CLI
    if not argv or argv[0] != "report" or not hasattr(os, "posix_spawn"):
        return None
    opts = _report_args(argv)
    if opts is None:
        return None
    try:
        result = report_json(opts["python"], opts["timeout"], opts["fail_on"])
    except CollectError as exc:
        from venvprobe.render.safe import one_line

        # The message may quote a hostile file name or the target's stderr.
        sys.stderr.write("venvprobe report: %s\n" % one_line(exc))
        return 2
    if result is None:
        return None
    code, body = result
    raw = getattr(sys.stdout, "buffer", None)
    if opts["format"] == "json" and raw is not None and body.isascii():
        # The collector's writer escapes everything beyond ASCII: the bytes are the output.
        sys.stdout.flush()
        raw.write(body if body.endswith(b"\n") else body + b"\n")
        raw.flush()
        return code
    text = body.decode("utf-8", "surrogatepass")
    if opts["format"] != "json":
        # X analysed the report; rendering is the CLI's (terminal width, its Python).
        from venvprobe.render import render
        from venvprobe.render.text import terminal_width

        try:
            data = _loads(text)
        except (ValueError, RecursionError, StopIteration) as exc:  # the C scanner raises StopIteration
            sys.stderr.write("venvprobe report: %s printed something that is not a report (%s: %s)\n"
                             % (opts["python"], type(exc).__name__, str(exc)[:200]))
            return 2
        from venvprobe.report_shape import ShapeError, check_shape

        try:
            check_shape(data)
        except ShapeError as exc:
            from venvprobe.render.safe import one_line

            sys.stderr.write("venvprobe report: %s printed a malformed report: %s\n" % (opts["python"], one_line(exc)))
            return 2
        text = render(data, opts["format"], None, width=terminal_width())
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return code
