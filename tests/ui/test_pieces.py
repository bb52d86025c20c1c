"""Widgets and helpers that need no station store: signature pad, frames, receipt, i18n."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from app.ui.bridge import frame_to_qimage
from app.ui.i18n import Language, tr
from app.ui.main import NO_DISPLAY_MESSAGE, display_available
from app.ui.receipt import receipt_html, receipt_pdf, record_number
from app.ui.services import Sealed
from app.ui.signature_pad import SignaturePad
from tests.support.cli import env_with_source

ROOT = Path(__file__).resolve().parents[2]


def test_signature_pad_mouse_strokes_undo_redo_clear_png(qtbot):
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(400, 160)
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.is_empty()
    for y in (40, 90):
        qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(30, y))
        for x in range(40, 300, 20):
            qtbot.mouseMove(pad, QPoint(x, y + (x % 40) // 4))
        qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, y))
    assert pad.stroke_count() == 2
    pad.setFocus()
    qtbot.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert pad.stroke_count() == 1
    qtbot.keyClick(pad, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert pad.stroke_count() == 2
    png = pad.to_png()
    image = QImage.fromData(png)
    # Cropped to the strokes (x 30..280, y 40..~100) plus a 12 px margin.
    assert png.startswith(b"\x89PNG") and image.width() == 250 + 24 and image.height() < 120
    dark = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixelColor(x, y).value() < 100
    )
    assert dark > 20  # the strokes are in the picture
    pad.clear()
    assert pad.is_empty() and pad.can_redo()
    pad.redo()
    assert pad.stroke_count() == 1


def test_frame_to_qimage_keeps_colours_and_owns_pixels():
    frame = np.zeros((30, 40, 3), np.uint8)
    frame[:, :, 2] = 255  # red in BGR
    image = frame_to_qimage(frame)
    frame[:] = 0  # the camera reuses its buffer
    assert (image.width(), image.height()) == (40, 30)
    colour = image.pixelColor(5, 5)
    assert (colour.red(), colour.green(), colour.blue()) == (255, 0, 0)


def test_receipt_pdf_in_memory(qapp):
    sealed = Sealed(
        uuid="0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6",
        number=record_number("0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6"),
        sealed_at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        nama="BUDI SANTOSO WIRAHADI",
        kecamatan_code="36.03.32",
        kecamatan_name="Gunung Kaler",
    )
    assert sealed.number == "B1C2-D3E4-F5A6"
    html = receipt_html(sealed, "operator1", "Kios 1")
    assert "BUDI SANTOSO WIRAHADI" in html and "B1C2-D3E4-F5A6" in html and "Gunung Kaler" in html
    pdf = receipt_pdf(html)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    assert len(pdf) > 1000


def test_translations_are_complete_and_compiled():
    result = subprocess.run(
        [sys.executable, "scripts/update_translations.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_language_switch_and_back(qapp):
    language = Language()
    assert tr("Beranda") == "Beranda"
    language.set("en")
    assert tr("Beranda") == "Home"
    assert tr("&Lanjut") == "&Next"
    language.set("id")
    assert tr("Beranda") == "Beranda"


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":99"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({}, "win32", True),
    ],
)
def test_display_detection(env, platform, expected):
    assert display_available(env, platform) is expected


def test_run_gui_without_display_says_how_and_exits_2(tmp_path):
    env = env_with_source()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    code = (
        "import sys; from pathlib import Path; from app.ui.main import run_gui; "
        f"sys.exit(run_gui([], Path({str(tmp_path)!r}), demo=True))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "xvfb-run -a ektp-station demo" in result.stderr
    assert result.stderr.strip() == NO_DISPLAY_MESSAGE.strip()
    assert not any(tmp_path.iterdir())  # nothing written


def test_task_results_always_arrive_later_on_the_ui_thread(qtbot):
    import threading

    from app.ui.tasks import TaskManager

    tasks = TaskManager()
    seen: list[tuple[object, bool]] = []
    done = threading.Event()
    future = tasks.run_db(
        lambda: 42,
        lambda v: seen.append((v, threading.current_thread() is threading.main_thread())),
    )
    future.result(20)  # finished before we return to the event loop...
    tasks.run_net(lambda: done.set())
    assert seen == []  # ...yet nothing was delivered inside the caller
    qtbot.waitUntil(lambda: seen == [(42, True)], timeout=20000)
    failures: list[BaseException] = []
    tasks.run_db(lambda: 1 / 0, on_error=failures.append)
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=20000)
    assert isinstance(failures[0], ZeroDivisionError)
    tasks.shutdown()
    # Work asked for after the window closed (a queued sync signal's refresh) is dropped,
    # not raised from the slot ("cannot schedule new futures after shutdown").
    late = tasks.run_db(lambda: seen.append(("late", False)), seen.append)
    assert late.cancelled()
    qtbot.wait(50)
    assert seen == [(42, True)]


def test_qt_calls_that_return_nothing_keep_none_alive(qapp):
    # PySide6 6.12.0 on CPython 3.11 drops a reference to None on each call of a method that
    # returns nothing (None is immortal only from 3.12, where the count does not move): the
    # count falls with every setText()/update() until the interpreter aborts with
    # "deallocating None". pyproject keeps PySide6 below 6.12.
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for i in range(500):  # few: with the bug, each call brings the abort nearer
        label.setText(str(i))
        label.update()
    assert sys.getrefcount(None) - before > -100, "PySide6 loses references to None"
