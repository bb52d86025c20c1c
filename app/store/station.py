"""The station's identity: id, name, server, keys, and its kecamatan assignment history."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.packet import load_sealing_public_key
from app.store.audit import record_event
from app.store.db import Store
from app.store.errors import AlreadyInitialized, NotInitialized
from app.store.models import Assignment, Station
from app.store.timeutil import utcnow


@dataclass(frozen=True)
class StationIdentity:
    station_id: str
    name: str
    kecamatan: str
    server_url: str | None
    server_public_key: X25519PublicKey
    signing_key: Ed25519PrivateKey


def _signing_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_signing_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("stored station key is not Ed25519")
    return key


def current_kecamatan(session: Session) -> str | None:
    row = session.execute(
        select(Assignment.kecamatan)
        .where(Assignment.to_at.is_(None))
        .order_by(Assignment.id.desc())
        .limit(1)
    ).first()
    return None if row is None else str(row[0])


def identity_from(session: Session) -> StationIdentity | None:
    station = session.get(Station, 1)
    if station is None:
        return None
    kecamatan = current_kecamatan(session)
    if kecamatan is None:
        return None
    return StationIdentity(
        station_id=station.station_id,
        name=station.name,
        kecamatan=kecamatan,
        server_url=station.server_url,
        server_public_key=load_sealing_public_key(station.server_key_pem),
        signing_key=_load_signing_key(station.signing_key_pem),
    )


def get_identity(store: Store) -> StationIdentity | None:
    """The station identity, or None before ``init``/``provision``."""
    with store.read() as session:
        return identity_from(session)


def require_identity(store: Store) -> StationIdentity:
    identity = get_identity(store)
    if identity is None:
        raise NotInitialized()
    return identity


def _assign(session: Session, kecamatan: str, set_by: str, reason: str) -> str | None:
    now = utcnow()
    previous = None
    for row in session.execute(select(Assignment).where(Assignment.to_at.is_(None))).scalars():
        previous = row.kecamatan
        row.to_at = now
    session.add(
        Assignment(kecamatan=kecamatan, from_at=now, to_at=None, set_by=set_by, reason=reason)
    )
    return previous


def init_station(
    store: Store,
    *,
    server_key_pem: bytes,
    kecamatan: str,
    name: str,
    station_id: str | None = None,
    server_url: str | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    set_by: str = "init",
) -> StationIdentity:
    """Create the station identity (once). Raises AlreadyInitialized on a second call and
    app.packet.PacketError when the server key file is not an X25519 public key."""
    load_sealing_public_key(server_key_pem)  # validate before writing anything
    key = signing_key or Ed25519PrivateKey.generate()
    sid = station_id or f"st-{uuidlib.uuid4().hex[:12]}"
    with store.write() as session:
        if session.get(Station, 1) is not None:
            raise AlreadyInitialized("this station is already initialized")
        session.add(
            Station(
                id=1,
                station_id=sid,
                name=name,
                server_url=server_url,
                server_key_pem=server_key_pem,
                signing_key_pem=_signing_key_pem(key),
                created_at=utcnow(),
            )
        )
        _assign(session, kecamatan, set_by, "initial assignment")
        record_event(
            session,
            set_by,
            "station.initialized",
            {"station_id": sid, "kecamatan": kecamatan, "server_url": server_url},
        )
        identity = identity_from(session)
    assert identity is not None
    return identity


def set_assignment(store: Store, kecamatan: str, set_by: str, reason: str) -> None:
    """Move the kit to another kecamatan from now on; earlier records keep theirs."""
    with store.write() as session:
        if session.get(Station, 1) is None:
            raise NotInitialized()
        previous = _assign(session, kecamatan, set_by, reason)
        record_event(
            session,
            set_by,
            "station.assigned",
            {"from": previous, "to": kecamatan, "reason": reason},
        )


def update_server(
    store: Store,
    server_url: str | None,
    server_key_pem: bytes,
    station_id: str,
    actor: str = "provision",
) -> None:
    """Point the station at a (new) server: URL, sealing key and the id it gave us."""
    load_sealing_public_key(server_key_pem)
    with store.write() as session:
        station = session.get(Station, 1)
        if station is None:
            raise NotInitialized()
        station.server_url = server_url
        station.server_key_pem = server_key_pem
        station.station_id = station_id
        record_event(
            session,
            actor,
            "station.server_updated",
            {"station_id": station_id, "server_url": server_url},
        )


def assignment_history(store: Store) -> list[Assignment]:
    with store.read() as session:
        return list(session.execute(select(Assignment).order_by(Assignment.id)).scalars())
