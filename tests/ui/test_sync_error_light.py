"""A sync error (here: the station was revoked) shows as an error on the light, with the
reason as its tooltip: not "online", not "offline"."""

from __future__ import annotations

import threading

from app.ui.screens.home import SyncLight
from app.ui.services import SyncLightState
from tests.support.server_fixtures import server_cli
from tests.sync.helpers import seal_n
from tests.ui.conftest import Kit


def test_revoked_station_shows_a_sync_error(qtbot, online_kit: Kit) -> None:
    services = online_kit.services
    info = services.station_info()
    assert info.station_id
    assert server_cli(online_kit.server, "station", "revoke", info.station_id).returncode == 0
    seal_n(services.store, 1)
    states: list[SyncLightState] = []
    lock = threading.Lock()

    def on_state(s: SyncLightState) -> None:
        with lock:
            states.append(s)

    handle = services.start_sync(on_state)
    assert handle is not None
    try:
        qtbot.waitUntil(lambda: any(s.state == "error" for s in list(states)), timeout=30000)
    finally:
        handle.stop()
    with lock:
        error = next(s for s in states if s.state == "error")
        assert not any(s.state == "online" for s in states)
    assert error.error and "HTTP 40" in error.error
    light = SyncLight()
    qtbot.addWidget(light)
    light.show_state(error)
    assert "Sinkronisasi terhenti sejak" in light.text()
    # In the operator's language, saying what to do; the worker's English for the technician.
    assert light.toolTip().startswith("Server menolak stasiun ini. Hubungi teknisi")
    assert light.toolTip().endswith("Detail teknis: " + error.error)
