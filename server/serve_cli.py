"""``ektp-server serve``: its options and their checks, and the server's processes (one
uvicorn, or N forked ones on one socket) with the relay forwarder and the processor beside
them. The URL a ``serve --db`` gave is remembered in the home's server.json."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

from app import packet as pkt
from server.core import InputError, ServerCore

CONFIG_FILE = "server.json"
COMMANDS = ("serve",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("serve", help="serve the HTTP API (the default)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--db", dest="serve_db", help="database URL")
    s.add_argument("--blobs", dest="serve_blobs", help="packet bytes in this S3 bucket")
    s.add_argument("--upstream", help="act as a relay forwarding to this server URL")
    s.add_argument("--upstream-timeout", type=float, default=30.0, help="relay read timeout (s)")
    s.add_argument(
        "--upstream-backoff-cap", type=float, default=60.0, help="relay retry backoff cap (s)"
    )
    s.add_argument(
        "--upstream-pull-interval",
        type=float,
        default=180.0,
        help="relay: seconds between pulls of its stations' central state (default 180)",
    )
    s.add_argument(
        "--relay-retention-days",
        type=float,
        default=30.0,
        help="relay: days a forwarded packet's payload is kept once the centre has "
        "received it (default 30)",
    )
    s.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    s.add_argument("--max-inflight", type=int, default=64, help="requests in progress per process")
    s.add_argument("--max-body", type=int, default=pkt.MAX_PACKET_BYTES, help="bytes")
    s.add_argument(
        "--process", action="store_true", help="also run a back-office processor (one machine)"
    )
    s.add_argument(
        "--body-timeout",
        type=float,
        default=20.0,
        help="a request body that pauses this long (s) is refused with 408 (default 20)",
    )
    s.add_argument(
        "--body-min-rate",
        type=float,
        default=4096.0,
        help="bytes/s a body must average beyond --body-timeout (default 4096)",
    )
    s.add_argument(
        "--uploads-per-station",
        type=int,
        default=4,
        help="packet bodies one station may send at once (default 4)",
    )
    s.add_argument(
        "--overload-retry-after",
        type=int,
        default=10,
        metavar="S",
        help="a request refused by --max-inflight is told Retry-After 1..S s, drawn anew for "
        "each (default 10)",
    )
    s.add_argument(
        "--bodies-per-address",
        type=int,
        default=8,
        help="other request bodies (enroll, vouch) one client address may send at once",
    )


def config(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CONFIG_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def remember_db(home: Path, url: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / CONFIG_FILE
    cfg = config(home)
    cfg["db"] = url
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f)


def blobs_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "serve_blobs", None) or args.blobs


def validate(args: argparse.Namespace) -> None:
    """``serve``'s checks that need no database (bad input writes nothing)."""
    if args.cmd != "serve":
        return
    if not (0 < args.port < 65536):
        raise InputError(f"--port: {args.port} is not a TCP port")
    if args.overload_retry_after < 1:
        raise InputError("--overload-retry-after: must be at least 1")
    if args.max_inflight < 1:
        # 0 would answer every request but /health with 503, for ever.
        raise InputError(f"--max-inflight: must be at least 1, got {args.max_inflight}")
    for name in ("body_timeout", "body_min_rate"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag}: must be a positive number, got {value:g}")
    for name in ("uploads_per_station", "bodies_per_address"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag}: must be at least 1, got {getattr(args, name)}")
    if args.max_body <= 0:
        raise InputError(f"--max-body: must be a positive number of bytes, got {args.max_body}")
    if not (math.isfinite(args.upstream_pull_interval) and args.upstream_pull_interval > 0):
        raise InputError(
            f"--upstream-pull-interval: must be a positive number of seconds, "
            f"got {args.upstream_pull_interval:g}"
        )
    from server.relay_fates import check_retention

    check_retention(args.relay_retention_days)
    _check_listen(args.host, args.port)
    upstream = args.upstream
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise InputError(f"--upstream: expected an http(s) URL, got {upstream!r}")
    if args.process and upstream:
        raise InputError("--process: a relay forwards its packets upstream, it does not process")


def _check_listen(host: str, port: int) -> None:
    """Bind the address once and let it go: a busy port becomes one line naming it, before
    anything is written (uvicorn would log its own error and exit 3)."""
    import errno
    import socket

    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host: cannot resolve {host!r}") from exc
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"--port: port {port} on {host} is already in use (another server?): "
                    "stop it or choose another --port"
                ) from exc
            if exc.errno == errno.EACCES:
                raise InputError(f"--port: port {port} needs administrator rights") from exc
            raise InputError(f"--host: cannot listen on {host}:{port} ({exc.strerror})") from exc


