"""Closing the main window during a stalled upload: the window goes at once, the upload is cut
off so the sync worker ends at once too, then the store closes. (The whole process closed by
SIGTERM: tests/ui/test_close_gui_process.py.)"""

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
    proxy = FaultProxy(server.port, stall_s=30.0).start()
    try:
        # The upload hangs; the health probe, the assignment pull and the kit's reports pass.
        proxy.forced_on = "PUT /api/v1/packets/"
        proxy.forced = ["stall"]
        home = provisioned_home(tmp_path / "station", server, url=proxy.url)
        services = StationServices(home)
        seal_n(services.store, 1)
        window = open_window(qtbot, Kit(services, home, server))
        qtbot.waitUntil(lambda: proxy.counts["stall"] == 1, timeout=30000)
        assert [line.split()[0] for f, line in proxy.requests if f == "stall"] == ["PUT"]
        # The domain warm-up (~1-2 s of region data on the network pool) is waited for by
        # close(); this test is about the stalled upload, so let it finish first.
        qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)
        worker_threads = [t for t in threading.enumerate() if t.name == "ektp-sync"]
        assert len(worker_threads) == 1
        t0 = time.monotonic()
        window.close()
        # Not the rest of the 30 s stall (closing takes a fraction of a second; the room is for
        # a loaded machine stopping the camera and reader loops).
        assert time.monotonic() - t0 < 5.0
        # The stalled request was cut off: the worker ends now, then the store closes.
        worker_threads[0].join(timeout=10)
        assert not worker_threads[0].is_alive()
        assert time.monotonic() - t0 < 10.0
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
