"""The Teknisi screen's provisioning (StationServices.provision) is the CLI's: a kit set up
offline with ``init`` keeps its id and key when it is later provisioned online."""

from __future__ import annotations

from pathlib import Path

from app.ui.services import Operator
from app.ui.station import StationServices
from tests.support.server_fixtures import add_station
from tests.support.station import KRONJO, make_station


def test_a_kit_set_up_offline_is_provisioned_online(tmp_path: Path, server) -> None:  # type: ignore[no-untyped-def]
    st = make_station(tmp_path / "kit")
    before = st.identity()
    services = StationServices(st.home)
    try:
        info = services.provision(
            Operator("tek", "technician"), server.url, add_station(server, kecamatan=KRONJO)
        )
        assert info.provisioned and info.station_id == before.station_id
        assert info.server_url == server.url and info.kecamatan_code == KRONJO
    finally:
        services.close()
    after = st.identity()
    assert after.signing_key.public_key() == before.signing_key.public_key()
    assert after.server_url == server.url and after.kecamatan == KRONJO
    r = st.cli("status", "--json")
    assert r.returncode == 0 and '"kecamatan": "36.03.07"' in r.stdout
