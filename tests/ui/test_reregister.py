"""The technician screen on a station that is already registered: it asks first; yes keeps
the station's key and id (uploads still work), no leaves the code unused."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.support.server_fixtures import server_cli
from tests.ui.conftest import TECHNICIAN, Kit
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window


def test_reregister_asks_then_keeps_identity(qtbot, online_kit: Kit) -> None:
    window = open_window(qtbot, online_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F5)
    tech = window.technician
    before = online_kit.services.station_info()
    assert before.station_id and before.server_url
    code = server_cli(online_kit.server, "station", "code", before.station_id).stdout.split()[-1]
    tech.code.setText(code)

    # An address with a path: the server's 404 says the address is wrong (not the code).
    tech.url.setText(before.server_url + "/ektp")
    tech.provision_button.click()
    box = tech.confirm_box
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(tech.provision_button.isEnabled, timeout=30000)
    assert tech.provision_status.text().startswith("Alamat server tidak valid."), (
        tech.provision_status.text()
    )
    assert "without a path" in tech.provision_status.toolTip()  # the detail, for the technician
    tech.url.setText(before.server_url)

    # "No": nothing is sent, the code stays unused.
    tech.provision_button.click()
    box = tech.confirm_box
    assert box is not None and box.isVisible()
    assert before.name and before.name in box.text()  # the station's name, not its UUID
    assert before.station_id not in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert "dibatalkan" in tech.provision_status.text()
    assert tech.provision_button.isEnabled()

    # "Yes": the same code still works, and the station keeps its id (and key).
    tech.provision_button.click()
    box = tech.confirm_box
    assert box is not None and box.isVisible()
    with qtbot.waitSignal(tech.station_changed, timeout=45000) as changed:
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert changed.args[0].station_id == before.station_id
    assert before.name in tech.provision_status.text()
