"""The Teknisi screen's provisioning when the station is set up by another process while the
code is being redeemed (``IdentityChanged``): a plain message saying so, not "unexpected",
and the screen then shows the registration now in force."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.i18n import Language
from app.ui.messages import error_text
from tests.support.cli import run_station
from tests.support.faultproxy import FaultProxy
from tests.support.server_fixtures import add_station
from tests.ui.conftest import TECHNICIAN, Kit
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window

MESSAGE_ID = (
    "Stasiun ini sudah didaftarkan oleh program lain saat kode diproses, jadi pendaftaran "
    "ini tidak disimpan. Periksa data stasiun; bila perlu, daftarkan lagi dengan kode baru."
)
MESSAGE_EN = (
    "This station was registered by another program while the code was being processed, so "
    "this registration was not saved. Check the station details; if needed, register again "
    "with a new code."
)


def test_station_set_up_meanwhile_is_a_plain_message(qtbot, unprovisioned_kit: Kit, server) -> None:
    proxy = FaultProxy(server.port, stall_s=60).start()
    try:
        window = open_window(qtbot, unprovisioned_kit)
        sign_in(qtbot, window, *TECHNICIAN)
        qtbot.keyClick(focused(), Qt.Key.Key_F5)
        tech = window.technician
        tech.url.setText(proxy.url)
        tech.code.setText(add_station(server, name="Kit UI"))
        proxy.forced = ["hold"]  # the screen's enrollment waits in the proxy ...
        tech.provision_button.click()
        qtbot.waitUntil(lambda: bool(proxy.requests), timeout=30000)
        assert proxy.requests[0] == ("hold", "POST /api/v1/stations/enroll HTTP/1.1")
        # ... while another process sets the station up with its own code.
        other = run_station(
            "--home",
            str(unprovisioned_kit.home),
            "provision",
            "--server",
            server.url,
            "--code",
            add_station(server, name="Kit CLI"),
            "--by",
            TECHNICIAN[0],
            input=TECHNICIAN[1] + "\n",
        )
        assert other.returncode == 0, other.stderr
        station_id = other.stdout.split()[-1]
        proxy.release()
        qtbot.waitUntil(tech.provision_button.isEnabled, timeout=30000)
        assert tech.provision_status.text() == MESSAGE_ID
        # The screen (and the window) then show the registration the other process made.
        qtbot.waitUntil(
            lambda: tech.station is not None and tech.station.station_id == station_id,
            timeout=30000,
        )
        qtbot.waitUntil(
            lambda: window.station is not None and window.station.station_id == station_id,
            timeout=30000,
        )
        assert tech.provision_status.text() == MESSAGE_ID
    finally:
        proxy.stop()


def test_identity_changed_message_in_english(qtbot) -> None:
    language = Language()
    language.set("en")
    assert error_text("identity-changed") == MESSAGE_EN
