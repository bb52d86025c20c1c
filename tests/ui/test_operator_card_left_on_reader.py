"""An operator who signs in with their card and leaves it on the reader: the card step must
not link the operator's own card to the resident's record (docs/ui.md, step 4)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from app.ui.screens.recording import RecordingScreen
from app.ui.services import CardEvent
from tests.support.residents import BUDI_LAKI
from tests.ui.conftest import OPERATOR, Kit
from tests.ui.test_recording_flow import focused
from tests.ui.test_screens import open_window

READER = "Virtual PCD 00 00"
OPERATOR_CARD = "04A1B2C3D4"
RESIDENT_CARD = "0499887766"


def test_the_operator_card_left_on_the_reader_is_not_linked_to_the_resident(
    qtbot, offline_kit: Kit
):
    from app.store.operators import bind_card

    bind_card(offline_kit.services.store, OPERATOR[0], OPERATOR_CARD, "1234", actor="test")
    # No reader loop: the events are the ones the card watcher delivers (the real reader is
    # in test_card_reader.py).
    window = open_window(qtbot, offline_kit, start_devices=False)
    window._on_card(CardEvent(READER, True, uid=OPERATOR_CARD, atr="3B8F80"))
    assert focused() is window.signin.pin
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClicks(focused(), "1234")
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    # The card stays on the reader; the operator records a resident up to the card step.
    rec = window.recording
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO
    qtbot.waitUntil(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        timeout=30000,
    )
    with qtbot.waitSignal(rec.photo.accepted, timeout=30000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    pad = rec.signature.pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 80))
    qtbot.mouseMove(pad, QPoint(200, 60))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, 80))
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.CARD
    assert rec.card.uid is None, "the operator's own card was linked to the resident"
    assert OPERATOR_CARD not in rec.card.status.text()
    # The operator swaps it for the resident's card: that one is linked.
    window._on_card(CardEvent(READER, False))
    window._on_card(CardEvent(READER, True, uid=RESIDENT_CARD, atr="3B8F81"))
    assert rec.card.uid == RESIDENT_CARD
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.REVIEW
    assert OPERATOR_CARD not in rec.review.summary.toPlainText()
    assert RESIDENT_CARD in rec.review.summary.toPlainText()
