"""The Teknisi screen after its session: nothing typed there carries over to the next one."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import SUPERVISOR, TECHNICIAN, Kit, answer
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window

SIGN_OUT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def test_a_supervisor_password_typed_but_not_used_is_gone_after_sign_out(qtbot, offline_kit: Kit):
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    tech.kecamatan.setFocus()
    qtbot.keyClicks(focused(), "36.03.07")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), SUPERVISOR[0])
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is tech.supervisor_password
    qtbot.keyClicks(focused(), SUPERVISOR[1])
    # The supervisor walks away before Enter; the technician signs out.
    qtbot.keyClick(focused(), Qt.Key.Key_L, SIGN_OUT)
    assert window.stack.currentWidget() is window.signin
    assert tech.supervisor_password.text() == ""
    # The next technician's session: Enter on the move form is not approved by that password.
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech.supervisor_password.setFocus()
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    answer(qtbot, window, yes=True)  # "Pindahkan kit dari Kecamatan ... ke Kecamatan Kronjo?"
    qtbot.waitUntil(lambda: tech.move_status.text() != "", timeout=30000)
    assert tech.move_status.text() == "Persetujuan supervisor tidak sah."
    assert window.station is not None and window.station.kecamatan_code != "36.03.07"


def test_no_camera_message_goes_once_a_camera_is_found(qtbot, tmp_path):
    from app.ui.station import StationServices
    from tests.support.station import make_station
    from tests.ui.conftest import DEMO_CAMERA, add_operators

    st = make_station(tmp_path, operator="op", password="rahasia-op-12345")
    services = StationServices(st.home)  # no demo source, and this machine has no camera
    add_operators(services)
    try:
        window = open_window(qtbot, Kit(services, st.home))
        sign_in(qtbot, window, *TECHNICIAN)
        qtbot.keyClick(focused(), Qt.Key.Key_F5)
        tech = window.technician
        qtbot.waitUntil(
            lambda: "Kamera tidak ditemukan" in tech.devices.camera_status.text(), timeout=30000
        )
        # The technician plugs a camera in (here: the source the station is given) and
        # checks the devices again (Alt+P).
        services._extra_cameras.extend(DEMO_CAMERA)
        qtbot.keyClick(focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: tech.devices.camera.count() == 1, timeout=30000)
        assert "Kamera tidak ditemukan" not in tech.devices.camera_status.text()
    finally:
        window.close()
        services.close()
