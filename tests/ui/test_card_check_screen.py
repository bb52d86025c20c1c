"""Cek KTP-el (issue 19) with real widgets against a real server: a resident recorded with a
card on a recording kit and processed at the centre; on the card-check station the clerk
signs in, opens Cek KTP-el (F6) and puts the resident's card on the real reader (pcscd +
vpcd): the screen shows the name, the photo, the fate, the kecamatan, the day and the receipt
number. A lost card typed in, an unknown UID, a bad UID, the centre offline; "Selesai" and
leaving the screen forget the answer; nothing of it is on the station's disk afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.store.fates import receipt_number
from app.ui.main_window import MainWindow
from app.ui.station import StationServices
from tests.server.test_card_check import _scan
from tests.support.cards import CARD_UID, CLERK, CLERK_PASSWORD, NAMA, set_up_bare_desk, set_up_desk
from tests.support.office import person, portrait_jpeg
from tests.ui.conftest import DEMO_CAMERA, show_active
from tests.ui.test_recording_flow import focused, sign_in


@pytest.mark.pcsc
def test_cek_ktp_el_shows_the_record_of_the_card_on_the_reader(
    qtbot, pcscd, tmp_path: Path, server
) -> None:
    desk = set_up_desk(tmp_path, server)
    services = StationServices(desk.desk_home, camera_sources=DEMO_CAMERA)
    try:
        window = MainWindow(services)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.station_loaded, timeout=30000):
            show_active(qtbot, window)
        qtbot.waitUntil(lambda: window.card_watcher is not None, timeout=30000)
        # F6 does nothing while signed out.
        qtbot.keyClick(focused(), Qt.Key.Key_F6)
        assert window.stack.currentWidget() is window.signin
        sign_in(qtbot, window, CLERK, CLERK_PASSWORD)
        screen = window.card_check
        assert screen.action is not None and screen.action.text() == "Cek KTP-el (F6)"
        qtbot.keyClick(focused(), Qt.Key.Key_F6)
        assert window.stack.currentWidget() is screen
        assert screen.title.text() == "Cek KTP-el"
        assert focused() is screen.uid_edit

        # The resident's card on the reader: checked at once.
        card = pcscd.card(uid=bytes.fromhex(CARD_UID))
        with qtbot.waitSignal(screen.checked, timeout=60000) as got:
            card.insert()
        answer = got.args[0]
        assert answer.found and answer.nama == NAMA, answer
        values = {k: v.text() for k, v in screen.values.items()}
        assert values["nama"] == NAMA
        assert values["fate"] == "Diproses"
        assert values["kecamatan"] == "Gunung Kaler"
        assert values["number"] == receipt_number(desk.uuids[CARD_UID])
        assert values["card"] == CARD_UID
        assert len(values["recorded"]) == 10  # dd-mm-yyyy
        assert not screen.photo.pixmap().isNull()
        assert screen.photo.pixmap().height() > 100
        assert screen.verdict.text().startswith("Kartu ini terhubung")
        assert not screen.warning.isVisible()
        card.remove()
        pcscd.wait_card(present=False)

        # "Selesai" forgets it.
        qtbot.mouseClick(screen.done_button, Qt.MouseButton.LeftButton)
        assert screen.values["nama"].text() == "" and screen.photo.pixmap().isNull()

        # A card marked lost, typed in: the warning is shown with the record.
        res = desk.server("card", "mark", CARD_UID, "lost")
        assert res.returncode == 0, res.stderr
        screen.uid_edit.setFocus()
        qtbot.keyClicks(focused(), CARD_UID.lower())
        with qtbot.waitSignal(screen.checked, timeout=60000):
            qtbot.keyClick(focused(), Qt.Key.Key_Return)
        assert screen.warning.isVisible()
        assert screen.warning.text() == "PERHATIAN: kartu ini dilaporkan HILANG."
        assert screen.values["nama"].text() == NAMA

        # An unknown card typed in: its own plain sentence, no record.
        screen.uid_edit.clear()
        qtbot.keyClicks(screen.uid_edit, "0411223344")
        with qtbot.waitSignal(screen.checked, timeout=60000):
            qtbot.mouseClick(screen.check_button, Qt.MouseButton.LeftButton)
        assert screen.verdict.text() == "Kartu ini tidak terhubung ke rekaman mana pun di pusat."
        assert screen.values["nama"].text() == "" and screen.photo.pixmap().isNull()

        # Bad input: its own sentence, nothing asked.
        screen.uid_edit.clear()
        qtbot.keyClicks(screen.uid_edit, "zz")
        with qtbot.waitSignal(screen.checked, timeout=60000):
            qtbot.mouseClick(screen.check_button, Qt.MouseButton.LeftButton)
        assert screen.status.text() == "Isian tidak valid. Periksa lalu coba lagi."

        # The answer again, then leaving the screen forgets it.
        screen.uid_edit.clear()
        qtbot.keyClicks(screen.uid_edit, CARD_UID)
        with qtbot.waitSignal(screen.checked, timeout=60000):
            qtbot.mouseClick(screen.check_button, Qt.MouseButton.LeftButton)
        assert screen.values["nama"].text() == NAMA
        qtbot.keyClick(focused(), Qt.Key.Key_F2)
        assert window.stack.currentWidget() is window.home
        assert screen.values["nama"].text() == "" and screen.photo.pixmap().isNull()
        assert screen.uid_edit.text() == ""

        # The centre offline: its own sentence, nothing shown.
        server.stop()
        qtbot.keyClick(focused(), Qt.Key.Key_F6)
        qtbot.keyClicks(screen.uid_edit, CARD_UID)
        with qtbot.waitSignal(screen.checked, timeout=60000):
            qtbot.mouseClick(screen.check_button, Qt.MouseButton.LeftButton)
        assert screen.status.text() == (
            "Pusat tidak dapat dihubungi: kartu belum dapat dicek. Periksa jaringan, lalu "
            "coba lagi."
        )
        assert screen.values["nama"].text() == ""
        window.close()
    finally:
        services.close()
    lookups = desk.server("card", "lookups", "--station", desk.desk_id, "--json")
    assert '"count": 4' in lookups.stdout, lookups.stdout
    hits = _scan(desk.desk_home, [*NAMA.split(), person(7)["nik"]], portrait_jpeg())
    assert hits == []


def test_a_card_check_station_offers_no_recording(qtbot, tmp_path: Path, server) -> None:
    """The centre says the station is a card-check station (its signed assignment answer);
    the app's own sync learns it: Perekaman baru leaves the navigation and Beranda, which
    says why, and F3 only repeats the sentence. Cek KTP-el stays."""
    desk = set_up_bare_desk(tmp_path, server)
    services = StationServices(desk.desk_home, camera_sources=DEMO_CAMERA)
    try:
        window = MainWindow(services, start_devices=False)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.station_loaded, timeout=30000):
            show_active(qtbot, window)
        sign_in(qtbot, window, CLERK, CLERK_PASSWORD)
        # The sync worker asks for the assignment; the status refresh sees the new role.
        qtbot.waitUntil(
            lambda: window.station is not None and window.station.card_check_only, timeout=60000
        )
        qtbot.waitUntil(lambda: not window.act_new.isVisible(), timeout=10000)
        assert not window.act_new.isEnabled()
        home = window.home
        assert not home.new_button.isVisible() and not home.draft_note.isVisible()
        assert home.role_note.isVisible()
        assert home.role_note.text() == SENTENCE
        assert window.card_check.action is not None and window.card_check.action.isVisible()

        # F3 (and Ctrl+N) open nothing: the sentence again.
        qtbot.keyClick(focused(), Qt.Key.Key_F3)
        window.show_recording()  # the way Beranda's and the re-record list's buttons go
        assert window.stack.currentWidget() is window.home
        assert window.banner.isVisible() and window.banner.text() == SENTENCE
        # Cek KTP-el opens as before.
        qtbot.keyClick(focused(), Qt.Key.Key_F6)
        assert window.stack.currentWidget() is window.card_check
        window.close()
    finally:
        services.close()


SENTENCE = (
    "Stasiun ini adalah stasiun cek KTP-el: perekaman tidak dilakukan di sini. "
    "Gunakan Cek KTP-el (F6); perekaman dilakukan di kit perekaman."
)
