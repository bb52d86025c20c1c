"""Sealed packets: the station can seal, only the server key opens, tampering is caught."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app import packet
from tests.support.residents import BUDI_LAKI

PHOTO = bytes(range(256)) * 160  # stands in for a 40 KB JPEG


@pytest.fixture()
def keys() -> tuple[X25519PrivateKey, Ed25519PrivateKey]:
    return X25519PrivateKey.generate(), Ed25519PrivateKey.generate()


def _seal(server: X25519PrivateKey, station: Ed25519PrivateKey) -> packet.SealedPacket:
    return packet.seal(
        {"uuid": "0190f0e0-0000-7000-8000-000000000001", "biodata": BUDI_LAKI},
        [packet.Attachment("face.jpg", "image/jpeg", PHOTO)],
        uuid="0190f0e0-0000-7000-8000-000000000001",
        station_id="st-1",
        kecamatan="36.03.32",
        server_public_key=server.public_key(),
        station_key=station,
    )


def test_round_trip_with_server_key(keys: tuple[X25519PrivateKey, Ed25519PrivateKey]) -> None:
    server, station = keys
    sealed = _seal(server, station)
    opened = packet.open_packet(sealed.data, server, station.public_key())
    assert opened.manifest["biodata"] == BUDI_LAKI
    assert opened.attachments["face.jpg"].data == PHOTO
    assert opened.header.kecamatan == "36.03.32"
    assert sealed.sha256 == hashlib.sha256(sealed.data).hexdigest()


def test_no_plaintext_in_sealed_bytes(keys: tuple[X25519PrivateKey, Ed25519PrivateKey]) -> None:
    sealed = _seal(*keys)
    for needle in (BUDI_LAKI["nik"], BUDI_LAKI["nama"], BUDI_LAKI["alamat"]):
        assert needle.encode() not in sealed.data
    assert PHOTO[:64] not in sealed.data


def test_other_server_key_cannot_open(keys: tuple[X25519PrivateKey, Ed25519PrivateKey]) -> None:
    sealed = _seal(*keys)
    with pytest.raises(packet.PacketError, match="different server key"):
        packet.open_packet(sealed.data, X25519PrivateKey.generate())


@pytest.mark.parametrize("where", [20, 200, -70, -1])
def test_any_flipped_byte_is_detected(
    keys: tuple[X25519PrivateKey, Ed25519PrivateKey], where: int
) -> None:
    server, station = keys
    data = bytearray(_seal(server, station).data)
    data[where] ^= 0x01
    with pytest.raises(packet.PacketError):
        packet.verify(bytes(data), station.public_key())


def test_truncated_and_garbage_are_rejected(
    keys: tuple[X25519PrivateKey, Ed25519PrivateKey],
) -> None:
    server, station = keys
    data = _seal(server, station).data
    for bad in (b"", b"hello", data[:-1], data + b"x", data[:30]):
        with pytest.raises(packet.PacketError):
            packet.read_header(bad)


def test_header_is_routable_without_keys(
    keys: tuple[X25519PrivateKey, Ed25519PrivateKey],
) -> None:
    server, station = keys
    header = packet.read_header(_seal(server, station).data)
    assert header.station_id == "st-1"
    assert header.server_key_id == packet.key_id(server.public_key())
    assert header.station_key_id == packet.key_id(station.public_key())


def test_public_key_file_round_trip(keys: tuple[X25519PrivateKey, Ed25519PrivateKey]) -> None:
    server, _ = keys
    pem = packet.sealing_public_key_pem(server.public_key())
    loaded = packet.load_sealing_public_key(pem)
    assert packet.key_id(loaded) == packet.key_id(server.public_key())
    with pytest.raises(packet.PacketError):
        packet.load_sealing_public_key(
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )


def test_key_ids_follow_the_key_objects_given() -> None:
    """seal() remembers key ids by key object: fresh keys (more than the memo holds, some
    freed between seals so their id() can come back) always get their own ids."""
    for i in range(20):
        server, station = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        for _ in range(2):
            sealed = packet.seal(
                {"uuid": f"u-{i}"},
                [],
                uuid=f"u-{i}",
                station_id="st-1",
                kecamatan="36.03.32",
                server_public_key=server.public_key(),
                station_key=station,
            )
            assert sealed.header.server_key_id == packet.key_id(server.public_key())
            assert sealed.header.station_key_id == packet.key_id(station.public_key())
            assert packet.verify(sealed.data, station.public_key()) == sealed.header
            assert packet.open_packet(sealed.data, server).manifest["uuid"] == f"u-{i}"
