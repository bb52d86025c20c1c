"""Sealed enrollment packets (format version 1; see docs/packet-format.md).

A packet is encrypted with HPKE (RFC 9180: DHKEM-X25519, HKDF-SHA256, AES-256-GCM) to the
server's sealing public key and signed with the station's Ed25519 key. The station keeps only
the public half of the sealing key, so once sealed it cannot read its own packets back.

Layout (all integers big-endian)::

    MAGIC (8) | u32 header_len | header JSON | u32 ct_len | HPKE ciphertext | Ed25519 sig (64)

The header carries no personal data (uuid, station, kecamatan, time, key ids) so the outbox,
relays and the server can route a packet without opening it. It is bound to the ciphertext as
the HPKE ``info`` and covered by the signature, which signs every byte before it.

The plaintext inside is ``u32 manifest_len | manifest JSON | attachment bytes...`` in the
order the manifest lists them, each with its size and SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

FORMAT_VERSION = 1
MANIFEST_SCHEMA = 1
MAGIC = b"EKTPPKT\x01"
SIGNATURE_LEN = 64
SUITE_NAME = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
_INFO_PREFIX = b"ektp-packet-v1\x00"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
# A packet is one person: biodata, a ~40 KB face, a signature. 16 MiB is far beyond any
# honest packet and keeps a corrupt length field from allocating gigabytes.
MAX_PACKET_BYTES = 16 * 1024 * 1024


class PacketError(ValueError):
    """The bytes are not a well-formed, authentic packet (or not for this key)."""


@dataclass(frozen=True)
class Attachment:
    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class PacketHeader:
    uuid: str
    station_id: str
    kecamatan: str
    sealed_at: str
    server_key_id: str
    station_key_id: str
    version: int = FORMAT_VERSION
    suite: str = SUITE_NAME

    def to_json(self) -> bytes:
        return _canonical_json(
            {
                "v": self.version,
                "uuid": self.uuid,
                "station_id": self.station_id,
                "kecamatan": self.kecamatan,
                "sealed_at": self.sealed_at,
                "server_key_id": self.server_key_id,
                "station_key_id": self.station_key_id,
                "suite": self.suite,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> PacketHeader:
        try:
            d = json.loads(raw)
            return cls(
                uuid=str(d["uuid"]),
                station_id=str(d["station_id"]),
                kecamatan=str(d["kecamatan"]),
                sealed_at=str(d["sealed_at"]),
                server_key_id=str(d["server_key_id"]),
                station_key_id=str(d["station_key_id"]),
                version=int(d["v"]),
                suite=str(d["suite"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PacketError(f"packet header is malformed: {exc}") from exc


@dataclass(frozen=True)
class SealedPacket:
    header: PacketHeader
    data: bytes = field(repr=False)

    @property
    def uuid(self) -> str:
        return self.header.uuid

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class OpenedPacket:
    header: PacketHeader
    manifest: dict[str, Any]
    attachments: dict[str, Attachment]


def _canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: X25519PublicKey | Ed25519PublicKey) -> str:
    """Short stable id of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# key_id() of the keys seal() was last given, by object: a station seals every packet with
# the same two key objects, and deriving the Ed25519 public key and hashing both cost more
# than the rest of the header. The key object itself is kept beside its id, so an id()
# cannot be reused by another object while its entry exists. Bounded: cleared when full.
_SEAL_KEY_IDS: dict[int, tuple[object, str]] = {}
_SEAL_KEY_IDS_MAX = 8


def _seal_key_id(key: X25519PublicKey | Ed25519PrivateKey) -> str:
    hit = _SEAL_KEY_IDS.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    kid = key_id(key.public_key() if isinstance(key, Ed25519PrivateKey) else key)
    if len(_SEAL_KEY_IDS) >= _SEAL_KEY_IDS_MAX:
        _SEAL_KEY_IDS.clear()
    _SEAL_KEY_IDS[id(key)] = (key, kid)
    return kid


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- key files ------------------------------------------------------------------------------


