"""``venvprobe serve``: run the probe locally for a quick look (127.0.0.1 by default)."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from venvprobe.commands import UsageError


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    p = sub.add_parser("serve",
                       description="Serve the probe (report, sub-resources, /metrics) for this interpreter. "
                       "A request needs the probe's token: by default the one it keeps for your user in "
                       "~/.config/venvprobe/probe.token, which `venvprobe fetch http://127.0.0.1:PORT/` "
                       "finds on its own; or --token-file / VENVPROBE_TOKEN; or --allow trusts addresses "
                       "without a token (loopback too only if you list it).")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)")
    p.add_argument("--token-file", help="require 'Authorization: Bearer <token>' with the token in this file")
    p.add_argument("--allow", action="append", metavar="CIDR", help="allow clients from this network (repeatable)")
    p.add_argument("--ttl", type=float, default=None, help="seconds a report is cached (default 10)")
    return p


def _listen(host: str, port: int) -> int:
    """A listening socket's fd, or a one-line UsageError (exit 2).

    Bound here rather than by werkzeug, which prints its own advice and
    exits 1 when the port is taken.
    """
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except (OSError, OverflowError) as exc:
        sock.close()
        why = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {why}") from None
    sock.set_inheritable(True)
    return sock.detach()


def run(args: argparse.Namespace) -> int:
    from venvprobe.probe.config import ProbeConfig, parse_networks

    try:
        from werkzeug.serving import make_server

        from venvprobe.probe.flask_app import create_app
    except Exception as exc:  # Flask missing, too old, or built for another Python
        from venvprobe.probe.guard import diagnose

        if diagnose(exc) is not None:
            raise  # a shadowed standard-library module: the CLI names the file
        raise UsageError(f"serve runs on Flask, which cannot be imported here ({type(exc).__name__}: {exc}); "
                         "the probe itself needs no Flask: mount venvprobe.wsgi:application or use "
                         "`venvprobe probe-script`") from None

    if args.allow:
        _, error = parse_networks(args.allow)
        if error:
            raise UsageError(error)
    try:
        ipaddress.ip_address(args.host)
    except ValueError:
        raise UsageError(f"--host must be an IP address, not {args.host!r}") from None
    import os

    # Listen first: a taken port is the one line printed, before any notice.
    fd = _listen(args.host, args.port)
    try:
        app = _app(args, create_app, ProbeConfig)
    except BaseException:
        os.close(fd)
        raise
    server = make_server(args.host, args.port, app, threaded=True, fd=fd)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"venvprobe serving this interpreter at http://{host}:{server.socket.getsockname()[1]}/ (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _app(args: argparse.Namespace, create_app, ProbeConfig):
    """The probe app for these options (creating the per-user token when nothing else guards it)."""
    import os

    if not (args.token_file or args.allow or os.environ.get("VENVPROBE_TOKEN")
            or os.environ.get("VENVPROBE_TOKEN_FILE") or os.environ.get("VENVPROBE_ALLOW")):
        from venvprobe.probe.config import find_default_token

        token, path, error = find_default_token(create=True)
        if not token:
            raise UsageError(f"{error}; or give --token-file or --allow")
        print(f"venvprobe serve: requests need the token in {path} "
              "(`venvprobe fetch` run as this user sends it)", file=sys.stderr)
    config = ProbeConfig(token_file=args.token_file, allow=args.allow, ttl=args.ttl)
    return create_app(config, mount="serve")
