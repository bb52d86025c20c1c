"""What the previous resident leaves behind: the draft, the review page and the receipt must
not outlive the seal or the session, and late results must not land in the next draft."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from app.ui.screens.recording import RecordingScreen
from tests.support.residents import BUDI_LAKI
from tests.ui.conftest import OPERATOR, Kit, answer
from tests.ui.test_recording_flow import focused, record_one, sign_in
from tests.ui.test_screens import open_window


def test_the_review_page_forgets_the_resident_at_the_seal_and_the_receipt_at_sign_out(
    qtbot, offline_kit: Kit
):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    record_one(qtbot, window)
    rec = window.recording
    # "The draft leaves memory with the seal": the review page held all of it (NIK, address,
    # photo, signature) until the next resident's review.
    review = rec.review.summary.toPlainText()
    assert BUDI_LAKI["nik"] not in review and BUDI_LAKI["alamat"] not in review
    assert rec.review.photo.pixmap().isNull() and rec.review.signature.pixmap().isNull()
    # The receipt stays for printing until the operator goes on; signing out ends that.
    assert "BUDI SANTOSO WIRAHADI" in rec.receipt.view.toPlainText()
    qtbot.keyClick(
        focused(),
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.stack.currentWidget() is window.signin
    assert "BUDI" not in rec.receipt.view.toPlainText() and "BUDI" not in rec.receipt.html
    assert rec.receipt.sealed is None
    assert rec.step() == RecordingScreen.BIODATA


def _on_photo_step_with_a_good_face(qtbot, window) -> RecordingScreen:
    rec = window.recording
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO
    qtbot.waitUntil(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        timeout=30000,
    )
    return rec


def test_a_photo_taken_for_a_discarded_draft_does_not_land_in_the_next_one(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = _on_photo_step_with_a_good_face(qtbot, window)
    # Enter takes the photo (on a worker); before its answer the operator discards the draft
    # (Esc, then "Buang" in the question, before the answer: no event loop turn between).
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.photo.capturing
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert rec.photo.capturing
    answer(qtbot, window, yes=True)
    assert window.stack.currentWidget() is window.home
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)  # the answer came
    assert rec.photo.photo is None and not rec.has_draft()
    # Same with a sign-out: the next operator must not be taken to the old resident's photo.
    rec = _on_photo_step_with_a_good_face(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.photo.capturing
    qtbot.keyClick(
        focused(),
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    answer(qtbot, window, yes=True)  # "Keluar dan buang rekaman BUDI SANTOSO WIRAHADI?"
    assert window.stack.currentWidget() is window.signin
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)  # the answer came
    assert rec.photo.photo is None and rec.photo.still.pixmap().isNull()
    sign_in(qtbot, window, *OPERATOR)
    assert window.stack.currentWidget() is window.home


def _on_review_step(qtbot, window) -> RecordingScreen:
    rec = _on_photo_step_with_a_good_face(qtbot, window)
    with qtbot.waitSignal(rec.photo.accepted, timeout=30000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    pad = rec.signature.pad
    assert focused() is pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 80))
    for x in range(50, 300, 25):
        qtbot.mouseMove(pad, QPoint(x, 60 + (x % 50)))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, 80))
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # no card
    assert rec.step() == RecordingScreen.REVIEW
    return rec


def test_escape_while_sealing_does_not_drop_the_record_nor_clear_the_next_resident(
    qtbot, offline_kit: Kit
):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = _on_review_step(qtbot, window)
    # Enter seals (on the store's worker); Esc twice before the answer (Batal the same).
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.sealing
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    # The record is being sealed: it cannot be discarded any more, and the screen says so
    # (it went to Beranda as if discarded, the record sealed and queued all the same, and
    # the late answer then wiped whatever the operator had started typing for the next one).
    assert window.stack.currentWidget() is rec and rec.step() == RecordingScreen.REVIEW
    assert (
        rec.message.text() == "Sedang menyimpan permanen: rekaman ini tidak dapat dibatalkan lagi."
    )
    with qtbot.waitSignal(rec.sealed, timeout=45000) as sealed:
        pass
    assert rec.step() == RecordingScreen.RECEIPT
    assert sealed.args[0].number in rec.receipt.view.toPlainText()
    assert "BUDI SANTOSO WIRAHADI" in rec.receipt.view.toPlainText()


def test_a_seal_answered_after_sign_out_is_not_shown_to_the_next_session(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = _on_review_step(qtbot, window)
    with qtbot.waitSignal(rec.sealed, timeout=45000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
        assert rec.sealing
        qtbot.keyClick(
            focused(),
            Qt.Key.Key_L,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        assert window.stack.currentWidget() is window.signin
    # Sealed (and queued), but the receipt of the signed-out session is not kept for the next.
    assert "BUDI" not in rec.receipt.html and "BUDI" not in rec.receipt.view.toPlainText()
    assert rec.step() == RecordingScreen.BIODATA and not rec.sealing


def test_a_signature_cleared_after_the_review_is_not_sealed_blank(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = _on_review_step(qtbot, window)
    # The resident signs again: back to the signature (Alt+3), Hapus (Alt+H), then the
    # operator jumps straight back to the review (Alt+5) and presses Enter.
    qtbot.keyClick(focused(), Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert rec.step() == RecordingScreen.SIGNATURE
    qtbot.keyClick(focused(), Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(rec.signature.pad.is_empty, timeout=20000)  # a mnemonic's animated click
    qtbot.keyClick(focused(), Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert rec.step() == RecordingScreen.REVIEW
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    # Not sealed with a blank signature: back on the pad, saying why.
    assert not rec.sealing and rec.step() == RecordingScreen.SIGNATURE
    assert rec.message.text() == "Tanda tangan masih kosong."
    assert focused() is rec.signature.pad
    # The photo retaken (Alt+2, Ulangi = Alt+U) and the review reached again: the old photo
    # is not shown there, and Enter says the photo is missing (not "biodata").
    qtbot.keyClick(focused(), Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(focused(), Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: rec.photo.photo is None, timeout=20000)
    qtbot.keyClick(focused(), Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert rec.step() == RecordingScreen.REVIEW
    assert rec.review.photo.pixmap().isNull()
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert not rec.sealing and rec.step() == RecordingScreen.PHOTO
    assert rec.message.text() == "Ambil foto dulu."
    assert offline_kit.services.queue_rows() == []


def test_the_same_operator_gets_the_receipt_back_after_a_lock(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    record_one(qtbot, window)
    rec = window.recording
    # The resident waits for the printout; the station locks (Ctrl+L, or the idle timer).
    qtbot.keyClick(focused(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.signin
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), OPERATOR[1])
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    # Back on the receipt, still printable (it was reachable no more: F3 starts anew).
    assert window.stack.currentWidget() is rec and rec.step() == RecordingScreen.RECEIPT
    assert "BUDI SANTOSO WIRAHADI" in rec.receipt.view.toPlainText()
    assert focused() is rec.receipt.view  # not a button an extra Enter would press