def _child(sock: Any, home: Path, url: str | None, args: argparse.Namespace, relay: bool) -> None:
    import signal

    import uvicorn

    from server.api import create_app

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    core = ServerCore(
        home, url, max_body=args.max_body, sealing_keys=args.sealing_key, blobs=blobs_url(args)
    )
    app = create_app(
        core,
        max_inflight=args.max_inflight,
        relay_mode=relay,
        limits=_body_limits(args),
        retry_after_max_s=args.overload_retry_after,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


def _body_limits(args: argparse.Namespace) -> Any:
    from server.bodies import BodyLimits

    return BodyLimits(
        max_body=args.max_body,
        idle_timeout_s=args.body_timeout,
        min_rate=args.body_min_rate,
        uploads_per_station=args.uploads_per_station,
        bodies_per_address=args.bodies_per_address,
    )


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the parent dies (even by kill -9)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve_processes(
    args: argparse.Namespace, home: Path, url: str | None, relay: bool, forwarder: Any
) -> None:
    """N forked uvicorn processes accepting on one listening socket.

    The socket is made with an explicit IPPROTO_TCP: asyncio enables TCP_NODELAY on accepted
    connections only when the listener's proto says TCP (uvicorn's own --workers socket does
    not, and every reply then waits ~40 ms for a delayed ACK).
    """
    import multiprocessing
    import signal
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_child, args=(sock, home, url, args, relay), daemon=False)
        for _ in range(args.workers)
    ]
    for p in procs:
        p.start()
    if forwarder:
        forwarder.start()

    def _stop(_sig: int, _frame: Any) -> None:
        for p in procs:
            if p.is_alive() and p.pid:
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for p in procs:
        p.join()
    sock.close()


class _Background:
    """The relay forwarder and/or the processor, started and stopped together."""

    def __init__(self, *parts: Any) -> None:
        self.parts = [p for p in parts if p is not None]
        self.wake = getattr(self.parts[0], "wake", lambda: None)

    def start(self) -> None:
        for p in self.parts:
            p.start()

    def stop(self) -> None:
        for p in self.parts:
            p.stop()


def _with_processor(core: ServerCore, forwarder: Any) -> _Background:
    from server.processing.processor import Processor

    return _Background(forwarder, Processor(core.engine, core.sealing_keys, blobs=core.blobs))


def run(args: argparse.Namespace, home: Path, url: str | None) -> int:
    import uvicorn

    from server.api import create_app

    if not (0 < args.port < 65536):
        raise InputError(f"--port: {args.port} is not a TCP port")
    if args.workers < 1:
        raise InputError("--workers: must be at least 1")
    if getattr(args, "serve_db", None) and url:
        remember_db(home, url)
    core = ServerCore(
        home, url, max_body=args.max_body, sealing_keys=args.sealing_key, blobs=blobs_url(args)
    )
    forwarder: Any = None
    if args.upstream:
        from server.relay import RelayForwarder

        if not args.upstream.startswith(("http://", "https://")):
            raise InputError(f"--upstream: expected an http(s) URL, got {args.upstream!r}")
        if args.upstream_timeout <= 0 or args.upstream_backoff_cap <= 0:
            raise InputError("--upstream-timeout/--upstream-backoff-cap: must be positive")
        forwarder = RelayForwarder(
            core,
            args.upstream,
            timeout=(min(5.0, args.upstream_timeout), args.upstream_timeout),
            cap_s=args.upstream_backoff_cap,
            pull_interval_s=args.upstream_pull_interval,
            retention_days=args.relay_retention_days,
        )
    relay_mode = forwarder is not None or core.meta_get("upstream_url") is not None
    if relay_mode and core.blobs.external:
        raise InputError("--blobs: a relay keeps its packets in its own database")
    core.blobs.check()  # a wrong bucket, endpoint or credentials: said at once, in one line
    if args.process:
        if relay_mode:
            raise InputError("--process: this server is a relay; the central server processes")
        forwarder = _with_processor(core, forwarder)
    try:
        if args.workers == 1:
            app = create_app(
                core,
                max_inflight=args.max_inflight,
                retry_after_max_s=args.overload_retry_after,
                relay_mode=relay_mode,
                on_stored=forwarder.wake if forwarder else None,
                limits=_body_limits(args),
            )
            if forwarder:
                forwarder.start()
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
        else:
            core.engine.dispose()  # no pooled connection may cross the fork
            _serve_processes(args, home, url, relay_mode, forwarder)
    finally:
        if forwarder:
            forwarder.stop()
        core.close()
    return 0
