"""Key files in the server home: the sealing key pair and the server's signing key.

The private keys never leave the home and are written with mode 0600 before any byte of key
material goes into them.

A new home's sealing key is hybrid (ML-KEM-768 + X25519, docs/packet-format.md); a home made
by an earlier release keeps its X25519 key until ``ektp-server keys rotate``, which makes a
hybrid key the cluster's and keeps the old one as ``sealing_key.retired-<key id>.pem`` to open
what was sealed to it (server/cluster_key.py): packets already sealed, and those of stations
that still seal to it until their next sync moves them to the new key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.packet import (
    HybridPrivateKey,
    PacketError,
    SealingPrivateKey,
    load_sealing_private_key,
    sealing_private_key_pem,
    sealing_public_key_pem,
)

SEALING_PRIVATE = "sealing_key.pem"
SEALING_PUBLIC = "sealing_key.pub.pem"
SERVER_SIGNING = "signing_key.pem"
# Relays set up before the server had a signing key of its own: that key is the signing key.
RELAY_SIGNING = "relay_signing_key.pem"


class KeyFileError(RuntimeError):
    """A key file exists but cannot be used."""


def write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_sealing(path: Path) -> SealingPrivateKey:
    try:
        return load_sealing_private_key(path.read_bytes())
    except PacketError as exc:
        raise KeyFileError(f"{path}: {exc}") from exc


def write_sealing(home: Path, key: SealingPrivateKey) -> None:
    """``key`` becomes the home's sealing key (private 0600, public beside it)."""
    write_private(home / SEALING_PRIVATE, sealing_private_key_pem(key))
    (home / SEALING_PUBLIC).write_bytes(sealing_public_key_pem(key.public_key()))


def load_or_create_sealing_key(home: Path) -> SealingPrivateKey:
    """The key stations are given to seal to; created (0600, hybrid) on first start."""
    path = home / SEALING_PRIVATE
    if not path.exists():
        key = HybridPrivateKey.generate()
        write_sealing(home, key)
        return key
    return _load_sealing(path)


def load_or_create_signing_key(home: Path) -> Ed25519PrivateKey:
    """The server's Ed25519 key: it signs every answer to a station (receipts, the station's
    state) and, on a relay, the relay's own requests upstream. One key per home; created
    (0600) on first use. A relay home made before this key existed keeps its relay key."""
    legacy = home / RELAY_SIGNING
    path = legacy if legacy.exists() else home / SERVER_SIGNING
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        write_private(path, private_pem(key))
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise KeyFileError(f"{path} is not a PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key")
    return loaded


def load_or_create_relay_key(home: Path) -> Ed25519PrivateKey:
    """The key this server signs with when it uploads to an upstream as a relay: its
    signing key (the upstream can then vouch for it to the relay's stations)."""
    return load_or_create_signing_key(home)
