"""``sync [--once]``: send sealed records to the server.

``--once``: send everything now (ignoring backoff), then exit 0 when nothing is left to send,
1 when some remain (server unreachable, refused, an error, or records the server rejected
that wait for ``requeue``; the reason is on stderr).
Without ``--once``: run the sync worker in the foreground until Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

from app.commands.context import open_home, print_json
from app.errors import BadInput
from app.store.reconcile import reconcile_quietly
from app.store.timeutil import iso
from app.sync.engine import DEFAULT_TIMEOUT
from app.sync.station import NotProvisioned, StationSync
from app.sync.worker import SyncState


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="send sealed records to the server")
    p.add_argument("--once", action="store_true", help="send what is due, then exit (0 = all sent)")
    p.add_argument("--json", action="store_true", help="--once: one JSON document on stdout")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT[1], help="read timeout (s)")
    p.add_argument("--interval", type=float, default=30.0, help="worker: seconds between runs")
    p.set_defaults(func=run)


def _sync(store: Any, args: argparse.Namespace) -> StationSync:
    try:
        return StationSync(store, timeout=(min(5.0, args.timeout), args.timeout))
    except NotProvisioned as exc:
        raise BadInput("station", str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise BadInput("timeout", "must be positive")
    if args.interval <= 0:
        raise BadInput("interval", "must be positive")
    with open_home(args) as store:
        sync = _sync(store, args)
        # The headless worker: packets a killed seal left in the mirror without a commit go
        # to unconfirmed/ (app/store/reconcile.py) before anything is sent.
        rec = reconcile_quietly(store, "sync")
        if rec is not None and rec.moved and rec.warning:
            print(f"warning: mirror: {rec.warning}", file=sys.stderr)
        if args.once:
            return _once(sync, args)
        return _forever(sync, args)


def _once(sync: StationSync, args: argparse.Namespace) -> int:
    result = sync.once()
    if args.json:
        print_json(
            {
                "uploaded": result.uploaded,
                "rejected": result.rejected,
                "remaining": result.remaining,
                "rejected_waiting": result.rejected_waiting,
                "error": result.error,
            }
        )
    else:
        print(
            f"uploaded {result.uploaded}, rejected {result.rejected}, remaining {result.remaining}"
        )
    if result.remaining and result.error:
        print(f"ektp-station: sync: {result.error}", file=sys.stderr)
    if result.rejected_waiting:
        print(
            f"ektp-station: sync: {result.rejected_waiting} record(s) rejected by the server "
            "are waiting: see `status`, then `requeue UUID...` or `requeue --all`",
            file=sys.stderr,
        )
    return 0 if result.remaining == 0 else 1


def _forever(sync: StationSync, args: argparse.Namespace) -> int:
    done = threading.Event()

    def on_state(state: SyncState) -> None:
        since = iso_ts(state.since)
        extra = f": {state.error}" if state.error else ""
        left = "" if state.records_left is None else f" ({state.records_left} left)"
        print(f"{since} {state.state}{left}{extra}", flush=True)

    worker = sync.worker(on_state=on_state, interval_s=args.interval)
    previous = {s: signal.signal(s, lambda *_: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    worker.start()
    try:
        while not done.wait(0.5):
            pass
    finally:
        worker.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    return 0


def iso_ts(ts: float) -> str:
    from datetime import UTC, datetime

    return iso(datetime.fromtimestamp(ts or time.time(), UTC))
