"""The station's identity: id, name, server, keys, and its kecamatan assignment history."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.packet import SealingPublicKey, load_sealing_public_key, load_signing_public_key_b64
from app.store import keystore
from app.store.audit import record_event
from app.store.db import Store
from app.store.errors import AlreadyInitialized, NotInitialized
from app.store.models import Assignment, PendingKey, Station
from app.store.timeutil import utcnow


@dataclass(frozen=True)
class StationIdentity:
    station_id: str
    name: str
    kecamatan: str
    server_url: str | None
    server_public_key: SealingPublicKey
    signing_key: Ed25519PrivateKey
    # The key that signs the server's answers; None until learned (provisioned before it).
    server_verify_key: Ed25519PublicKey | None = None


def _home(session: Session) -> Path:
    """The station home of the database this session works on (the key file is there)."""
    database = session.get_bind().engine.url.database
    assert database is not None
    return Path(database).parent


def _signing_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _stored_key(session: Session, key: Ed25519PrivateKey) -> bytes:
    """The signing key as the database keeps it: wrapped (app.store.keystore)."""
    return keystore.wrap(_home(session), _signing_key_pem(key))


def _load_signing_key(session: Session, stored: bytes) -> Ed25519PrivateKey:
    return _parse_signing_key(keystore.unwrap(_home(session), stored))


def _parse_signing_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("stored station key is not Ed25519")
    return key


# Parsed keys by their PEM bytes. The station row is still read on every identity_from (a
# key changed by `provision` is seen at once); only parsing the same PEM again is skipped
# (~35 us for the Ed25519 key per enrollment), and every seal gets the same key objects, so
# app.packet's key-id memo holds. Bounded: cleared when full.
_KEYS: dict[bytes, tuple[SealingPublicKey, Ed25519PrivateKey]] = {}
_KEYS_MAX = 4


def _load_keys(
    session: Session, server_key_pem: bytes, signing_key_pem: bytes
) -> tuple[SealingPublicKey, Ed25519PrivateKey]:
    # Keyed by the home too: the same wrapped bytes unwrap only with that home's key file.
    cache_key = str(_home(session)).encode() + b"\0" + server_key_pem + b"\0" + signing_key_pem
    keys = _KEYS.get(cache_key)
    if keys is None:
        keys = (
            load_sealing_public_key(server_key_pem),
            _load_signing_key(session, signing_key_pem),
        )
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[cache_key] = keys
    return keys


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
    server_public_key, signing_key = _load_keys(
        session, station.server_key_pem, station.signing_key_pem
    )
    return StationIdentity(
        station_id=station.station_id,
        name=station.name,
        kecamatan=kecamatan,
        server_url=station.server_url,
        server_public_key=server_public_key,
        signing_key=signing_key,
        server_verify_key=(
            None
            if not station.server_signing_key
            else load_signing_public_key_b64(station.server_signing_key)
        ),
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


def _assign(
    session: Session, kecamatan: str, set_by: str, reason: str, approved_by: str | None = None
) -> str | None:
    now = utcnow()
    previous = None
    for row in session.execute(select(Assignment).where(Assignment.to_at.is_(None))).scalars():
        previous = row.kecamatan
        row.to_at = now
    session.add(
        Assignment(
            kecamatan=kecamatan,
            from_at=now,
            to_at=None,
            set_by=set_by,
            reason=reason,
            approved_by=approved_by,
        )
    )
    return previous


def pending_signing_key(store: Store) -> Ed25519PrivateKey:
    """The key pair a station with no identity yet registers (``provision``): made and stored
    on the first call, the same one on every later call until ``init_station`` takes it.

    Stored before the code is redeemed, so a retry after a lost reply or a failed save
    registers the key the server already holds. Raises AlreadyInitialized when the station
    has an identity (it registers its own key)."""
    with store.write() as session:
        if session.get(Station, 1) is not None:
            raise AlreadyInitialized("this station is already initialized")
        row = session.get(PendingKey, 1)
        if row is not None:
            return _load_signing_key(session, row.signing_key_pem)
        key = Ed25519PrivateKey.generate()
        session.add(
            PendingKey(id=1, signing_key_pem=_stored_key(session, key), created_at=utcnow())
        )
        return key


def has_pending_key(store: Store) -> bool:
    """A pending key is stored (made by an earlier ``pending_signing_key`` call)."""
    with store.read() as session:
        return session.get(PendingKey, 1) is not None


def discard_pending_key(store: Store, key: Ed25519PrivateKey) -> bool:
    """Forget the pending key ``key`` (a refused code on a fresh home: bound nowhere), in one
    write transaction, only while the station has no identity and the pending key is still
    ``key``. Never removes the database: another process may have opened it meanwhile.
    True when a key was removed."""
    with store.write() as session:
        if session.get(Station, 1) is not None:
            return False
        row = session.get(PendingKey, 1)
        if row is None or _signing_key_pem(
            _load_signing_key(session, row.signing_key_pem)
        ) != _signing_key_pem(key):
            return False
        session.delete(row)
        return True


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
    server_signing_key: str | None = None,
) -> StationIdentity:
    """Create the station identity (once). Raises AlreadyInitialized on a second call and
    app.packet.PacketError when the server key file is not an X25519 public key."""
    load_sealing_public_key(server_key_pem)  # validate before writing anything
    if server_signing_key is not None:
        load_signing_public_key_b64(server_signing_key)
    sid = station_id or f"st-{uuidlib.uuid4().hex[:12]}"
    with store.write() as session:
        if session.get(Station, 1) is not None:
            raise AlreadyInitialized("this station is already initialized")
        # A key a `provision` registered (its identity could not be stored then) is the key
        # the server may hold for this kit: taken rather than a new one, and in the same
        # transaction as the identity, so the key is always in exactly one place.
        pending = session.get(PendingKey, 1)
        if signing_key is not None:
            key = signing_key
        elif pending is not None:
            key = _load_signing_key(session, pending.signing_key_pem)
        else:
            key = Ed25519PrivateKey.generate()
        if pending is not None:
            session.delete(pending)
        session.add(
            Station(
                id=1,
                station_id=sid,
                name=name,
                server_url=server_url,
                server_key_pem=server_key_pem,
                signing_key_pem=_stored_key(session, key),
                created_at=utcnow(),
                server_signing_key=server_signing_key,
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


def set_assignment(
    store: Store,
    kecamatan: str,
    set_by: str,
    reason: str,
    approved_by: str | None = None,
    moved_by: str | None = None,
) -> None:
    """Move the kit to another kecamatan from now on; earlier records keep theirs.

    ``approved_by`` (with ``moved_by``): a move made on the kit with a supervisor's
    approval, reported to the centre on the next sync (app/sync/moves.py)."""
    with store.write() as session:
        if session.get(Station, 1) is None:
            raise NotInitialized()
        # The row names the mover; the audit event, as before, mover and approver together.
        previous = _assign(session, kecamatan, moved_by or set_by, reason, approved_by)
        record_event(
            session,
            set_by,
            "station.assigned",
            {"from": previous, "to": kecamatan, "reason": reason},
        )


def move_kit(
    store: Store,
    kecamatan: str,
    *,
    moved_by: str,
    approver: str,
    approver_password: str,
    reason: str,
) -> None:
    """Move the kit offline: ``moved_by`` (a technician or supervisor, signed in or checked
    by the caller) with the approval of *another* supervisor, whose password is checked
    here, so no caller can let a person approve their own move."""
    from app.store.operators import OperatorError, authorize

    if approver == moved_by:
        raise OperatorError("supervisor", "the approval must come from another supervisor")
    try:
        authorize(store, approver, approver_password, roles=("supervisor",))
    except OperatorError as exc:
        raise OperatorError("supervisor", exc.message) from exc
    set_assignment(
        store,
        kecamatan,
        f"{moved_by} (approved by {approver})",
        reason,
        approved_by=approver,
        moved_by=moved_by,
    )


def update_server(
    store: Store,
    server_url: str | None,
    server_key_pem: bytes,
    station_id: str,
    actor: str = "provision",
    server_signing_key: str | None = None,
) -> None:
    """Point the station at a (new) server: URL, sealing key, the key that signs its
    answers and the id it gave us."""
    load_sealing_public_key(server_key_pem)
    if server_signing_key is not None:
        load_signing_public_key_b64(server_signing_key)
    with store.write() as session:
        station = session.get(Station, 1)
        if station is None:
            raise NotInitialized()
        station.server_url = server_url
        station.server_key_pem = server_key_pem
        station.station_id = station_id
        # The centre's audit acknowledgement was that server's: the new one gets the chain
        # from the start (a server that holds part of it takes those events again).
        station.audit_acked_id = station.audit_acked_hash = station.audit_acked_at = None
        if server_signing_key is not None:  # None: keep the one known
            station.server_signing_key = server_signing_key
        record_event(
            session,
            actor,
            "station.server_updated",
            {"station_id": station_id, "server_url": server_url},
        )


def assignment_history(store: Store) -> list[Assignment]:
    with store.read() as session:
        return list(session.execute(select(Assignment).order_by(Assignment.id)).scalars())


def set_server_signing_key(store: Store, key_b64: str, actor: str) -> None:
    """Store the server's signing key learned after provisioning (app.sync.serverkey);
    audited with the key id."""
    from app.packet import key_id

    public = load_signing_public_key_b64(key_b64)
    with store.write() as session:
        station = session.get(Station, 1)
        if station is None:
            raise NotInitialized()
        station.server_signing_key = key_b64
        record_event(session, actor, "station.server_signing_key", {"key_id": key_id(public)})


def set_server_sealing_key(store: Store, server_key_pem: bytes, actor: str) -> None:
    """Seal to a new key of the same server from now on (it rotated its key: the server
    names it in a signed answer, app.sync.station); audited with both key ids and suites.
    Records sealed before stay sealed to the old key, which the server keeps to open them."""
    from app.packet import key_id, suite_of

    new = load_sealing_public_key(server_key_pem)
    with store.write() as session:
        station = session.get(Station, 1)
        if station is None:
            raise NotInitialized()
        old = load_sealing_public_key(station.server_key_pem)
        station.server_key_pem = server_key_pem
        record_event(
            session,
            actor,
            "station.server_sealing_key",
            {
                "from": {"key_id": key_id(old), "suite": suite_of(old)},
                "to": {"key_id": key_id(new), "suite": suite_of(new)},
            },
        )