def sealing_public_key_pem(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_sealing_public_key(pem: bytes) -> X25519PublicKey:
    """Parse the server's sealing public key file (PEM SubjectPublicKeyInfo, X25519)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise PacketError("not a PEM public key file") from exc
    if not isinstance(key, X25519PublicKey):
        raise PacketError("the key file does not hold an X25519 sealing key")
    return key


@dataclass(frozen=True)
class ServerKeyFile:
    """The server's public key file (``ektp-server keys public``): the sealing key, then
    the key that signs the server's answers (absent in files written before it existed)."""

    sealing_pem: bytes
    signing_b64: str | None


_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----\s*", re.S)


def server_key_file(sealing: X25519PublicKey, signing: Ed25519PublicKey) -> bytes:
    return sealing_public_key_pem(sealing) + signing.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_server_key_file(data: bytes) -> ServerKeyFile:
    """Parse a server key file; PacketError when it holds no X25519 sealing key first, or a
    second key that is not Ed25519."""
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise PacketError("not a PEM public key file")
    sealing = load_sealing_public_key(blocks[0])
    signing_b64 = None
    if len(blocks) > 1:
        try:
            key = serialization.load_pem_public_key(blocks[1])
        except ValueError as exc:
            raise PacketError("the second key in the file is not a PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey) or len(blocks) > 2:
            raise PacketError("the key file holds keys other than the server's two")
        signing_b64 = signing_public_key_b64(key)
    return ServerKeyFile(sealing_public_key_pem(sealing), signing_b64)


def fingerprint(public_key: X25519PublicKey | Ed25519PublicKey) -> str:
    """``key_id`` in groups of four, to read aloud and compare with the server's."""
    kid = key_id(public_key)
    return " ".join(kid[i : i + 4] for i in range(0, len(kid), 4))


def signing_public_key_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_signing_public_key_b64(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise PacketError("not a base64 Ed25519 public key") from exc


def hpke_seal(plaintext: bytes, public_key: X25519PublicKey, info: bytes) -> bytes:
    """HPKE single-shot seal with the packets' suite (also the key challenge, app.protocol)."""
    return _SUITE.encrypt(plaintext, public_key, info=info)


def hpke_open(ciphertext: bytes, private_key: X25519PrivateKey, info: bytes) -> bytes:
    return _SUITE.decrypt(ciphertext, private_key, info=info)


# --- sealing ----------------------------------------------------------------------------------


def _inner_plaintext(manifest: dict[str, Any], attachments: list[Attachment]) -> bytes:
    names = [a.name for a in attachments]
    if len(set(names)) != len(names):
        raise ValueError("attachment names must be unique")
    full = dict(manifest)
    full["schema"] = MANIFEST_SCHEMA
    full["attachments"] = [
        {
            "name": a.name,
            "media_type": a.media_type,
            "size": len(a.data),
            "sha256": hashlib.sha256(a.data).hexdigest(),
        }
        for a in attachments
    ]
    body = _canonical_json(full)
    return b"".join([struct.pack(">I", len(body)), body, *(a.data for a in attachments)])


def seal(
    manifest: dict[str, Any],
    attachments: list[Attachment],
    *,
    uuid: str,
    station_id: str,
    kecamatan: str,
    server_public_key: X25519PublicKey,
    station_key: Ed25519PrivateKey,
    sealed_at: str | None = None,
) -> SealedPacket:
    """Encrypt ``manifest`` + ``attachments`` to the server and sign the result."""
    header = PacketHeader(
        uuid=uuid,
        station_id=station_id,
        kecamatan=kecamatan,
        sealed_at=sealed_at or utc_now_iso(),
        server_key_id=_seal_key_id(server_public_key),
        station_key_id=_seal_key_id(station_key),
    )
    header_json = header.to_json()
    plaintext = _inner_plaintext(manifest, attachments)
    ciphertext = _SUITE.encrypt(plaintext, server_public_key, info=_INFO_PREFIX + header_json)
    signed = b"".join(
        [
            MAGIC,
            struct.pack(">I", len(header_json)),
            header_json,
            struct.pack(">I", len(ciphertext)),
            ciphertext,
        ]
    )
    data = signed + station_key.sign(signed)
    if len(data) > MAX_PACKET_BYTES:
        raise ValueError(f"packet is {len(data)} bytes, above the {MAX_PACKET_BYTES} limit")
    return SealedPacket(header=header, data=data)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    header: PacketHeader
    header_json: bytes
    ciphertext: bytes
    signed: bytes
    signature: bytes


def _split(data: bytes) -> _Parts:
    if len(data) > MAX_PACKET_BYTES:
        raise PacketError("packet is larger than the format allows")
    if not data.startswith(MAGIC):
        raise PacketError("not an e-KTP packet (bad magic or unsupported version)")
    pos = len(MAGIC)
    try:
        (hlen,) = struct.unpack_from(">I", data, pos)
        pos += 4
        header_json = data[pos : pos + hlen]
        if len(header_json) != hlen:
            raise PacketError("packet is truncated in its header")
        pos += hlen
        (clen,) = struct.unpack_from(">I", data, pos)
        pos += 4
    except struct.error as exc:
        raise PacketError("packet is truncated") from exc
    ciphertext = data[pos : pos + clen]
    pos += clen
    if len(ciphertext) != clen or len(data) != pos + SIGNATURE_LEN:
        raise PacketError("packet is truncated or has trailing bytes")
    header = PacketHeader.from_json(header_json)
    if header.version != FORMAT_VERSION:
        raise PacketError(f"unsupported packet version {header.version}")
    return _Parts(header, header_json, ciphertext, data[:pos], data[pos:])


def read_header(data: bytes) -> PacketHeader:
    """The plaintext routing header; checks structure only, not authenticity."""
    return _split(data).header


def verify(data: bytes, station_public_key: Ed25519PublicKey) -> PacketHeader:
    """Check the station's signature; returns the header or raises PacketError."""
    parts = _split(data)
    if parts.header.station_key_id != key_id(station_public_key):
        raise PacketError("packet was signed by a different station key")
    try:
        station_public_key.verify(parts.signature, parts.signed)
    except InvalidSignature as exc:
        raise PacketError("packet signature is not valid") from exc
    return parts.header


def open_packet(
    data: bytes,
    server_private_key: X25519PrivateKey,
    station_public_key: Ed25519PublicKey | None = None,
) -> OpenedPacket:
    """Back office only: decrypt with the server's private key and check every hash."""
    parts = _split(data)
    if station_public_key is not None:
        verify(data, station_public_key)
    if parts.header.server_key_id != key_id(server_private_key.public_key()):
        raise PacketError("packet was sealed to a different server key")
    try:
        plaintext = _SUITE.decrypt(
            parts.ciphertext, server_private_key, info=_INFO_PREFIX + parts.header_json
        )
    except Exception as exc:  # cryptography raises InvalidTag / ValueError
        raise PacketError("packet cannot be decrypted with this key") from exc
    (mlen,) = struct.unpack_from(">I", plaintext, 0)
    manifest = json.loads(plaintext[4 : 4 + mlen])
    pos = 4 + mlen
    attachments: dict[str, Attachment] = {}
    for meta in manifest.get("attachments", []):
        blob = plaintext[pos : pos + int(meta["size"])]
        pos += int(meta["size"])
        if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
            raise PacketError(f"attachment {meta['name']} does not match its hash")
        attachments[meta["name"]] = Attachment(meta["name"], meta["media_type"], blob)
    if pos != len(plaintext):
        raise PacketError("packet plaintext has trailing bytes")
    if manifest.get("uuid") != parts.header.uuid:
        raise PacketError("manifest uuid does not match the header")
    return OpenedPacket(header=parts.header, manifest=manifest, attachments=attachments)
