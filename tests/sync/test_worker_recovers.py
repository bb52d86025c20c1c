"""The sync worker outlives a store that is locked (or full) for longer than its busy timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from app.store.db import DB_NAME, open_store
from app.store.outbox import Outbox
from app.sync.station import StationSync
from app.sync.worker import ERROR, ONLINE, SyncState
from tests.support.server import ServerProcess
from tests.support.wait import wait_for
from tests.sync.helpers import provisioned_home, seal_n


def test_worker_survives_a_locked_store_then_sends(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    try:
        home = provisioned_home(tmp_path / "station", srv)
        # A short busy timeout stands for the 5 s one: the lock below outlasts it either way.
        with open_store(home, busy_timeout_ms=200) as store:
            states: list[SyncState] = []
            lock = threading.Lock()

            def on_state(s: SyncState) -> None:
                with lock:
                    states.append(s)

            def last_state() -> str | None:
                with lock:
                    return states[-1].state if states else None

            def seen(state: str) -> bool:
                with lock:
                    return any(s.state == state for s in states)

            worker = StationSync(store).worker(
                on_state=on_state, interval_s=3600, offline_cap_s=0.5, min_wait_s=0.1
            )
            worker.start()
            blocker = sqlite3.connect(home / DB_NAME, isolation_level=None, timeout=0)
            try:
                wait_for(lambda: seen(ONLINE), 20, "the worker online")
                uuids = seal_n(store, 1)
                # Another program holds the write lock (an export, a virus scanner): the
                # upload goes through, marking the receipt cannot.
                blocker.execute("BEGIN IMMEDIATE")
                worker.wake()
                wait_for(lambda: seen(ERROR), 20, "the error reported")
                with lock:
                    error = next(s for s in states if s.state == ERROR)
                assert error.error is not None and "locked" in error.error
                assert worker.running
                assert Outbox(store).pending().count == 1  # not marked: the lock held
                time.sleep(0.5)  # still locked: passes keep failing, the thread lives on
                assert worker.running
                blocker.execute("ROLLBACK")
                wait_for(lambda: Outbox(store).pending().count == 0, 20, "the record marked")
                assert worker.running
                # The mark commits before the pass ends and reports ONLINE: wait for the report
                # (the callback runs just after the state is set).
                wait_for(lambda: last_state() == ONLINE, 20, "the worker reporting online again")
                assert worker.state.state == ONLINE
                assert Outbox(store).counts()["uploaded"] == 1
            finally:
                blocker.close()
                assert worker.stop(timeout=10)
            assert set(uuids) <= set(_server_uuids(srv))
    finally:
        srv.stop()


def test_worker_survives_a_locked_store_at_start(tmp_path: Path) -> None:
    """The very first progress report (a count query) fails too: the loop still starts."""
    srv = ServerProcess(tmp_path / "server").start()
    try:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home, busy_timeout_ms=200) as store:
            seal_n(store, 2)
            states: list[SyncState] = []
            worker = StationSync(store).worker(
                on_state=states.append, interval_s=3600, offline_cap_s=0.5, min_wait_s=0.1
            )
            store.close()  # its connections reopen on demand (WAL readers would block below)
            # An exclusive lock (as some backup tools take) blocks even WAL readers.
            blocker = sqlite3.connect(home / DB_NAME, isolation_level=None, timeout=0)
            blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
            blocker.execute("BEGIN EXCLUSIVE")
            blocker.execute("UPDATE setting SET value = value")
            worker.start()
            try:
                wait_for(lambda: any(s.state == ERROR for s in list(states)), 20, "error")
                assert worker.running
                blocker.execute("COMMIT")
                blocker.close()
                wait_for(lambda: Outbox(store).pending().count == 0, 20, "both sent")
                assert worker.running
            finally:
                blocker.close()
                assert worker.stop(timeout=10)
    finally:
        srv.stop()


def _server_uuids(srv: ServerProcess) -> list[str]:
    from server.core import ServerCore

    core = ServerCore(srv.home, srv.db_url)
    try:
        return [p["uuid"] for p in core.list_packets()]
    finally:
        core.close()
