"""People at the station in the GUI (issue 17): a card's PIN tried over the real reader
locks the account; the Teknisi screen binds the card on the reader ("Kaitkan kartu"); a
supervisor cannot approve their own kit move."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.errors import StationError
from app.store.operators import LOCK_AFTER, bind_card, get_operator, unlock
from app.ui.services import Operator
from tests.support.station import let_retry
from tests.ui.conftest import OPERATOR, SUPERVISOR, TECHNICIAN, Kit, answer
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window

CARD = bytes.fromhex("04A1B2C3D4E5F6")
SIGN_OUT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _failures(kit: Kit) -> int:
    from sqlalchemy import func, select

    from app.store.models import AuditEvent

    with kit.services.store.read() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.kind.in_(("operator.login_failed", "operator.login_refused")))
            ).scalar_one()
        )


def _type_pin(qtbot, window, pin: str) -> None:  # type: ignore[no-untyped-def]
    signin = window.signin
    qtbot.waitUntil(lambda: signin.pin.isEnabled() and signin.pin.hasFocus(), timeout=30000)
    qtbot.keyClicks(focused(), pin)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)


@pytest.mark.pcsc
def test_card_pins_tried_on_the_reader_lock_the_account(qtbot, pcscd, offline_kit: Kit):
    services = offline_kit.services
    bind_card(services.store, OPERATOR[0], CARD.hex().upper(), "2468", actor="test")
    window = open_window(qtbot, offline_kit)
    signin = window.signin
    qtbot.waitUntil(lambda: window.card_watcher is not None, timeout=30000)
    card = pcscd.card(uid=CARD)
    card.insert()
    qtbot.waitUntil(lambda: signin.card_uid == CARD.hex().upper(), timeout=30000)
    # Someone holding the card tries PINs: after LOCK_AFTER wrong ones the account is locked.
    # (The delay before each next try is taken as passed: the stored time moves back.)
    for i, pin in enumerate(f"{n:04d}" for n in range(LOCK_AFTER)):
        let_retry(services.store, OPERATOR[0])
        _type_pin(qtbot, window, pin)
        qtbot.waitUntil(lambda i=i: _failures(offline_kit) == i + 1, timeout=30000)
    qtbot.waitUntil(lambda: "dikunci" in signin.error.text(), timeout=30000)
    # The right PIN no longer signs in.
    with qtbot.assertNotEmitted(signin.signed_in, wait=500):
        _type_pin(qtbot, window, "2468")
        qtbot.waitUntil(lambda: _failures(offline_kit) == LOCK_AFTER + 1, timeout=30000)
    assert signin.error.text() == (
        "Akun dikunci karena terlalu banyak percobaan masuk yang gagal. Minta supervisor "
        "atau teknisi membukanya."
    )
    info = get_operator(services.store, OPERATOR[0])
    assert info is not None and info.locked
    # A supervisor unlocks it; the card and the right PIN sign in again.
    unlock(services.store, OPERATOR[0], actor=SUPERVISOR[0])
    with qtbot.waitSignal(signin.signed_in, timeout=30000) as signed:
        _type_pin(qtbot, window, "2468")
    assert signed.args[0].username == OPERATOR[0]
    card.remove()
    pcscd.wait_card(present=False)
    window.close()


@pytest.mark.pcsc
def test_teknisi_binds_the_card_on_the_reader(qtbot, pcscd, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    qtbot.waitUntil(lambda: window.card_watcher is not None, timeout=30000)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    qtbot.waitUntil(lambda: tech.cards.card_user.findData(OPERATOR[0]) >= 0, timeout=30000)
    tech.cards.card_user.setCurrentIndex(tech.cards.card_user.findData(OPERATOR[0]))
    # No card on the reader yet.
    tech.cards.card_bind.click()
    assert tech.cards.card_status.text() == "Tempelkan kartu petugas pada pembaca dulu."
    card = pcscd.card(uid=CARD)
    card.insert()
    qtbot.waitUntil(lambda: tech.cards.reader_card_uid == CARD.hex().upper(), timeout=30000)
    # Two different PINs: refused, both fields emptied.
    tech.cards.card_pin.setFocus()
    qtbot.keyClicks(focused(), "2468")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is tech.cards.card_pin2
    qtbot.keyClicks(focused(), "2469")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert tech.cards.card_status.text() == "Kedua PIN tidak sama. Ketik ulang."
    assert tech.cards.card_pin.text() == tech.cards.card_pin2.text() == ""
    qtbot.keyClicks(focused(), "2468")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), "2468")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "dikaitkan" in tech.cards.card_status.text(), timeout=30000)
    info = get_operator(offline_kit.services.store, OPERATOR[0])
    assert info is not None and info.has_card
    # The operator signs in with it.
    qtbot.keyClick(focused(), Qt.Key.Key_L, SIGN_OUT)
    signin = window.signin
    qtbot.waitUntil(lambda: signin.card_uid == CARD.hex().upper(), timeout=30000)
    signin.pin.setFocus()  # the card was there already: the operator goes to the PIN field
    with qtbot.waitSignal(signin.signed_in, timeout=30000) as signed:
        _type_pin(qtbot, window, "2468")
    assert signed.args[0].username == OPERATOR[0]
    card.remove()
    pcscd.wait_card(present=False)
    window.close()


def test_a_supervisor_cannot_approve_their_own_move(qtbot, offline_kit: Kit):
    services = offline_kit.services
    me = Operator(SUPERVISOR[0], "supervisor")
    # The service refuses it, whatever the form did.
    with pytest.raises(StationError) as err:
        services.move_kit(me, "36.03.07", SUPERVISOR[0], SUPERVISOR[1])
    assert err.value.code == "approver-is-mover"
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *SUPERVISOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    tech.kecamatan.setFocus()
    qtbot.keyClicks(focused(), "36.03.07")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), SUPERVISOR[0])
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), SUPERVISOR[1])
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    answer(qtbot, window, yes=True)
    qtbot.waitUntil(lambda: tech.move_status.text() != "", timeout=30000)
    assert tech.move_status.text() == (
        "Pemindahan harus disetujui supervisor lain, bukan oleh Anda sendiri."
    )
    assert window.station is not None and window.station.kecamatan_code != "36.03.07"
    window.close()


def test_receipt_pdf_refused_on_the_station_disk_unless_a_supervisor_allows(
    qtbot, offline_kit: Kit, tmp_path, stick
):
    from tests.support.cli import run_station
    from tests.ui.test_recording_flow import record_one

    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    record_one(qtbot, window)
    receipt = window.recording.receipt
    here = tmp_path / "bukti.pdf"  # the disk that holds the station's data
    receipt.save_pdf(here)
    assert receipt.status.text() == (
        "Bukti menyebut nama penduduk: simpan ke flashdisk, bukan ke komputer ini "
        "(kecuali supervisor mengizinkannya)."
    )
    qtbot.wait(200)
    assert not here.exists()
    # On a stick it is written.
    receipt.save_pdf(stick / "bukti.pdf")
    qtbot.waitUntil(lambda: receipt.status.text().startswith("PDF disimpan"), timeout=30000)
    assert (stick / "bukti.pdf").read_bytes().startswith(b"%PDF")
    # Only a supervisor allows the station's own disk; a technician cannot.
    home = str(offline_kit.home)
    r = run_station(
        "--home", home, "settings", "set", "receipt_pdf_on_station", "yes", "--by",
        TECHNICIAN[0], input=TECHNICIAN[1] + "\n",
    )  # fmt: skip
    assert r.returncode == 2 and "by:" in r.stderr
    r = run_station(
        "--home", home, "settings", "set", "receipt_pdf_on_station", "yes", "--by",
        SUPERVISOR[0], input=SUPERVISOR[1] + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    with qtbot.waitSignal(window.station_loaded, timeout=30000, raising=False):
        window.load_station()
    qtbot.waitUntil(lambda: receipt.pdf_on_station, timeout=30000)
    receipt.save_pdf(here)
    qtbot.waitUntil(lambda: receipt.status.text() == f"PDF disimpan: {here}", timeout=30000)
    assert here.read_bytes().startswith(b"%PDF")
    window.close()


def test_teknisi_unlocks_a_locked_account(qtbot, offline_kit: Kit):
    from app.store.operators import AuthenticationFailed, verify_password

    store = offline_kit.services.store
    for _ in range(LOCK_AFTER):
        with pytest.raises(AuthenticationFailed):
            verify_password(store, OPERATOR[0], "salah-sekali-1")
        let_retry(store, OPERATOR[0])
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    qtbot.waitUntil(lambda: tech.cards.card_user.findData(OPERATOR[0]) >= 0, timeout=30000)
    index = tech.cards.card_user.findData(OPERATOR[0])
    assert tech.cards.card_user.itemText(index).endswith("terkunci")
    tech.cards.card_user.setCurrentIndex(index)
    tech.cards.card_unlock.click()
    qtbot.waitUntil(lambda: "dibuka kembali" in tech.cards.card_status.text(), timeout=30000)
    info = get_operator(store, OPERATOR[0])
    assert info is not None and not info.locked
    assert verify_password(store, OPERATOR[0], OPERATOR[1]).username == OPERATOR[0]
    window.close()
