"""The recording screen in pieces (issue 16, item 4): the resident's data shown as text (never
as markup), the draft forgotten in one call beyond any undo, and one camera controller for the
photo step and Teknisi."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QMessageBox

from app.ui.camera import CameraController
from tests.support.residents import BUDI_LAKI
from tests.ui.conftest import OPERATOR, TECHNICIAN, Kit, answer, question
from tests.ui.test_camera_lifecycle import camera_threads
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window

MARKED_UP_NAME = "BUDI <B>SANTOSO</B>"
MARKED_UP_ADDRESS = "JL. MAWAR <b>NO</b> 5"


def shown_as_markup(widget: QLabel | QMessageBox) -> bool:
    """Whether Qt renders this label's text as HTML (AutoText guesses from the text)."""
    fmt = widget.textFormat()
    if fmt == Qt.TextFormat.RichText:
        return True
    return fmt == Qt.TextFormat.AutoText and Qt.mightBeRichText(widget.text())


def test_the_residents_data_is_shown_as_typed_never_as_markup(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.set_values({**BUDI_LAKI, "nama": MARKED_UP_NAME, "alamat": MARKED_UP_ADDRESS})
    # The discard question names the resident: as typed, tags and all.
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: question(window) is not None, timeout=10000)
    box = question(window)
    assert box is not None and MARKED_UP_NAME in box.text()
    assert not shown_as_markup(box)
    answer(qtbot, window, yes=False)
    # Beranda names the open draft; F3 then says whose draft goes on.
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    assert MARKED_UP_NAME in window.home.draft_note.text()
    assert not shown_as_markup(window.home.draft_note)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert MARKED_UP_NAME in rec.message.text()
    assert not shown_as_markup(rec.message)
    # The review page: the address and a card id as they are, not bold.
    values = rec.biodata.values()
    rec.review.show_draft(
        values, "", None, QImage(20, 20, QImage.Format.Format_ARGB32), "<i>04A1</i>"
    )
    page = rec.review.summary.toPlainText()
    assert MARKED_UP_ADDRESS in page and MARKED_UP_NAME in page and "<i>04A1</i>" in page


def test_forgetting_the_draft_is_one_call_and_beyond_undo(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    rec.biodata.set_values(BUDI_LAKI)
    pad = rec.signature.pad
    pad.add_stroke([(10, 10), (60, 40), (120, 20)])
    # "Hapus" on the pad is the operator's own clear: undoable.
    pad.clear()
    pad.redo()
    assert pad.stroke_count() == 1
    assert rec.draft.holds_resident() and rec.has_draft()
    token = rec.draft.token()
    rec.draft.forget()
    assert not rec.draft.is_current(token)  # answers under way for it are dropped
    assert not rec.has_draft() and rec.resident_name() == ""
    assert rec.biodata.values()["nik"] == ""
    # A forgotten signature does not come back with "Kembalikan coretan".
    pad.redo()
    rec.signature.redo_button.click()
    assert pad.is_empty() and not pad.can_redo()
    window.close()


def test_photo_step_and_technician_share_one_camera_controller(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    assert isinstance(window.recording.photo.camera, CameraController)
    camera = window.technician.devices.test_camera
    assert isinstance(camera, CameraController)
    # Two starts before the first has opened: one camera; the second start says so.
    assert camera.start("", lambda: True)
    assert not camera.start("", lambda: True)
    qtbot.waitUntil(lambda: camera.loop is not None, timeout=30000)
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)
    assert len(camera_threads()) == 1
    camera.stop()
    qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
    # Opened after nobody wants it any more (the operator left meanwhile): stopped at once.
    assert camera.start("", lambda: False)
    qtbot.waitUntil(lambda: not camera.busy and window.tasks.pending == 0, timeout=30000)
    assert camera.loop is None
    qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
    window.close()
