"""Backed-off records and clock changes: a forced sync sends every sealed record, the "sync
now" button forces, and the worker's maintenance survives a station clock moved back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.store.db import open_store
from app.store.outbox import Outbox
from app.sync.station import StationSync
from app.sync.worker import ONLINE, SyncWorker
from tests.support.faultproxy import FaultProxy
from tests.support.server import ServerProcess
from tests.support.wait import wait_for
from tests.sync.helpers import provisioned_home, seal_n
from tests.sync.test_faults import server_packets

DAY = 86400.0


def test_sync_once_sends_a_record_backed_off_under_a_clock_that_was_ahead(
    tmp_path: Path,
) -> None:
    """The station clock was days ahead while the server was unreachable, so the persisted
    next attempt lies days in the future; once the clock is set right, `sync --once` (force)
    must still send the record, not report it remaining with no error."""
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port) as proxy:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sealed = seal_n(store, 1)
            proxy.down()
            ahead = StationSync(store, clock=lambda: time.time() + 3 * DAY)
            failed = ahead.drain()
            assert failed.error is not None and failed.error.kind == "network"
            nxt = Outbox(store).next_attempt_at()
            assert nxt is not None and nxt.timestamp() > time.time() + 2 * DAY
            proxy.up()
            once = StationSync(store).once()
            assert (once.uploaded, once.remaining, once.error) == (1, 0, None)
        assert set(server_packets(srv)) == set(sealed)


def test_sync_now_sends_a_record_waiting_for_its_backoff(tmp_path: Path) -> None:
    """The server refused with 503 Retry-After 300; it is back. The operator presses "Kirim
    sekarang" (``sync_now``): the record goes now, not in five minutes."""
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port) as proxy:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sealed = seal_n(store, 1)
            sync = StationSync(store)
            proxy.forced = ["503"]
            proxy.retry_after = 300
            assert sync.drain().error is not None
            assert Outbox(store).counts()["sealed"] == 1
            worker = sync.worker(interval_s=3600, maintenance_interval_s=3600)
            worker.start()
            try:
                wait_for(lambda: worker.state.state == ONLINE, 30, "the worker online")
                assert Outbox(store).counts()["sealed"] == 1  # a wake-up honours the backoff
                worker.sync_now()
                wait_for(lambda: Outbox(store).counts()["sealed"] == 0, 20, "the record sent")
            finally:
                assert worker.stop(timeout=10)
        assert set(server_packets(srv)) == set(sealed)


def test_maintenance_goes_on_after_the_station_clock_moved_back(tmp_path: Path) -> None:
    """Purge, assignment pull and the falling-behind check run every maintenance interval;
    a wall clock set back an hour must not stop them for that hour."""
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            sync = StationSync(store)
            offset = [0.0]
            runs: list[float] = []
            lock = threading.Lock()

            def task() -> None:
                with lock:
                    runs.append(time.monotonic())

            def count() -> int:
                with lock:
                    return len(runs)

            worker = SyncWorker(
                sync.engine,
                interval_s=0.2,
                maintenance_interval_s=1.0,
                maintenance=[task],
                clock=lambda: time.time() + offset[0],
            )
            worker.start()
            try:
                wait_for(lambda: count() >= 2, 30, "maintenance running")
                offset[0] = -3600.0  # the station clock is set back an hour
                before = count()
                wait_for(lambda: count() >= before + 2, 30, "maintenance after the change")
            finally:
                assert worker.stop(timeout=10)


def test_the_worker_sends_a_record_whose_retry_time_a_clock_ahead_put_days_away(
    tmp_path: Path,
) -> None:
    """Same as above, but nobody runs `sync --once` or presses "send now": the station is
    online and the worker itself must notice that a retry time days ahead cannot be one it
    set, rather than leave the record for days."""
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port) as proxy:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sealed = seal_n(store, 1)
            proxy.down()
            ahead = StationSync(store, clock=lambda: time.time() + 3 * DAY)
            assert ahead.drain().error is not None
            proxy.up()
            worker = StationSync(store).worker(interval_s=3600, maintenance_interval_s=3600)
            worker.start()
            try:
                wait_for(lambda: Outbox(store).counts()["sealed"] == 0, 30, "the record sent")
            finally:
                assert worker.stop(timeout=10)
        assert set(server_packets(srv)) == set(sealed)
