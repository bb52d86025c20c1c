"""The camera's life in the UI: opened once, released when the test or the step is over.

The camera is the demo video (a real FrameLoop over OpenCV). A real camera can be opened by
one user at a time: a second loop over it fails, and a loop nobody stops holds it until the
program ends.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from PySide6.QtCore import Qt

from tests.support import faces
from tests.support.video import write_sequence
from tests.ui.conftest import TECHNICIAN, Kit
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "frameloop-reader" and t.is_alive()]


def test_double_click_on_camera_test_opens_one_camera_and_stop_releases_it(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    qtbot.waitUntil(lambda: tech.devices.camera.count() == 1, timeout=30000)
    assert camera_threads() == []
    # A technician double-clicks "Uji kamera": two clicks while the camera is still opening.
    qtbot.mouseClick(tech.devices.camera_test, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(tech.devices.camera_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tech.devices.test_frames > 0, timeout=30000)
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)
    assert len(camera_threads()) == 1
    # Stop: the camera is released, no loop keeps running behind the screen.
    qtbot.mouseClick(tech.devices.camera_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
    assert tech.devices.test_loop is None
    assert tech.devices.camera_test.text() == "&Uji kamera"
    window.close()


def unpluggable_camera(tmp_path: Path) -> tuple[str, Path]:
    """A camera that can be "unplugged": a looping image sequence whose files the test deletes
    (the source then returns no frame, as a device read does once the USB cable is out)."""
    frames = tmp_path / "camera"
    pattern = write_sequence(frames, [faces.astronaut_frame()] * 3, ".jpg")
    return f"file:{pattern}", frames


def unplug(frames: Path) -> None:
    shutil.rmtree(frames)


def test_camera_unplugged_during_the_technician_test(qtbot, tmp_path: Path):
    from app.ui.station import StationServices
    from tests.support.station import make_station
    from tests.ui.conftest import add_operators

    choice, frames = unpluggable_camera(tmp_path)
    st = make_station(tmp_path, operator="op", password="rahasia-op-12345")
    services = StationServices(st.home, camera_sources=[(choice, "Kamera uji")])
    add_operators(services)
    try:
        window = open_window(qtbot, Kit(services, st.home))
        sign_in(qtbot, window, *TECHNICIAN)
        qtbot.keyClick(focused(), Qt.Key.Key_F5)
        tech = window.technician
        qtbot.waitUntil(lambda: tech.devices.camera.count() == 1, timeout=30000)
        qtbot.mouseClick(tech.devices.camera_test, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tech.devices.test_frames > 0, timeout=30000)
        assert tech.devices.camera_test.text() == "&Hentikan uji"
        unplug(frames)
        qtbot.waitUntil(
            lambda: tech.devices.camera_status.text().startswith(
                "Kamera berhenti mengirim gambar."
            ),
            timeout=30000,
        )
        qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
        # The test is over: the button offers to start it again, not to stop it.
        assert tech.devices.test_loop is None
        assert tech.devices.camera_test.text() == "&Uji kamera"
        window.close()
    finally:
        services.close()


def test_camera_unplugged_on_the_photo_step(qtbot, tmp_path: Path):
    from app.ui.main_window import MainWindow
    from app.ui.station import StationServices
    from tests.support.residents import BUDI_LAKI
    from tests.support.station import make_station
    from tests.ui.conftest import OPERATOR, show_active

    choice, frames = unpluggable_camera(tmp_path)
    st = make_station(tmp_path, operator=OPERATOR[0], password=OPERATOR[1])
    services = StationServices(st.home, camera_sources=[(choice, "Kamera uji")])
    try:
        window = MainWindow(services)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.station_loaded, timeout=30000):
            show_active(qtbot, window)
        sign_in(qtbot, window, *OPERATOR)
        rec = window.recording
        rec.biodata.set_values(BUDI_LAKI)
        qtbot.keyClick(focused(), Qt.Key.Key_F3)
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
        photo = rec.photo
        qtbot.waitUntil(lambda: photo.frames_seen > 0, timeout=30000)
        unplug(frames)
        qtbot.waitUntil(
            lambda: photo.reasons.text().startswith("Kamera berhenti mengirim gambar."),
            timeout=30000,
        )
        assert photo.preview.image is None  # not a frozen last frame
        qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
        window.close()
    finally:
        services.close()


def test_photo_step_shown_again_while_the_camera_opens_opens_it_once(
    qtbot, offline_kit: Kit, monkeypatch
):
    """The operator opens the photo step and, before the camera is up (DirectShow takes a
    second or more), peeks at the biodata (Alt+1) and comes back (Alt+2)."""
    from app.errors import Code, MachineFault
    from tests.support.residents import BUDI_LAKI
    from tests.ui.conftest import OPERATOR

    services = offline_kit.services
    real_start = services.start_camera
    opened: list[object] = []

    def exclusive_start(choice, on_frame, on_error):  # type: ignore[no-untyped-def]
        # Like a USB camera: busy while another loop holds it open.
        if camera_threads():
            raise MachineFault(Code.NO_CAMERA, "the camera is in use", subject="camera")
        loop = real_start(choice, on_frame, on_error)
        opened.append(loop)
        return loop

    monkeypatch.setattr(services, "start_camera", exclusive_start)
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    alt = Qt.KeyboardModifier.AltModifier
    # No event is processed between these keys: the camera's answer comes after all three.
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClick(focused(), Qt.Key.Key_1, alt)
    qtbot.keyClick(focused(), Qt.Key.Key_2, alt)
    assert rec.step() == rec.PHOTO
    photo = rec.photo
    qtbot.waitUntil(lambda: photo.frames_seen > 0, timeout=30000)
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30000)
    assert len(opened) == 1
    assert photo.loop is not None and photo._error is None
    assert "Kamera" not in photo.reasons.text()
    # Leaving the step releases the camera.
    qtbot.keyClick(focused(), Qt.Key.Key_1, alt)
    qtbot.waitUntil(lambda: camera_threads() == [], timeout=10000)
    window.close()


def test_a_camera_that_stops_sending_frames_is_said_to_have_stopped(
    qtbot, offline_kit: Kit, monkeypatch
) -> None:
    """A driver can hang inside a read and report nothing: the preview froze with no word.
    After FROZEN_AFTER_S without a frame the step says the camera stopped sending; the
    message goes when frames come again."""
    from app.ui.messages import error_text
    from tests.support.residents import BUDI_LAKI
    from tests.ui.conftest import OPERATOR

    services = offline_kit.services
    real_start = services.start_camera
    hung = threading.Event()

    def hanging_start(choice, on_frame, on_error):  # type: ignore[no-untyped-def]
        # The real camera loop, whose frames stop reaching the step while `hung` is set.
        def forward(*args):  # type: ignore[no-untyped-def]
            if not hung.is_set():
                on_frame(*args)

        return real_start(choice, forward, on_error)

    monkeypatch.setattr(services, "start_camera", hanging_start)
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *OPERATOR)
    rec = window.recording
    rec.biodata.set_values(BUDI_LAKI)
    qtbot.keyClick(focused(), Qt.Key.Key_F3)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    photo = rec.photo
    stopped = error_text("camera-failed")
    qtbot.waitUntil(lambda: photo.frames_seen > 3, timeout=30000)
    assert photo.reasons.text() != stopped
    hung.set()
    # The step's limit is 5 s (FROZEN_AFTER_S); the bound leaves room for a loaded machine.
    qtbot.waitUntil(lambda: photo.reasons.text() == stopped, timeout=25000)
    hung.clear()
    qtbot.waitUntil(lambda: photo.reasons.text() != stopped, timeout=30000)
    window.close()
