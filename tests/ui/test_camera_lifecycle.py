"""The camera's life in the UI: opened once, released when the test or the step is over.

The camera is the demo video (a real FrameLoop over OpenCV). A real camera can be opened by
one user at a time: a second loop over it fails, and a loop nobody stops holds it until the
program ends.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from tests.ui.conftest import TECHNICIAN, Kit
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "frameloop-reader" and t.is_alive()]


def test_double_click_on_camera_test_opens_one_camera_and_stop_releases_it(
    qtbot, offline_kit: Kit
):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    qtbot.waitUntil(lambda: tech.camera.count() == 1, timeout=30000)
    assert camera_threads() == []
    # A technician double-clicks "Uji kamera": two clicks while the camera is still opening.
    qtbot.mouseClick(tech.camera_test, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(tech.camera_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tech.test_frames > 0, timeout=30000)
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)
    assert len(camera_threads()) == 1
    # Stop: the camera is released, no loop keeps running behind the screen.
    qtbot.mouseClick(tech.camera_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
    assert tech.test_loop is None
    assert tech.camera_test.text() == "&Uji kamera"
    window.close()
