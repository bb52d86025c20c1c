"""Closing the main window during a stalled upload: the window goes at once, the sync worker
ends in the background once the upload's outcome is known, then the store closes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.store.outbox import Outbox
from app.ui.main_window import MainWindow
from app.ui.station import StationServices
from tests.support.faultproxy import FaultProxy
from tests.sync.helpers import provisioned_home, seal_n
from tests.ui.conftest import show_active


def test_close_window_during_a_stalled_upload(qtbot, tmp_path: Path, server) -> None:
    proxy = FaultProxy(server.port, stall_s=60.0).start()
    try:
        proxy.forced = ["ok", "stall"]  # the health probe passes, the upload hangs
        home = provisioned_home(tmp_path / "station", server, url=proxy.url)
        services = StationServices(home)
        seal_n(services.store, 1)
        window = MainWindow(services)
        qtbot.addWidget(window)
        # Closing waits for running background work, and the domain warm-up (queued when the
        # station loads: ~0.5 s, seconds on a loaded machine) is such work: let it end first,
        # so the close measured below is the one during the stalled upload only.
        warmed = threading.Event()
        window.warmed_up.connect(warmed.set)
        with qtbot.waitSignal(window.station_loaded, timeout=30000):
            show_active(qtbot, window)
        qtbot.waitUntil(lambda: proxy.counts["stall"] == 1 and warmed.is_set(), timeout=30000)
        worker_threads = [t for t in threading.enumerate() if t.name == "ektp-sync"]
        assert len(worker_threads) == 1
        t0 = time.monotonic()
        window.close()
        # The window went while the upload still hung (closing takes a fraction of a second;
        # the room is for a loaded machine stopping the camera and reader loops).
        assert time.monotonic() - t0 < 5.0
        assert worker_threads[0].is_alive()
        # The worker ends by itself once the stalled request fails (the link drops), then the
        # store closes.
        proxy.down()
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
