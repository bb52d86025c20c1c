"""The card reader on a real PC/SC stack (pcscd + vsmartcard's virtual reader + a scripted
card): operator sign-in with card + PIN, and linking a card to a recording."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from app import packet
from app.ui.main_window import MainWindow
from app.ui.screens.recording import RecordingScreen
from tests.support.residents import RATNA_PEREMPUAN
from tests.ui.conftest import OPERATOR, Kit, show_active
from tests.ui.test_recording_flow import focused

OPERATOR_CARD = bytes.fromhex("04A1B2C3D4E5F6")
RESIDENT_CARD = bytes.fromhex("0499887766")


@pytest.mark.pcsc
def test_operator_card_sign_in_and_card_linked_to_the_record(qtbot, pcscd, offline_kit: Kit):
    from app.store.operators import bind_card
    from app.store.outbox import Outbox

    services = offline_kit.services
    bind_card(services.store, OPERATOR[0], OPERATOR_CARD.hex().upper(), "2468", actor="test")
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    signin = window.signin
    qtbot.waitUntil(lambda: window.card_watcher is not None, timeout=30000)
    # The operator places their card: the form says so and the PIN field takes the keys.
    card = pcscd.card(uid=OPERATOR_CARD)
    card.insert()
    qtbot.waitUntil(lambda: signin.card_uid == OPERATOR_CARD.hex().upper(), timeout=30000)
    assert OPERATOR_CARD.hex().upper() in signin.card_status.text()
    assert focused() is signin.pin
    with qtbot.waitSignal(signin.signed_in, timeout=30000) as signed:
        qtbot.keyClicks(focused(), "2468")
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert signed.args[0].username == OPERATOR[0]
    card.remove()
    pcscd.wait_card(present=False)

    # A recording with the resident's new card on the reader at the card step.
    rec = window.recording
    rec.biodata.set_values(RATNA_PEREMPUAN)
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
    rec.signature.pad.add_stroke([(20, 40), (120, 60), (200, 30)])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.CARD
    resident = pcscd.card(uid=RESIDENT_CARD)
    resident.insert()
    qtbot.waitUntil(lambda: rec.card.uid == RESIDENT_CARD.hex().upper(), timeout=30000)
    assert RESIDENT_CARD.hex().upper() in rec.card.status.text()
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.REVIEW
    assert RESIDENT_CARD.hex().upper() in rec.review.summary.toPlainText()
    with qtbot.waitSignal(rec.sealed, timeout=30000) as sealed:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    uuid = sealed.args[0].uuid
    # The back office (server private key) finds the card in the sealed packet.
    data = next(d for u, d in Outbox(services.store).iter_packets() if u == uuid)
    opened = packet.open_packet(data, offline_kit.server_key)  # type: ignore[arg-type]
    assert json.loads(opened.attachments["card.json"].data)["uid"] == RESIDENT_CARD.hex().upper()
    assert opened.manifest["biodata"]["nik"] == RATNA_PEREMPUAN["nik"]
    assert opened.attachments["signature.png"].data.startswith(b"\x89PNG")
    window.close()
