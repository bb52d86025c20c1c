"""Online, the station knows how far its clock is from the server's (issue 17): measured from
the server's answers during sync, kept in the sync state (a figure and a time, nothing else),
shown by `status` and read by kit health (``app.sync.state.last_clock_offset``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.store.db import open_store
from app.sync.state import STATE_FILE, last_clock_offset
from app.sync.station import StationSync
from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.sync.helpers import provisioned_home, seal_n


def test_status_shows_the_clock_offset_against_the_server(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        assert last_clock_offset(home) is None  # never measured: not a made-up 0
        with open_store(home) as store:
            seal_n(store, 1)
            # Two minutes behind: still inside the server's 300 s skew, so it syncs.
            behind = StationSync(store, clock=lambda: time.time() - 120)
            once = behind.once()
            assert (once.uploaded, once.error) == (1, None)
    measured = last_clock_offset(home)
    assert measured is not None
    offset, at = measured
    assert 118 <= offset <= 122, offset  # Date has whole seconds; +-1 s with the round trip
    assert abs(at - (time.time() - 120)) < 60
    doc = json.loads(run_station("--home", str(home), "status", "--json").stdout)
    assert doc["sync"]["clock_offset_s"] == offset
    assert doc["sync"]["clock_offset_measured_at"].endswith("Z")
    text = run_station("--home", str(home), "status").stdout
    assert f"clock:     {offset:.1f} s behind the server's" in text
    state = json.loads((home / STATE_FILE).read_text())
    assert (state["clock_offset_s"], state["clock_offset_at"]) == (offset, at)
