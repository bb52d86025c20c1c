"""The worker's progress while sending (no Qt): "uploaded + still to send" stays the number of
records it sends, rejected records waiting for a technician left out, group commits or not."""

from __future__ import annotations

import threading
from pathlib import Path

from app.store.db import open_store
from app.store.outbox import Outbox
from app.sync.station import StationSync
from app.sync.worker import Progress, SyncWorker
from tests.support.server import ServerProcess
from tests.support.wait import wait_for
from tests.sync.helpers import provisioned_home, seal_n
from tests.sync.test_faults import server_packets

SEALED = 60  # enough for several groups of receipts with two uploads in flight


def test_progress_total_is_what_the_worker_sends(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            (refused, _), *_ = seal_n(store, 1).items()
            Outbox(store).mark_rejected(refused, "HTTP 422: kode_wilayah: unknown code")
            sent = seal_n(store, SEALED, start=1)
            sync = StationSync(store)
            reports: list[Progress] = []
            lock = threading.Lock()

            def on_progress(p: Progress) -> None:
                with lock:
                    reports.append(p)

            worker = SyncWorker(
                sync.engine,
                interval_s=3600,
                maintenance_interval_s=3600,
                progress_interval_s=0.0,  # a report after every store write
                pending=sync.pending,
                drain=sync.drain,
                on_progress=on_progress,
            )
            worker.start()
            try:
                wait_for(lambda: Outbox(store).pending().count == 1, 60, "all but one sent")
                wait_for(lambda: worker.state.state == "online", 30, "the worker online")
            finally:
                assert worker.stop(timeout=10)
        assert set(server_packets(srv)) == set(sent)
    with lock:
        during = [p for p in reports if p.uploaded > 0]
        first, last = reports[0], reports[-1]
    # The rejected record is pending (not at the server) but never part of what is sent.
    assert (first.records_left, first.rejected_left, first.to_send) == (SEALED + 1, 1, SEALED)
    assert len(during) >= 3, reports
    assert all(p.rejected_left == 1 for p in reports)
    totals = {p.uploaded + p.to_send for p in during}
    assert totals == {SEALED}, [(p.uploaded, p.to_send) for p in during]
    assert (last.records_left, last.to_send) == (1, 0)
