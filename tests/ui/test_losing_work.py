"""Issue 14, "losing work": the ways an operator lost a resident's data or receipt, driven as
the operator did it, with real key events on the real window (the receipt PDF is read back in
test_screens.py::test_receipt_saved_as_pdf_is_readable)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui.screens.recording import RecordingScreen
from tests.support.residents import BUDI_LAKI
from tests.ui.conftest import OPERATOR, Kit, answer, question
from tests.ui.test_recording_flow import focused, record_one, sign_in
from tests.ui.test_screens import open_window

SIGN_OUT = (Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def test_an_extra_enter_keeps_the_receipt_and_it_can_be_printed_again(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    record_one(qtbot, window)
    rec = window.recording
    # The Enter that sealed, typed once more (or twice): the receipt stays.
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.RECEIPT
    assert "BUDI SANTOSO WIRAHADI" in rec.receipt.view.toPlainText()
    number = rec.receipt.sealed.number if rec.receipt.sealed else ""
    # What is kept for printing again holds the NIK masked only.
    assert rec.last_receipt is not None and BUDI_LAKI["nik"] not in repr(rec.last_receipt)
    assert "3603 32•• •••• 0007" in rec.last_receipt[0]
    # The operator goes on to the next resident on purpose (F3): the receipt of the last one
    # can still be printed again from Beranda and from Antrian.
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert rec.step() == RecordingScreen.BIODATA and "BUDI" not in rec.receipt.html
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    assert window.home.reprint_button.isEnabled()
    window.home.reprint_button.click()
    dialog = window.reprint_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.receipt.view.toPlainText()
    assert "BUDI SANTOSO WIRAHADI" in text and number in text
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc closes it
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert "BUDI" not in dialog.receipt.view.toPlainText()  # closed: nothing kept in it
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    assert window.queue.reprint_button.isEnabled()
    # Signing out forgets it: memory only, never on disk, never for the next operator.
    qtbot.keyClick(focused(), *SIGN_OUT)
    assert window.stack.currentWidget() is window.signin
    assert rec.last_receipt is None
    assert not window.home.reprint_button.isEnabled()
    assert not window.queue.reprint_button.isEnabled()
    sign_in(qtbot, window, *OPERATOR)
    window.reprint()
    assert window.reprint_dialog is None


def test_esc_closes_the_desa_list_first_and_discarding_asks(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClicks(focused(), BUDI_LAKI["nik"])
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), "budi santoso")
    region = rec.biodata.region
    region.edit.setFocus()
    qtbot.keyClicks(focused(), "Gunung Kaler")
    qtbot.waitUntil(region.results.isVisible, timeout=30000)
    # Esc with the list open, in the field and then in the list: the list closes, nothing else.
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert not region.results.isVisible() and question(window) is None
    assert rec.message.text() == ""
    qtbot.keyClicks(focused(), " ")  # the list comes back
    qtbot.waitUntil(region.results.isVisible, timeout=30000)
    qtbot.keyClick(focused(), Qt.Key.Key_Down)
    assert focused() is region.results
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert not region.results.isVisible() and question(window) is None
    # Esc now means "discard": the operator is asked, with the resident's name; "No" keeps it.
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert "BUDI SANTOSO" in answer(qtbot, window, yes=False)
    assert window.stack.currentWidget() is rec and rec.has_draft()
    assert rec.biodata.values()["nik"] == BUDI_LAKI["nik"]
    # A second Esc right after is a question again, never a silent discard.
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    answer(qtbot, window, yes=True)
    assert window.stack.currentWidget() is window.home and not rec.has_draft()


def test_sign_out_and_closing_the_window_ask_before_dropping_a_draft(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.set_values(BUDI_LAKI)
    # Keluar: asked, naming the resident; "No" keeps the operator signed in with the draft.
    qtbot.keyClick(focused(), *SIGN_OUT)
    assert "BUDI SANTOSO WIRAHADI" in answer(qtbot, window, yes=False)
    assert window.operator is not None and rec.has_draft()
    assert window.stack.currentWidget() is rec
    # Closing the window: the same question; "No" keeps the window open and the draft.
    window.close()
    assert "BUDI SANTOSO WIRAHADI" in answer(qtbot, window, yes=False)
    assert window.isVisible() and not window._closed and rec.has_draft()
    # "Yes" to Keluar drops it.
    qtbot.keyClick(focused(), *SIGN_OUT)
    answer(qtbot, window, yes=True)
    assert window.stack.currentWidget() is window.signin and not rec.has_draft()
    # Without a draft nothing is asked.
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), *SIGN_OUT)
    assert question(window) is None and window.stack.currentWidget() is window.signin
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.set_values(BUDI_LAKI)
    window.close()
    answer(qtbot, window, yes=True)
    qtbot.waitUntil(lambda: window._closed, timeout=10000)
    assert not window.isVisible()


def test_combo_values_with_a_space_typed_then_tab(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    combos = rec.biodata.combos
    combos["status_perkawinan"].setFocus()
    # Typed as written on the KK, then Tab, straight through the last fields of the form.
    for name, typed in (
        ("status_perkawinan", "CERAI HIDUP"),
        ("pekerjaan", "KARYAWAN SWASTA"),
        ("kewarganegaraan", "WNI"),
    ):
        assert focused() is combos[name], (name, focused().objectName())
        qtbot.keyClicks(focused(), typed)
        assert QApplication.activePopupWidget() is None, name
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is rec.biodata.edits["no_kk"]
    values = rec.biodata.values()
    assert values["status_perkawinan"] == "CERAI HIDUP"
    assert values["pekerjaan"] == "KARYAWAN SWASTA"
    assert values["kewarganegaraan"] == "WNI"


def test_combo_type_ahead_does_not_depend_on_typing_speed(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    combo = rec.biodata.combos["pekerjaan"]
    combo.setFocus()
    # A slow typist: more than the keyboard input interval between the letters.
    for letter in "KARYAWAN S":
        qtbot.keyClick(focused(), letter if letter != " " else Qt.Key.Key_Space)
        qtbot.wait(QApplication.keyboardInputInterval() + 50)
    assert combo.currentText().startswith("KARYAWAN S"), combo.currentText()
    assert QApplication.activePopupWidget() is None
