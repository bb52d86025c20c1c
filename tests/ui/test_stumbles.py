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
    qtbot.mouseClick(rec.next_button, Qt.MouseButton.LeftButton)  # a click on purpose
    assert rec.photo.capturing or rec.photo.photo is not None


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
