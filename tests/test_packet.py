"""Sealed packets: the station can seal, only the server key opens, tampering is caught."""

from __future__ import annotations

import hashlib
import json
import struct

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


# --- suites: hybrid ML-KEM-768 + X25519 (new keys) and X25519 (older keys) --------------------

SUITE_KEYS = {
    packet.SUITE_HYBRID: packet.HybridPrivateKey.generate,
    packet.SUITE_X25519: X25519PrivateKey.generate,
}


@pytest.mark.parametrize("suite", sorted(SUITE_KEYS))
def test_each_suite_seals_and_opens(suite: str) -> None:
    server, station = SUITE_KEYS[suite](), Ed25519PrivateKey.generate()
    sealed = _seal(server, station)
    assert sealed.header.suite == suite == packet.read_header(sealed.data).suite
    assert packet.suite_of(server) == suite
    opened = packet.open_packet(sealed.data, server, station.public_key())
    assert opened.manifest["biodata"] == BUDI_LAKI and opened.attachments["face.jpg"].data == PHOTO
    assert BUDI_LAKI["nik"].encode() not in sealed.data
    # Only this key opens it: another key of the same suite is refused before decrypting.
    with pytest.raises(packet.PacketError, match="different server key"):
        packet.open_packet(sealed.data, SUITE_KEYS[suite]())


def test_the_hybrid_key_file_holds_its_two_component_keys_then_the_signing_key() -> None:
    server, signing = packet.HybridPrivateKey.generate(), Ed25519PrivateKey.generate()
    data = packet.server_key_file(server.public_key(), signing.public_key())
    assert data.count(b"-----BEGIN PUBLIC KEY-----") == 3
    keys = packet.load_server_key_file(data)
    loaded = packet.load_sealing_public_key(keys.sealing_pem)
    assert isinstance(loaded, packet.HybridPublicKey)
    assert loaded == server.public_key()
    assert packet.key_id(loaded) == packet.key_id(server.public_key())
    assert keys.signing_b64 == packet.signing_public_key_b64(signing.public_key())
    # The key id covers both halves: ML-KEM-768's raw key, then X25519's.
    raw = (
        server.mlkem.public_key().public_bytes_raw() + server.x25519.public_key().public_bytes_raw()
    )
    assert packet.key_id(loaded) == hashlib.sha256(raw).hexdigest()[:16]
    # The private file (server home) round-trips too, and a sealed packet opens with it.
    private = packet.load_sealing_private_key(packet.sealing_private_key_pem(server))
    assert isinstance(private, packet.HybridPrivateKey)
    sealed = _seal(server, Ed25519PrivateKey.generate())
    assert packet.open_packet(sealed.data, private).manifest["biodata"] == BUDI_LAKI
    # An ML-KEM key without its X25519 half, or in the wrong order, is refused with a reason.
    blocks = data.split(b"-----END PUBLIC KEY-----\n")
    mlkem, x25519 = (
        blocks[0] + b"-----END PUBLIC KEY-----\n",
        blocks[1] + b"-----END PUBLIC KEY-----\n",
    )
    with pytest.raises(packet.PacketError, match="not followed by its X25519"):
        packet.load_server_key_file(mlkem)
    with pytest.raises(packet.PacketError, match="other than the server's"):
        packet.load_server_key_file(x25519 + mlkem)


def test_an_old_x25519_packet_opens_on_a_server_that_moved_to_a_hybrid_key() -> None:
    """A server keeps the X25519 key it retired (``keys rotate``): packets sealed to it
    before, and by stations that still seal to it, open beside the hybrid ones."""
    old, new = X25519PrivateKey.generate(), packet.HybridPrivateKey.generate()
    station = Ed25519PrivateKey.generate()
    keyring = [new, old]  # the current key first, as the server holds them
    for server, suite in ((old, packet.SUITE_X25519), (new, packet.SUITE_HYBRID)):
        sealed = _seal(server, station)
        opened = packet.open_packet(sealed.data, keyring, station.public_key())
        assert opened.header.suite == suite and opened.manifest["biodata"] == BUDI_LAKI


def _resign(data: bytes, station: Ed25519PrivateKey, **header: str) -> bytes:
    """The packet with header fields changed and signed again by its own station (what a
    station that labels its packets wrong, or a thief with its key, would send)."""
    parts = packet._split(data)
    doc = json.loads(parts.header_json)
    doc.update(header)
    hjson = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    signed = b"".join(
        [packet.MAGIC, struct.pack(">I", len(hjson)), hjson,
         struct.pack(">I", len(parts.ciphertext)), parts.ciphertext]
    )  # fmt: skip
    return signed + station.sign(signed)


def test_a_wrong_or_unknown_suite_is_refused_with_its_reason() -> None:
    station = Ed25519PrivateKey.generate()
    x25519 = X25519PrivateKey.generate()
    data = _seal(x25519, station).data
    # Labelled hybrid, sealed to an X25519 key: refused before any decryption, saying why.
    mislabelled = _resign(data, station, suite=packet.SUITE_HYBRID)
    assert packet.verify(mislabelled, station.public_key()).suite == packet.SUITE_HYBRID
    with pytest.raises(packet.PacketError, match="names suite MLKEM768-X25519.* refused"):
        packet.open_packet(mislabelled, x25519)
    # A suite no reader knows: the header itself is refused (relays, the server's PUT).
    unknown = _resign(data, station, suite="DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-128-GCM")
    with pytest.raises(packet.PacketError, match="unsupported suite 'DHKEM\\(P-256"):
        packet.read_header(unknown)
