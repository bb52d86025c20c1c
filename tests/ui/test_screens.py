"""Sign-in, idle lock, queue export, technician screen, language: driven from the keyboard."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.ui.main_window import MainWindow
from app.ui.screens.recording import RecordingScreen
from app.ui.services import CardEvent
from tests.support.components import require_binary
from tests.support.residents import BUDI_LAKI
from tests.support.server_fixtures import add_station
from tests.support.station import failed_ago, let_retry
from tests.ui.conftest import (
    OPERATOR,
    SUPERVISOR,
    TECHNICIAN,
    Kit,
    answer,
    pdf_words,
    show_active,
)
from tests.ui.test_recording_flow import focused, record_one, sign_in


def open_window(qtbot, kit: Kit, **kw) -> MainWindow:
    window = MainWindow(kit.services, **kw)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    return window


def test_wrong_password_then_right(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    signin = window.signin
    assert not window.toolbar.isVisible()
    qtbot.keyClicks(focused(), OPERATOR[0])
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), "salah-sekali")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: signin.error.text() != "", timeout=30000)
    assert signin.error.text() == "Nama pengguna atau kata sandi salah."
    assert focused() is signin.password and signin.password.text() == ""
    # F-keys do nothing while signed out.
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    assert window.stack.currentWidget() is signin
    # The next try waits: 1 s after one failure (kept in the database; the stored time is set
    # so that the delay has not passed however slow this machine is, then so that it has).
    store = offline_kit.services.store
    failed_ago(store, OPERATOR[0], -60)
    qtbot.keyClicks(focused(), OPERATOR[1])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Tunggu" in signin.error.text(), timeout=30000)
    assert signin.error.text() == (
        "Terlalu banyak percobaan masuk yang gagal. Tunggu sebentar, lalu coba lagi. (1 s)"
    )
    assert window.stack.currentWidget() is signin
    let_retry(store, OPERATOR[0])
    with qtbot.waitSignal(signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), OPERATOR[1])
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.home
    assert "siti" in window.operator_label.text()
    # An operator is not a technician: F5 is refused.
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    assert window.stack.currentWidget() is window.home
    assert not window.act_technician.isEnabled()
    # Offline set-up: the light says packets leave by export.
    qtbot.waitUntil(lambda: "ekspor" in window.light.text(), timeout=30000)


def test_card_and_pin_sign_in_form(qtbot, offline_kit: Kit):
    from app.store.operators import bind_card

    bind_card(offline_kit.services.store, OPERATOR[0], "04A1B2C3D4", "1234", actor="test")
    # No reader loop here: the events below are the ones the watcher would deliver
    # (the real reader is tested in test_card_reader.py).
    window = open_window(qtbot, offline_kit, start_devices=False)
    signin = window.signin
    assert not signin.pin.isEnabled()
    # What the card watcher reports when the operator card is placed on the reader.
    window._on_card(CardEvent("Virtual PCD 00 00", True, uid="04A1B2C3D4", atr="3B8F80"))
    assert signin.pin.isEnabled() and focused() is signin.pin
    qtbot.keyClicks(focused(), "9999")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: signin.error.text() != "", timeout=30000)
    assert signin.error.text() == "Kartu atau PIN tidak dikenal."
    let_retry(offline_kit.services.store, OPERATOR[0])  # as if the wait after it had passed
    signin.pin.setFocus()
    with qtbot.waitSignal(signin.signed_in, timeout=30000) as signed:
        qtbot.keyClicks(focused(), "1234")
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert signed.args[0].username == OPERATOR[0]


def test_idle_lock_keeps_the_draft_for_the_same_operator_only(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit, idle_lock_ms=300)
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClicks(focused(), BUDI_LAKI["nik"])
    with qtbot.waitSignal(window.locked, timeout=20000):
        pass  # no input for 300 ms
    assert window.stack.currentWidget() is window.signin
    assert window.signin.username.text() == OPERATOR[0] and focused() is window.signin.password
    assert "dikunci" in window.signin.subtitle.text()
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), OPERATOR[1])
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.recording
    assert window.recording.biodata.values()["nik"] == BUDI_LAKI["nik"]
    # Ctrl+L locks at once; another operator signing in does not see the draft.
    qtbot.keyClick(focused(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.signin
    window.signin.username.selectAll()
    qtbot.keyClicks(window.signin.username, TECHNICIAN[0])
    window.signin.password.setFocus()
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), TECHNICIAN[1])
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.home
    assert window.recording.biodata.values()["nik"] == ""


def test_offline_recording_then_export_with_progress(qtbot, offline_kit: Kit, tmp_path: Path):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    uuid = record_one(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    queue = window.queue
    qtbot.waitUntil(lambda: len(queue.model.rows) == 1, timeout=30000)
    assert queue.model.rows[0].status == "sealed"
    assert queue.model.data(queue.model.index(0, 2)) == "menunggu"
    target = tmp_path / "usb"
    # The progress steps, as the bar shows them on the UI thread. Not qtbot.waitSignal on the
    # export thread's signal: it is emitted again after the block ends, and that queued call
    # reached pytest-qt's finished blocker and crashed the process (2 of ~25 runs).
    shown: list[int] = []
    queue.progress.valueChanged.connect(shown.append)
    queue.export_to(target)  # the folder dialog's answer
    qtbot.waitUntil(lambda: "diekspor" in queue.status.text(), timeout=30000)
    queue.progress.valueChanged.disconnect(shown.append)
    assert queue.status.text() == "1 paket diekspor."
    assert queue.progress.value() == queue.progress.maximum() == 1
    assert 1 in shown  # the packet's step reached the bar
    manifest = json.loads((target / "manifest.json").read_text())
    assert [p["uuid"] for p in manifest["packets"]] == [uuid]
    packet = next(p for p in target.iterdir() if p.name != "manifest.json")
    data = packet.read_bytes()
    assert data.startswith(b"EKTPPKT") and BUDI_LAKI["nik"].encode() not in data
    # Home: 1 today, 1 waiting.
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: window.home.pending_value.text() == "1", timeout=30000)
    assert window.home.today_value.text() == "1"


def test_technician_provisions_by_keyboard_and_switches_language(
    qtbot, unprovisioned_kit: Kit, server
):
    window = open_window(qtbot, unprovisioned_kit)
    assert "belum didaftarkan" in window.station_label.text()
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    assert window.stack.currentWidget() is tech and focused() is tech.url
    qtbot.keyClicks(focused(), server.url)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is tech.code
    with qtbot.waitSignal(window.station_loaded, timeout=45000) as loaded:
        qtbot.keyClicks(focused(), add_station(server, kecamatan="36.03.07", name="Kit Kronjo"))
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    info = loaded.args[0]
    assert info.provisioned and info.kecamatan_code == "36.03.07"
    assert "Kronjo" in tech.provision_status.text()
    assert "Kronjo" in window.station_label.text()
    # Sync starts against the server.
    qtbot.waitUntil(lambda: window.sync is not None, timeout=30000)
    # Language: English, then back to Bahasa Indonesia, from the keyboard.
    tech.language.setFocus()
    qtbot.keyClick(focused(), Qt.Key.Key_Down)  # English
    assert window.windowTitle() == "e-KTP recording"
    assert tech.title.text() == "Technician" and window.home.title.text() == "Home"
    from app.ui.prefs import load_prefs  # remembered for the next start

    qtbot.waitUntil(
        lambda: load_prefs(unprovisioned_kit.home).get("language") == "en", timeout=30000
    )
    assert window.recording.next_button.text() == "&Next"
    assert window.act_home.text() == "Home (F2)"
    assert focused() is tech.language
    qtbot.keyClick(focused(), Qt.Key.Key_Up)  # Bahasa Indonesia
    assert window.windowTitle() == "Perekaman KTP-el"
    assert tech.title.text() == "Teknisi" and window.home.title.text() == "Beranda"
    qtbot.waitUntil(
        lambda: load_prefs(unprovisioned_kit.home).get("language") == "id", timeout=30000
    )


def test_move_kit_needs_a_supervisor(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    tech.kecamatan.setFocus()
    qtbot.keyClicks(focused(), "36.03.07")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), TECHNICIAN[0])  # a technician cannot approve their own move
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), TECHNICIAN[1])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    # Asked first, naming both kecamatan.
    assert "ke Kecamatan Kronjo, Kabupaten Tangerang" in answer(qtbot, window, yes=True)
    qtbot.waitUntil(lambda: tech.move_status.text() != "", timeout=30000)
    assert tech.move_status.text() == (
        "Pemindahan harus disetujui supervisor lain, bukan oleh Anda sendiri."
    )
    tech.supervisor.clear()
    tech.supervisor.setFocus()
    qtbot.keyClicks(focused(), SUPERVISOR[0])
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    # By name this time (the field still says 36.03.07).
    tech.kecamatan.setText("kronjo")
    qtbot.keyClicks(focused(), SUPERVISOR[1])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    question = answer(qtbot, window, yes=True)
    assert "dari Kecamatan Gunung Kaler (36.03.32)" in question
    qtbot.waitUntil(lambda: window.station.kecamatan_code == "36.03.07", timeout=30000)
    assert "Kronjo" in tech.move_status.text()
    from app.store.audit import verify_chain

    assert verify_chain(offline_kit.services.store).ok


def test_no_camera_is_said_plainly(qtbot, tmp_path: Path):
    from app.ui.station import StationServices
    from tests.support.station import make_station

    st = make_station(tmp_path, operator=OPERATOR[0], password=OPERATOR[1])
    services = StationServices(st.home)  # no demo source, and this machine has no camera
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    sign_in(qtbot, window, *OPERATOR)
    window.recording.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert window.recording.step() == RecordingScreen.PHOTO
    photo = window.recording.photo
    qtbot.waitUntil(lambda: "Kamera tidak ditemukan" in photo.reasons.text(), timeout=30000)
    window.close()
    services.close()


def test_photo_without_a_face_is_refused_with_the_reason(qtbot, tmp_path: Path):
    import cv2
    from skimage import data

    from app.ui.station import StationServices
    from tests.support.station import make_station

    still = tmp_path / "coffee.png"
    cv2.imwrite(str(still), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    st = make_station(tmp_path, operator=OPERATOR[0], password=OPERATOR[1])
    services = StationServices(st.home, camera_sources=[(f"file:{still}", "a cup of coffee")])
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO
    qtbot.waitUntil(lambda: rec.photo.preview.quality is not None, timeout=30000)
    assert rec.photo.reasons.text() == "Wajah tidak terlihat."
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # try anyway
    qtbot.waitUntil(lambda: rec.photo.reasons.text().startswith("Foto ditolak"), timeout=30000)
    assert "Wajah tidak terlihat." in rec.photo.reasons.text()
    assert rec.photo.photo is None
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO  # no way on without an accepted photo
    window.close()
    services.close()


def test_receipt_saved_as_pdf_is_readable(qtbot, offline_kit: Kit, stick: Path):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    record_one(qtbot, window)
    receipt = window.recording.receipt
    sealed = receipt.sealed
    assert sealed is not None
    target = stick / "bukti.pdf"
    receipt.save_pdf(target)  # what the save dialog returns
    qtbot.waitUntil(lambda: receipt.status.text().startswith("PDF disimpan"), timeout=30000)
    # Read as a person would: the name, the receipt number and the date are on the page,
    # at a size one can read (it used to be ~1 pt high in a corner of the A5 page).
    words = pdf_words(target)
    page = (words[0].page_width, words[0].page_height)
    assert page == pytest.approx((420, 595), abs=1)  # A5 portrait, in points
    wanted = [
        *"BUDI SANTOSO WIRAHADI".split(),
        sealed.number,
        sealed.sealed_at.astimezone().strftime("%d-%m-%Y"),
    ]
    for text in wanted:
        found = [w for w in words if w.text == text]
        assert found, (text, [w.text for w in words])
        assert all(w.on_page and w.height >= 8 for w in found), (text, found)
    # The NIK masked (region and serial only), the record's own seal time from the store,
    # and a QR code of the record id (an image on the page).
    text = " ".join(w.text for w in words)
    assert "3603 32•• •••• 0007" in text and BUDI_LAKI["nik"] not in text
    [row] = offline_kit.services.queue_rows()
    assert sealed.sealed_at == row.sealed_at
    assert row.sealed_at.astimezone().strftime("%H:%M") in text
    images = subprocess.run(
        [require_binary("pdfimages", "poppler-utils"), "-list", str(target)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[2:]
    assert len(images) == 1 and int(images[0].split()[3]) >= 100  # the QR code, ≥ 100 px


def test_falling_behind_warns_then_refuses_new_recordings(qtbot, offline_kit: Kit):
    from app.store.settings import set_setting

    # The central office's limit, made tiny: warn at 1, refuse at 2 unsent without a mirror.
    set_setting(offline_kit.services.store, "backlog_max_unsent", "2", "test")
    set_setting(offline_kit.services.store, "backlog_warn_fraction", "0.5", "test")
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    home = window.home
    record_one(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: home.pending_value.text() == "1", timeout=30000)
    assert home.warning.isVisible() and home.warning.text().startswith("Peringatan")
    record_one(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: home.pending_value.text() == "2", timeout=30000)
    assert "ditolak" in home.warning.text() and not home.new_button.isEnabled()
    assert window.banner.isVisible()
    qtbot.keyClick(focused(), Qt.Key.Key_F3)  # refused: stays on Beranda
    assert window.stack.currentWidget() is home


def test_a_fresh_station_says_how_to_create_the_first_account(qtbot, tmp_path: Path):
    from app.ui.station import StationServices

    services = StationServices(tmp_path / "fresh")
    window = MainWindow(services, start_devices=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    assert window.signin.hint.isVisible()
    assert "ektp-station operator add" in window.signin.hint.text()
    assert "belum didaftarkan" in window.station_label.text()
    window.close()
    services.close()
