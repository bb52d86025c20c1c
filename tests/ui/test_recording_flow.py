"""A whole recording driven from the keyboard, as an operator does it, on real parts:
a real store in a temp home, the demo video as the camera, a real ektp-server on loopback."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from app.ui.main_window import MainWindow
from app.ui.screens.recording import RecordingScreen
from tests.support.residents import BUDI_LAKI
from tests.support.threads import thread_stacks
from tests.ui.conftest import OPERATOR, Kit, server_packets, show_active

# (widget objectName, keys to type) in the form's Tab order; None = leave as suggested.
BIODATA_KEYS = [
    ("nik", BUDI_LAKI["nik"]),
    ("nama", "budi santoso wirahadi"),
    ("tempat_lahir", "TANGERANG"),
    ("tanggal_lahir", None),  # filled from the NIK
    ("jenis_kelamin", None),  # filled from the NIK
    ("golongan_darah", "O"),
    ("alamat", BUDI_LAKI["alamat"]),
    ("rt", "003"),
    ("rw", "005"),
    ("wilayah", "Gunung Kaler"),  # kecamatan name: its desa are listed
    ("agama", "ISLAM"),
    ("status_perkawinan", "KAWIN"),
    ("pekerjaan", "PETANI/PEKEBUN"),
    ("kewarganegaraan", "WNI"),
    ("no_kk", BUDI_LAKI["no_kk"]),
]


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def open_window(qtbot, kit: Kit) -> MainWindow:
    window = MainWindow(kit.services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.station_loaded, timeout=30000):
        show_active(qtbot, window)
    return window


def sign_in(qtbot, window: MainWindow, username: str, password: str) -> None:
    assert focused() is window.signin.username
    qtbot.keyClicks(focused(), username)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Enter in the username moves on
    assert focused() is window.signin.password
    qtbot.keyClicks(focused(), password)
    with qtbot.waitSignal(window.signin.signed_in, timeout=30000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.home


def fill_biodata_by_keyboard(qtbot, window: MainWindow) -> None:
    rec = window.recording
    for name, keys in BIODATA_KEYS:
        widget = focused()
        assert widget.objectName() == name, f"Tab reached {widget.objectName()!r}, not {name!r}"
        if keys is not None:
            qtbot.keyClicks(widget, keys)
            if isinstance(widget, QComboBox):  # type-ahead picked the entry, right now
                assert widget.currentText() == keys, (
                    name,
                    widget.currentText(),
                    QApplication.activePopupWidget(),
                    QApplication.focusWidget(),
                )
        if name == "wilayah":
            qtbot.waitUntil(rec.biodata.region.results.isVisible, timeout=30000)
            qtbot.keyClick(widget, Qt.Key.Key_Down)
            qtbot.keyClick(focused(), Qt.Key.Key_Down)  # the second desa of Gunung Kaler
            qtbot.keyClick(focused(), Qt.Key.Key_Return)
            assert rec.biodata.region.region is not None
            assert rec.biodata.region.region.code.startswith("36.03.32.")
        if name != BIODATA_KEYS[-1][0]:
            qtbot.keyClick(focused(), Qt.Key.Key_Tab)


def record_one(qtbot, window: MainWindow) -> str:
    """From Beranda to the receipt, keyboard only (the signature is drawn with the pointer)."""
    rec = window.recording
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    assert window.stack.currentWidget() is rec and rec.step() == RecordingScreen.BIODATA
    fill_biodata_by_keyboard(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.PHOTO, (
        rec.message.text(),
        rec.biodata.values(),
        [(i.field, i.code) for i in rec.biodata.checked.errors] if rec.biodata.checked else None,
    )
    # Live preview from the demo video, with the face box; Enter takes the photo when good.
    qtbot.waitUntil(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        timeout=30000,
    )
    assert rec.photo.preview.quality.face_box is not None
    with qtbot.waitSignal(rec.photo.accepted, timeout=30000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.photo.photo is not None and rec.photo.photo.jpeg.startswith(b"\xff\xd8")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.SIGNATURE
    pad = rec.signature.pad
    assert focused() is pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 80))
    for x in range(50, 300, 25):
        qtbot.mouseMove(pad, QPoint(x, 60 + (x % 50)))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, 80))
    assert not pad.is_empty()
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.CARD
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # no card: the step is optional
    assert rec.step() == RecordingScreen.REVIEW
    assert "BUDI SANTOSO WIRAHADI" in rec.review.summary.toPlainText()
    with qtbot.waitSignal(rec.sealed, timeout=45000) as sealed:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert rec.step() == RecordingScreen.RECEIPT
    receipt = rec.receipt.view.toPlainText()
    uuid = sealed.args[0].uuid
    assert sealed.args[0].number in receipt and "BUDI SANTOSO WIRAHADI" in receipt
    assert "Gunung Kaler" in receipt
    # The draft left memory with the seal.
    assert rec.biodata.values()["nik"] == "" and rec.photo.photo is None and pad.is_empty()
    return uuid


def test_full_recording_keyboard_only_to_sent(qtbot, online_kit: Kit):
    window = open_window(qtbot, online_kit)
    sign_in(qtbot, window, *OPERATOR)
    uuid = record_one(qtbot, window)
    # Sent: the sync worker uploads it; the queue (F4) shows it with no personal data.
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    assert window.stack.currentWidget() is window.queue

    def sent() -> bool:
        window.queue.refresh()
        rows = window.queue.model.rows
        return bool(rows) and rows[0].uuid == uuid and rows[0].status == "uploaded"

    qtbot.waitUntil(sent, timeout=45000)
    table_text = " ".join(
        str(window.queue.model.data(window.queue.model.index(0, c))) for c in range(5)
    )
    assert (
        "terkirim" in table_text and "BUDI" not in table_text and BUDI_LAKI["nik"] not in table_text
    )
    assert [p["uuid"] for p in server_packets(online_kit.server)] == [uuid]
    # Home shows it too.
    qtbot.keyClick(focused(), Qt.Key.Key_F2)
    qtbot.waitUntil(
        lambda: (window.home.today_value.text(), window.home.pending_value.text()) == ("1", "0"),
        timeout=30000,
    )
    window.close()

    def alive() -> list[str]:
        return [
            t.name
            for t in threading.enumerate()
            if t.name.startswith(("frameloop", "ui-", "ektp-sync"))
        ]

    # Closing waits 0.3 s for the sync worker, then lets it end in the background (a pass may
    # be under way: every 2 s here): every thread must end, not necessarily before close()
    # returns.
    deadline = time.monotonic() + 20
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive() == [], thread_stacks(alive())
