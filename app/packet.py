"""Sealed enrollment packets (format version 1; see docs/packet-format.md).

A packet is encrypted with HPKE (RFC 9180) to the server's sealing public key and signed with
the station's Ed25519 key. Two suites, named in the header: the hybrid post-quantum KEM
ML-KEM-768 + X25519 (the default for new server keys) and DHKEM(X25519) of earlier keys,
both with HKDF-SHA256 and AES-256-GCM. The station keeps only the public half of the sealing
key, so once sealed it cannot read its own packets back.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mlkem import (
    MLKEM768PrivateKey,
    MLKEM768PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

FORMAT_VERSION = 1
MANIFEST_SCHEMA = 1
MAGIC = b"EKTPPKT\x01"
SIGNATURE_LEN = 64
# The two suites, by the name the header carries. X25519 alone falls to a quantum computer
# that records today's packets and breaks them later; the hybrid holds while either of its
# two KEMs holds (ML-KEM-768, FIPS 203, and X25519).
SUITE_X25519 = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
SUITE_HYBRID = "MLKEM768-X25519/HKDF-SHA256/AES-256-GCM"
SUITES = {
    SUITE_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    SUITE_HYBRID: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
_INFO_PREFIX = b"ektp-packet-v1\x00"
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
    suite: str = SUITE_HYBRID

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


class HybridPublicKey:
    """The public half of a hybrid sealing key: its two component keys (ML-KEM-768 and
    X25519). ``cryptography``'s ``MLKEM768X25519PublicKey`` does not give its parts back,
    and the key file and the key id need them."""

    __slots__ = ("_hpke", "mlkem", "x25519")

    def __init__(self, mlkem: MLKEM768PublicKey, x25519: X25519PublicKey) -> None:
        self.mlkem = mlkem
        self.x25519 = x25519
        self._hpke = hpke.MLKEM768X25519PublicKey(mlkem, x25519)

    def raw(self) -> bytes:
        """ML-KEM-768 public key (1184 bytes) || X25519 public key (32 bytes)."""
        return self.mlkem.public_bytes_raw() + self.x25519.public_bytes_raw()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HybridPublicKey) and other.raw() == self.raw()

    def __hash__(self) -> int:
        return hash(self.raw())


class HybridPrivateKey:
    """A hybrid sealing key pair (server side): ML-KEM-768 + X25519."""

    __slots__ = ("_hpke", "_public", "mlkem", "x25519")

    def __init__(self, mlkem: MLKEM768PrivateKey, x25519: X25519PrivateKey) -> None:
        self.mlkem = mlkem
        self.x25519 = x25519
        self._hpke = hpke.MLKEM768X25519PrivateKey(mlkem, x25519)
        self._public = HybridPublicKey(mlkem.public_key(), x25519.public_key())

    @classmethod
    def generate(cls) -> HybridPrivateKey:
        return cls(MLKEM768PrivateKey.generate(), X25519PrivateKey.generate())

    def public_key(self) -> HybridPublicKey:
        return self._public


SealingPublicKey = X25519PublicKey | HybridPublicKey
SealingPrivateKey = X25519PrivateKey | HybridPrivateKey


def suite_of(key: SealingPublicKey | SealingPrivateKey) -> str:
    """The suite name a sealing key seals or opens with."""
    if isinstance(key, HybridPublicKey | HybridPrivateKey):
        return SUITE_HYBRID
    if isinstance(key, X25519PublicKey | X25519PrivateKey):
        return SUITE_X25519
    raise TypeError(f"not a sealing key: {type(key).__name__}")


def _canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: SealingPublicKey | Ed25519PublicKey) -> str:
    """Short stable id of a public key: the first 16 hex digits of SHA-256 of its raw bytes
    (a hybrid key's: ML-KEM-768's raw public key, then X25519's)."""
    if isinstance(public_key, HybridPublicKey):
        raw = public_key.raw()
    else:
        raw = public_key.public_bytes_raw()
    return hashlib.sha256(raw).hexdigest()[:16]


# key_id() of the keys seal() was last given, by object: a station seals every packet with
# the same two key objects, and deriving the Ed25519 public key and hashing both cost more
# than the rest of the header. The key object itself is kept beside its id, so an id()
# cannot be reused by another object while its entry exists. Bounded: cleared when full.
_SEAL_KEY_IDS: dict[int, tuple[object, str]] = {}
_SEAL_KEY_IDS_MAX = 8


def _seal_key_id(key: SealingPublicKey | Ed25519PrivateKey) -> str:
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
#
# A sealing key in a file is one PEM block (SubjectPublicKeyInfo) per component key: an X25519
# key alone, or a hybrid key as its ML-KEM-768 block then its X25519 block. The server's key
# file (``ektp-server keys public``) is the sealing key's blocks, then the Ed25519 key that
# signs the server's answers (absent in files of releases before it existed).


def _spki_pem(key: MLKEM768PublicKey | X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sealing_public_key_pem(public_key: SealingPublicKey) -> bytes:
    if isinstance(public_key, HybridPublicKey):
        return _spki_pem(public_key.mlkem) + _spki_pem(public_key.x25519)
    return _spki_pem(public_key)


@dataclass(frozen=True)
class ServerKeyFile:
    """The server's public key file (``ektp-server keys public``): the sealing key, then
    the key that signs the server's answers (absent in files written before it existed)."""

    sealing_pem: bytes
    signing_b64: str | None
    sealing: SealingPublicKey | None = field(default=None, compare=False, repr=False)


_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----\s*", re.S)


def server_key_file(sealing: SealingPublicKey, signing: Ed25519PublicKey) -> bytes:
    return sealing_public_key_pem(sealing) + _spki_pem(signing)


def load_server_key_file(data: bytes) -> ServerKeyFile:
    """Parse a server key file: ``[ML-KEM-768] X25519 [Ed25519]``, in that order; PacketError
    naming what is wrong otherwise."""
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise PacketError("not a PEM public key file")
    keys = []
    for n, block in enumerate(blocks, 1):
        try:
            keys.append(serialization.load_pem_public_key(block))
        except (ValueError, TypeError) as exc:
            raise PacketError(f"key {n} in the file is not a PEM public key") from exc
    mlkem = keys[0] if isinstance(keys[0], MLKEM768PublicKey) else None
    if mlkem is not None:
        keys.pop(0)
    if not keys or not isinstance(keys[0], X25519PublicKey):
        if mlkem is not None:
            raise PacketError("the ML-KEM-768 key in the file is not followed by its X25519 key")
        raise PacketError("the key file does not hold an X25519 or hybrid sealing key")
    x25519 = keys.pop(0)
    assert isinstance(x25519, X25519PublicKey)
    sealing: SealingPublicKey = x25519 if mlkem is None else HybridPublicKey(mlkem, x25519)
    signing_b64 = None
    if keys:
        if not isinstance(keys[0], Ed25519PublicKey) or len(keys) > 1:
            raise PacketError(
                "the key file holds keys other than the server's sealing and signing keys"
            )
        signing_b64 = signing_public_key_b64(keys[0])
    return ServerKeyFile(sealing_public_key_pem(sealing), signing_b64, sealing)


def load_sealing_public_key(pem: bytes) -> SealingPublicKey:
    """The sealing key of a key file (X25519, or hybrid ML-KEM-768 + X25519); a signing key
    after it is checked and ignored."""
    sealing = load_server_key_file(pem).sealing
    assert sealing is not None
    return sealing


def fingerprint(public_key: SealingPublicKey | Ed25519PublicKey) -> str:
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


# Private sealing keys (the server home's sealing_key.pem): PKCS#8 PEM blocks in the same
# order as the public file.


def sealing_private_key_pem(key: SealingPrivateKey) -> bytes:
    parts: list[MLKEM768PrivateKey | X25519PrivateKey] = (
        [key.mlkem, key.x25519] if isinstance(key, HybridPrivateKey) else [key]
    )
    return b"".join(
        k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        for k in parts
    )


_PRIVATE_PEM_BLOCK = re.compile(
    rb"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----\s*", re.S
)


def load_sealing_private_key(pem: bytes) -> SealingPrivateKey:
    """A private sealing key file: X25519, or ML-KEM-768 then X25519 (hybrid)."""
    keys = []
    for block in _PRIVATE_PEM_BLOCK.findall(pem):
        try:
            keys.append(serialization.load_pem_private_key(block, password=None))
        except (ValueError, TypeError) as exc:
            raise PacketError("not a PEM private key") from exc
    if len(keys) == 1 and isinstance(keys[0], X25519PrivateKey):
        return keys[0]
    if (
        len(keys) == 2
        and isinstance(keys[0], MLKEM768PrivateKey)
        and isinstance(keys[1], X25519PrivateKey)
    ):
        return HybridPrivateKey(keys[0], keys[1])
    raise PacketError("does not hold an X25519 or hybrid (ML-KEM-768 + X25519) sealing key")


def hpke_seal(plaintext: bytes, public_key: SealingPublicKey, info: bytes) -> bytes:
    """HPKE single-shot seal with the key's suite (also the key challenge, app.protocol)."""
    hkey = public_key._hpke if isinstance(public_key, HybridPublicKey) else public_key
    return SUITES[suite_of(public_key)].encrypt(plaintext, hkey, info=info)


def hpke_open(ciphertext: bytes, private_key: SealingPrivateKey, info: bytes) -> bytes:
    hkey = private_key._hpke if isinstance(private_key, HybridPrivateKey) else private_key
    return SUITES[suite_of(private_key)].decrypt(ciphertext, hkey, info=info)


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
    server_public_key: SealingPublicKey,
    station_key: Ed25519PrivateKey,
    sealed_at: str | None = None,
) -> SealedPacket:
    """Encrypt ``manifest`` + ``attachments`` to the server and sign the result, with the
    suite of the server's key (hybrid ML-KEM-768 + X25519, or X25519 for an older key)."""
    header = PacketHeader(
        uuid=uuid,
        station_id=station_id,
        kecamatan=kecamatan,
        sealed_at=sealed_at or utc_now_iso(),
        server_key_id=_seal_key_id(server_public_key),
        station_key_id=_seal_key_id(station_key),
        suite=suite_of(server_public_key),
    )
    header_json = header.to_json()
    plaintext = _inner_plaintext(manifest, attachments)
    ciphertext = hpke_seal(plaintext, server_public_key, _INFO_PREFIX + header_json)
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
    if header.suite not in SUITES:
        raise PacketError(
            f"unsupported suite {header.suite[:80]!r} (known: {', '.join(sorted(SUITES))})"
        )
    return _Parts(header, header_json, ciphertext, data[:pos], data[pos:])


def read_header(data: bytes) -> PacketHeader:
    """The plaintext routing header; checks structure only, not authenticity."""
    return _split(data).header


HEADER_PREFIX_BYTES = 4096  # a stored packet's header is in its first bytes (listing)


def header_from_prefix(prefix: bytes) -> PacketHeader | None:
    """The header of a packet given only its first bytes (``HEADER_PREFIX_BYTES``: a listing
    reads no more of each packet); None when they do not hold a whole, known header. Not
    checked for authenticity."""
    if not prefix.startswith(MAGIC) or len(prefix) < len(MAGIC) + 4:
        return None
    (hlen,) = struct.unpack_from(">I", prefix, len(MAGIC))
    raw = prefix[len(MAGIC) + 4 : len(MAGIC) + 4 + hlen]
    if len(raw) != hlen:
        return None
    try:
        return PacketHeader.from_json(raw)
    except PacketError:
        return None


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
    server_private_key: SealingPrivateKey | Iterable[SealingPrivateKey],
    station_public_key: Ed25519PublicKey | None = None,
) -> OpenedPacket:
    """Back office only: decrypt with the server's private key and check every hash.

    ``server_private_key`` may be several keys (a server keeps the keys it rotated away
    from, to open what was sealed to them): the one the header names opens the packet."""
    parts = _split(data)
    if station_public_key is not None:
        verify(data, station_public_key)
    keys = (
        [server_private_key]
        if isinstance(server_private_key, X25519PrivateKey | HybridPrivateKey)
        else list(server_private_key)
    )
    wanted = parts.header.server_key_id
    key = next((k for k in keys if key_id(k.public_key()) == wanted), None)
    if key is None:
        raise PacketError("packet was sealed to a different server key")
    if parts.header.suite != suite_of(key):
        raise PacketError(
            f"packet names suite {parts.header.suite} but its key {wanted} is for "
            f"{suite_of(key)}: refused"
        )
    try:
        plaintext = hpke_open(parts.ciphertext, key, _INFO_PREFIX + parts.header_json)
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
