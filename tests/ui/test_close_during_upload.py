"""Closing the main window during a stalled upload: the window goes at once, the sync worker
ends in the background once the upload's outcome is known, then the store closes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.store.outbox import Outbox
from app.ui.station import StationServices
from tests.support.faultproxy import FaultProxy
from tests.sync.helpers import provisioned_home, seal_n
from tests.ui.conftest import Kit
from tests.ui.test_screens import open_window


def test_close_window_during_a_stalled_upload(qtbot, tmp_path: Path, server) -> None:
    proxy = FaultProxy(server.port, stall_s=3.0).start()
    try:
        proxy.forced = ["ok", "stall"]  # the health probe passes, the upload hangs
        home = provisioned_home(tmp_path / "station", server, url=proxy.url)
        services = StationServices(home)
        seal_n(services.store, 1)
        window = open_window(qtbot, Kit(services, home, server))
        qtbot.waitUntil(lambda: proxy.counts["stall"] == 1, timeout=30000)
        worker_threads = [t for t in threading.enumerate() if t.name == "ektp-sync"]
        assert len(worker_threads) == 1
        t0 = time.monotonic()
        window.close()
        assert time.monotonic() - t0 < 1.5  # not the rest of the 3 s stall
        # The worker ends by itself once the stalled request fails, then the store closes.
        worker_threads[0].join(timeout=20)
        assert not worker_threads[0].is_alive()
        closer = [t for t in threading.enumerate() if t.name == "ektp-store-close"]
        for t in closer:
            t.join(timeout=10)
        assert services._store is None
        # Nothing was lost: the record is still there to send next time.
        from app.store.db import open_store

        with open_store(home) as store:
            assert Outbox(store).pending().count == 1
    finally:
        proxy.stop()
