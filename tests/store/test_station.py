"""Station identity and kecamatan assignments."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet
from app.store.db import open_store
from app.store.errors import AlreadyInitialized, NotInitialized
from app.store.station import (
    assignment_history,
    get_identity,
    init_station,
    set_assignment,
    update_server,
)
from tests.support.station import StationHome, make_server_key


def test_identity_round_trip_and_second_init(station: StationHome) -> None:
    with station.open() as store:
        ident = get_identity(store)
        assert ident is not None and ident.kecamatan == "36.03.32" and ident.name == "Kit 1"
        assert packet.key_id(ident.server_public_key) == packet.key_id(
            station.server_key.public_key()
        )
        with pytest.raises(AlreadyInitialized):
            init_station(
                store,
                server_key_pem=station.server_key_file.read_bytes(),
                kecamatan="36.03.07",
                name="x",
            )


def test_init_with_given_key_and_id(tmp_path: Path) -> None:
    _, pem = make_server_key(tmp_path)
    key = Ed25519PrivateKey.generate()
    with open_store(tmp_path / "h") as store:
        assert get_identity(store) is None
        ident = init_station(
            store,
            server_key_pem=pem.read_bytes(),
            kecamatan="36.03.32",
            name="Kit",
            station_id="st-42",
            server_url="https://example.invalid",
            signing_key=key,
            set_by="provision",
        )
    assert ident.station_id == "st-42" and ident.server_url == "https://example.invalid"
    assert packet.key_id(ident.signing_key.public_key()) == packet.key_id(key.public_key())


def test_bad_server_key_writes_nothing(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with pytest.raises(packet.PacketError):
            init_station(
                store, server_key_pem=b"-----BEGIN NOTHING-----", kecamatan="36.03.32", name="x"
            )
        assert get_identity(store) is None


def test_kit_moves_between_kecamatan(station: StationHome, tmp_path: Path) -> None:
    with station.open() as store:
        set_assignment(store, "36.03.07", "tech-andi", "borrowed by Kronjo (approved: sup-rina)")
        assert get_identity(store).kecamatan == "36.03.07"  # type: ignore[union-attr]
        hist = assignment_history(store)
        assert [h.kecamatan for h in hist] == ["36.03.32", "36.03.07"]
        assert hist[0].to_at is not None and hist[1].to_at is None
        assert hist[1].set_by == "tech-andi"
        new_key, pem = make_server_key(tmp_path / "new")
        update_server(store, "https://relay.local", pem.read_bytes(), "st-new")
        ident = get_identity(store)
        assert ident is not None and ident.station_id == "st-new"
        assert packet.key_id(ident.server_public_key) == packet.key_id(new_key.public_key())
    with open_store(tmp_path / "empty") as store, pytest.raises(NotInitialized):
        set_assignment(store, "36.03.07", "x", "y")


def test_keys_are_parsed_once_and_a_new_server_key_is_seen_at_once(
    station: StationHome, tmp_path: Path
) -> None:
    """identity_from keeps the parsed key objects (seals reuse them) but still reads the
    station row: a server key changed by provisioning is what the very next seal uses."""
    with station.open() as store:
        first = get_identity(store)
        again = get_identity(store)
        assert first is not None and again is not None
        assert again.signing_key is first.signing_key
        assert again.server_public_key is first.server_public_key
        new_server, new_pem = make_server_key(tmp_path / "new-server")
        update_server(store, "http://127.0.0.1:9", new_pem.read_bytes(), first.station_id)
        moved = get_identity(store)
        assert moved is not None
        assert packet.key_id(moved.server_public_key) == packet.key_id(new_server.public_key())
        sealed = packet.seal(
            {"uuid": "u-1"},
            [],
            uuid="u-1",
            station_id=moved.station_id,
            kecamatan=moved.kecamatan,
            server_public_key=moved.server_public_key,
            station_key=moved.signing_key,
        )
        assert sealed.header.server_key_id == packet.key_id(new_server.public_key())
        assert packet.open_packet(sealed.data, new_server).manifest["uuid"] == "u-1"
