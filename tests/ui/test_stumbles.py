"""Issue 14, "stumbles": what slowed a new kecamatan operator down or misled them, driven with
real key and mouse events on the real window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.ui.screens.recording import RecordingScreen
from tests.support.residents import BUDI_LAKI, resident
from tests.ui.conftest import OPERATOR, Kit
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window


def _biodata(qtbot, kit: Kit):
    window = open_window(qtbot, kit)
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    return window, window.recording


def test_a_double_click_on_lanjut_does_not_take_the_photo(qtbot, offline_kit: Kit):
    window, rec = _biodata(qtbot, offline_kit)
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO
    qtbot.waitUntil(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        timeout=30000,
    )
    qtbot.keyClick(focused(), Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # back
    qtbot.waitUntil(lambda: rec.step() == RecordingScreen.BIODATA, timeout=5000)
    # "Lanjut" double-clicked: on to the photo step, and "Ambil & lanjut" (the same button,
    # same place) does not take a photo with the second click.
    # What a double click delivers: press, release, double-click (a press), release.
    qtbot.mouseClick(rec.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseDClick(rec.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(rec.next_button, Qt.MouseButton.LeftButton)
    assert rec.step() == RecordingScreen.PHOTO
    assert not rec.photo.capturing and rec.photo.photo is None
    qtbot.wait(QGuiApplication.styleHints().mouseDoubleClickInterval() + 50)
    assert rec.next_button.text() == "Ambil && &lanjut"
    qtbot.mouseClick(rec.next_button, Qt.MouseButton.LeftButton)  # a click on purpose
    assert rec.photo.capturing or rec.photo.photo is not None
    # The button says what it does now: "Lanjut" once the photo is taken, and back on retake.
    qtbot.waitUntil(lambda: rec.photo.photo is not None, timeout=30000)
    assert rec.next_button.text() == "&Lanjut"
    rec.photo.retake_button.click()
    assert rec.next_button.text() == "Ambil && &lanjut"
    assert rec.photo.retake_button.text() == "&Ulangi foto"


def test_nik_with_separators_and_dates_as_on_the_kk(qtbot, offline_kit: Kit):
    window, rec = _biodata(qtbot, offline_kit)
    step = rec.biodata
    nik = step.edits["nik"]
    # Typed with dots as printed on some cards: all 16 digits kept.
    qtbot.keyClicks(nik, "3603.3212.0890.0007")
    assert nik.text() == BUDI_LAKI["nik"]
    # The birth date from the NIK is shown as on the KK (HH-BB-TTTT), sealed as ISO.
    assert step.edits["tanggal_lahir"].text() == "12-08-1990"
    assert step.values()["tanggal_lahir"] == "1990-08-12"
    assert "12-08-1990" in step.nik_hint.text()
    # Pasted with spaces (the clipboard, Ctrl+V): the same.
    nik.clear()
    nik.setFocus()
    QGuiApplication.clipboard().setText("3603 3212 0890 0007")
    qtbot.keyClick(nik, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert nik.text() == BUDI_LAKI["nik"]
    # A date typed with slashes is understood too; a wrong one says how to write it.
    birth = step.edits["tanggal_lahir"]
    birth.clear()
    qtbot.keyClicks(birth, "12/08/1990")
    assert step.values()["tanggal_lahir"] == "1990-08-12"
    birth.clear()
    qtbot.keyClicks(birth, "1990/31/12")
    step.show_all = True
    step.validate()
    assert "HH-BB-TTTT" in step.notes["tanggal_lahir"].text()


def test_both_nik_warnings_show_and_the_review_lists_them(qtbot, offline_kit: Kit):
    window, rec = _biodata(qtbot, offline_kit)
    step = rec.biodata
    step.set_values(resident(tanggal_lahir="1991-09-13", jenis_kelamin="PEREMPUAN"))
    note = step.notes["nik"].text()
    assert "Tanggal lahir berbeda" in note and "Jenis kelamin berbeda" in note
    # Warnings do not block: on to the review, which lists every one of them.
    rec.reached = RecordingScreen.REVIEW
    rec.go_to(RecordingScreen.REVIEW)
    review = rec.review.summary.toPlainText()
    assert "Tanggal lahir berbeda" in review and "Jenis kelamin berbeda" in review
    assert "13-09-1991" in review  # dates as on the KK there too


def test_tab_out_of_the_desa_field_takes_the_only_match(qtbot, offline_kit: Kit):
    window, rec = _biodata(qtbot, offline_kit)
    region = rec.biodata.region
    region.edit.setFocus()
    qtbot.keyClicks(focused(), "Rancailat")
    qtbot.waitUntil(lambda: region.results.count() == 1, timeout=30000)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert region.region is not None and region.region.name == "Rancailat"
    assert focused() is rec.biodata.combos["agama"]
    # Typed and Tab at once, before the results are there: the same.
    region.pick(None)
    region.edit.setFocus()
    qtbot.keyClicks(focused(), "Rancailat")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: region.region is not None, timeout=30000)
    assert region.region.name == "Rancailat"
    qtbot.waitUntil(lambda: focused() is rec.biodata.combos["agama"], timeout=5000)
    # Several matches: Tab moves on without picking one.
    region.pick(None)
    region.edit.setFocus()
    qtbot.keyClicks(focused(), "Kresek")
    qtbot.waitUntil(lambda: region.results.count() > 1, timeout=30000)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert region.region is None


def test_operators_read_errors_in_their_language_with_what_to_do(qapp):
    from datetime import UTC, datetime

    from app.ui.i18n import Language
    from app.ui.messages import error_text
    from app.ui.screens.queue import QueueModel
    from app.ui.services import QueueRow

    model = QueueModel()
    now = datetime.now(UTC)
    model.set_rows(
        [
            QueueRow(
                "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6",
                now,
                "sealed",
                3,
                "upload failed: ReadTimeout",
            ),
            QueueRow(
                "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a7", now, "rejected", 1, "HTTP 422: bad packet"
            ),
        ]
    )
    shown = model.data(model.index(0, 4))
    assert shown.startswith("Server tidak menjawab.") and "ReadTimeout" not in shown
    assert "periksa jaringan" in shown
    assert model.data(model.index(0, 4), Qt.ItemDataRole.ToolTipRole).endswith("ReadTimeout")
    assert model.data(model.index(1, 4)).startswith("Ditolak server.")
    # The core's English detail does not reach the sentence.
    assert error_text("export-failed", "[Errno 28] No space left on device") == error_text(
        "export-failed"
    )
    language = Language()
    language.set("en")
    try:
        assert model.data(model.index(0, 4)).startswith("The server does not answer.")
    finally:
        language.set("id")


def test_kirim_sekarang_says_what_it_does_and_what_came_of_it(qtbot, online_kit: Kit):
    from app.ui.services import SyncLightState

    window = open_window(qtbot, online_kit)
    sign_in(qtbot, window, *OPERATOR)
    qtbot.waitUntil(lambda: window.sync is not None, timeout=30000)
    home = window.home
    home.send_button.click()
    assert home.send_note.text() == "Mengirim…"
    qtbot.waitUntil(lambda: home.send_note.text() == "Semua rekaman sudah terkirim.", timeout=30000)
    # A server that stops answering: the result says so, in words, with what happens next.
    home.send_button.click()
    assert home.send_note.text() == "Mengirim…"
    window._on_sync_state(SyncLightState("offline", error="upload failed: ReadTimeout", total=2))
    assert home.send_note.text().startswith("Server tidak menjawab.")
    # The light does not say "Daring" alone while records wait.
    window._on_sync_state(SyncLightState("online", total=2))
    assert "2 rekaman menunggu" in window.light.text()


def test_old_messages_go_with_their_cause_and_at_sign_out(qtbot, offline_kit: Kit, tmp_path):
    from PySide6.QtCore import QPoint

    from tests.ui.test_recording_flow import record_one

    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    record_one(qtbot, window)
    # An export message on Antrian is not shown to the next operator.
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    window.queue.export_to(tmp_path / "usb")
    qtbot.waitUntil(lambda: window.queue.status.text() == "1 paket diekspor.", timeout=30000)
    # The empty-signature refusal goes once the resident signed.
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.set_values(BUDI_LAKI)
    rec.reached = RecordingScreen.SIGNATURE
    rec.go_to(RecordingScreen.SIGNATURE)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.message.text() == "Tanda tangan masih kosong."
    pad = rec.signature.pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 80))
    qtbot.mouseMove(pad, QPoint(120, 60))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(200, 80))
    assert rec.message.text() == ""
    # F3 on Beranda with a draft open says it is there, and F3 says it resumes it.
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    assert "BUDI SANTOSO WIRAHADI" in window.home.draft_note.text()
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert rec.message.text() == "Melanjutkan rekaman BUDI SANTOSO WIRAHADI yang belum selesai."
    # Kunci (Ctrl+L) does not say "no activity".
    qtbot.keyClick(focused(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.signin.subtitle.text() == "Layar dikunci. Masuk lagi untuk melanjutkan."
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), OPERATOR[1])
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    from tests.ui.conftest import answer
    from tests.ui.test_losing_work import SIGN_OUT

    answer(qtbot, window, yes=True)
    assert window.home.draft_note.text() == "Tekan F3 untuk mulai merekam."
    qtbot.keyClick(focused(), *SIGN_OUT)
    assert window.queue.status.text() == ""
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    assert window.queue.status.text() == ""


def test_registering_with_an_empty_code_says_the_code_is_missing(qtbot, unprovisioned_kit: Kit):
    from tests.ui.conftest import TECHNICIAN

    window = open_window(qtbot, unprovisioned_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    tech.url.setText("https://server.contoh.go.id")
    tech.provision_button.click()
    assert tech.provision_status.text() == "Isi kode pendaftaran dari kantor pusat."
    assert focused() is tech.code


def test_teknisi_names_the_station_and_every_screen_fits_1024x700(qtbot, online_kit: Kit):
    from PySide6.QtCore import QPoint, QRect

    from tests.ui.conftest import TECHNICIAN

    window = open_window(qtbot, online_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    # 1024×768 with a taskbar, or 1366×768 less its taskbar: about 700 px usable.
    window.resize(1024, 700)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    info = window.station
    assert info is not None and info.name and info.station_id
    registration = window.technician.registration.text()
    assert info.name in registration and info.station_id not in registration
    assert info.station_id in window.technician.registration.toolTip()

    def inside(widget) -> bool:
        top_left = widget.mapTo(window, QPoint(0, 0))
        return QRect(QPoint(0, 0), window.size()).contains(QRect(top_left, widget.size()))

    assert window.minimumSizeHint().width() <= 1024
    assert window.minimumSizeHint().height() <= 700
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.show_all = True
    rec.biodata.validate()  # every field's error line shown
    region = rec.biodata.region
    region.edit.setFocus()
    qtbot.keyClicks(focused(), "Kresek")
    qtbot.waitUntil(region.results.isVisible, timeout=30000)
    qtbot.wait(50)
    assert region.results.height() >= 90  # not squeezed by the error lines
    rec.reached = RecordingScreen.REVIEW
    for step in range(RecordingScreen.REVIEW + 1):
        rec.go_to(step)
        qtbot.wait(20)
        for button in (rec.next_button, rec.back_button, rec.cancel_button):
            assert button.isVisible() and inside(button), (step, button.objectName())


def test_qt_own_dialogs_speak_the_ui_language(qapp):
    from PySide6.QtWidgets import QLineEdit, QMessageBox

    from app.ui.i18n import Language

    language = Language()  # Bahasa Indonesia: the project's qtbase_id (Qt ships none)
    box = QMessageBox()
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert box.button(QMessageBox.StandardButton.Yes).text() == "&Ya"
    assert box.button(QMessageBox.StandardButton.No).text() == "&Tidak"
    edit = QLineEdit()
    menu = edit.createStandardContextMenu()
    texts = [a.text().split("\t")[0] for a in menu.actions() if a.text()]
    assert "&Salin" in texts and "&Tempel" in texts and "Pilih semua" in texts
    language.set("en")
    box = QMessageBox()
    box.setStandardButtons(QMessageBox.StandardButton.Yes)
    assert box.button(QMessageBox.StandardButton.Yes).text() == "&Yes"
    language.set("id")
