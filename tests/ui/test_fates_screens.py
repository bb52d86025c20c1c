"""Fates in the GUI (issue 12), against a real server that processes what the kit sent:
Antrian shows each record's fate in words, Beranda how many need action, the "Perlu rekam
ulang" list shows receipt number, date and reason; a supervisor marks the resident contacted
(audited), and "Rekam ulang" seals a new record whose manifest names the one it replaces."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.store.fates import receipt_number
from app.store.models import AuditEvent, Record
from server.core import ServerCore
from tests.server.test_relay_pull import provision_relay, start_relay
from tests.support.office import office_json, person
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station
from tests.sync.test_fates import seal
from tests.ui.conftest import (
    DEMO_CAMERA,
    OPERATOR,
    SUPERVISOR,
    TECHNICIAN,
    Kit,
    add_operators,
    server_packets,
)
from tests.ui.test_recording_flow import focused, record_one, sign_in
from tests.ui.test_screens import open_window


def test_fates_on_antrian_beranda_and_the_rerecord_list(qtbot, online_kit: Kit) -> None:
    store = online_kit.services.store
    good = seal(store, person(1))
    twice = seal(store, person(1))  # the same resident again
    unsigned = seal(store, person(3), signed=False)  # the centre wants it recorded again
    window = open_window(qtbot, online_kit)
    sign_in(qtbot, window, *SUPERVISOR)
    qtbot.waitUntil(lambda: len(server_packets(online_kit.server)) == 3, timeout=30000)
    srv = online_kit.server
    done = office_json(srv.home, srv.db_url, "process", "--once", "--json")  # type: ignore[attr-defined]
    assert done["this_run"]["rerecord"] == 1
    window.send_now()  # "Kirim sekarang" also asks for the fates
    qtbot.waitUntil(lambda: window.home.action_note.isVisible(), timeout=30000)
    assert window.home.action_note.text().startswith("1 rekaman perlu tindakan")

    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    queue = window.queue
    qtbot.waitUntil(lambda: len(queue.model.rows) == 3, timeout=30000)
    words = {
        r.uuid: queue.model.data(queue.model.index(i, 5)) for i, r in enumerate(queue.model.rows)
    }
    # Which of the two arrived first (two uploads run at once) holds the NIK.
    assert {words[good], words[twice]} == {"Diproses", "Ganda"}
    assert words[unsigned] == "Perlu rekam ulang: tanda tangan tidak ada"
    assert queue.model.headerData(5, Qt.Orientation.Horizontal) == "Hasil di pusat"

    window.show_home()
    qtbot.mouseClick(window.home.rerecord_button, Qt.MouseButton.LeftButton)
    screen = window.rerecord
    assert window.stack.currentWidget() is screen
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1, timeout=30000)
    cells = [screen.table.item(0, j).text() for j in range(4)]
    assert cells[0] == receipt_number(unsigned)
    assert cells[2] == "Perlu rekam ulang: tanda tangan tidak ada"
    assert cells[3] == ""
    screen.table.selectRow(0)
    assert screen.contacted_button.isVisible() and screen.contacted_button.isEnabled()
    qtbot.mouseClick(screen.contacted_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "sudah dihubungi" in screen.table.item(0, 3).text(), timeout=30000)
    with store.read() as s:
        event = s.execute(
            select(AuditEvent).where(AuditEvent.kind == "record.resident_contacted")
        ).scalar_one()
    assert event.actor == SUPERVISOR[0] and unsigned in event.detail
    # Contacted: no longer counted as needing action on Beranda.
    window.show_home()
    qtbot.waitUntil(lambda: not window.home.action_note.isVisible(), timeout=30000)
    window.sign_out()

    # An operator sees the list but cannot mark; "Rekam ulang" starts the new recording.
    sign_in(qtbot, window, *OPERATOR)
    window.show_rerecord()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1, timeout=30000)
    screen.table.selectRow(0)
    assert not screen.contacted_button.isVisible()
    assert screen.rerecord_button.isEnabled()
    qtbot.mouseClick(screen.rerecord_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.recording
    assert online_kit.services.rerecord_of == unsigned  # type: ignore[attr-defined]
    # Left before anything was typed: the next recording from Beranda is an ordinary one.
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert online_kit.services.rerecord_of is None  # type: ignore[attr-defined]
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    window.show_rerecord()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1, timeout=30000)
    screen.table.selectRow(0)
    qtbot.mouseClick(screen.rerecord_button, Qt.MouseButton.LeftButton)
    new = record_one(qtbot, window)
    with store.read() as s:
        assert s.execute(select(Record.rerecord_of).where(Record.uuid == new)).scalar() == unsigned
    # The sealed manifest names it too: the centre supersedes the old record with it.
    qtbot.waitUntil(
        lambda: new in {p["uuid"] for p in server_packets(online_kit.server)}, timeout=30000
    )
    core = ServerCore(srv.home)  # type: ignore[attr-defined]
    try:
        assert core.open_packet(new).manifest["rerecord_of"] == unsigned
    finally:
        core.close()
    # Re-recorded: it leaves the list; the next recording is an ordinary one.
    assert online_kit.services.rerecord_of is None  # type: ignore[attr-defined]
    window.show_rerecord()
    qtbot.waitUntil(
        lambda: (
            screen.table.rowCount() == 1 and "sudah direkam ulang" in screen.table.item(0, 3).text()
        ),
        timeout=30000,
    )
    screen.table.selectRow(0)
    assert not screen.rerecord_button.isEnabled()


def test_antrian_shows_fates_that_came_through_a_relay(qtbot, tmp_path: Path) -> None:
    """A kit provisioned against a relay: the duplicate and the record to re-record, decided
    at the centre, reach the queue screen through the relay (the CLI's ``fates --json``
    through a relay is tests/sync/test_fates.py)."""
    from app.store import fates as fate_store
    from app.ui.services import Operator
    from app.ui.station import StationServices

    central = ServerProcess(tmp_path / "central").start()
    relay = services = window = None
    try:
        relay_home, _ = provision_relay(tmp_path, central)
        relay = start_relay(relay_home, central, "0.3")
        services = StationServices(
            tmp_path / "station", camera_sources=DEMO_CAMERA, sync_interval_s=2
        )
        add_operators(services)
        technician = Operator(TECHNICIAN[0], "technician")
        services.provision(technician, relay.url, add_station(relay))
        store = services.store
        good = seal(store, person(1))
        twice = seal(store, person(1))  # the same resident again
        unsigned = seal(store, person(3), signed=False)  # the centre wants it recorded again
        window = open_window(qtbot, Kit(services, services.home, relay))
        sign_in(qtbot, window, *SUPERVISOR)
        qtbot.waitUntil(lambda: len(server_packets(central)) == 3, timeout=60000)
        done = office_json(central.home, None, "process", "--once", "--json")
        assert done["this_run"] == {"processed": 1, "duplicate": 1, "rerecord": 1, "rejected": 0}

        asked = [0.0]

        def arrived() -> bool:
            counts = fate_store.counts(store)
            if counts.get("duplicate") == 1 and counts.get("rerecord") == 1:
                return True
            if time.monotonic() - asked[0] > 1:  # "Kirim sekarang" also asks for the fates
                asked[0] = time.monotonic()
                window.send_now()
            return False

        qtbot.waitUntil(arrived, timeout=60000)
        qtbot.keyClick(focused(), Qt.Key.Key_F4)
        queue = window.queue
        qtbot.waitUntil(
            lambda: (
                len(queue.model.rows) == 3
                and "Ganda" in {queue.model.data(queue.model.index(i, 5)) for i in range(3)}
            ),
            timeout=30000,
        )
        words = {
            r.uuid: queue.model.data(queue.model.index(i, 5))
            for i, r in enumerate(queue.model.rows)
        }
        # Which of the two arrived first (two uploads run at once) holds the NIK.
        assert {words[good], words[twice]} == {"Diproses", "Ganda"}
        assert words[unsigned] == "Perlu rekam ulang: tanda tangan tidak ada"
    finally:
        if window is not None:
            window.close()
        if services is not None:
            services.close()
        if relay is not None:
            relay.stop()
        central.stop()
