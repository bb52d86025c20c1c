"""The station's tables (schema head; migrations in ``migrations/versions`` build them).

Nothing here holds personal data in clear: biodata and photos exist only inside
``Record.packet``, which is HPKE ciphertext to the server key. Operator usernames are staff
accounts, not residents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.store.timeutil import UTCDateTime

RECORD_STATUSES = ("sealed", "uploaded", "rejected", "purged")
ROLES = ("operator", "supervisor", "technician")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Station(Base):
    """The one station identity (row id is always 1)."""

    __tablename__ = "station"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    server_url: Mapped[str | None] = mapped_column(String(500))
    server_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    # The station's own Ed25519 key (PKCS#8 PEM). It only signs; it cannot open packets.
    signing_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Schema 0005: the server's Ed25519 public key (base64, raw) that signs its answers;
    # NULL on a station provisioned before, until it has learned it (app.sync.serverkey).
    server_signing_key: Mapped[str | None] = mapped_column(String(64))
    # Schema 0009: the last audit event the centre acknowledged (app/sync/audit_upload.py);
    # ``doctor`` checks the local chain still holds it.
    audit_acked_id: Mapped[int | None] = mapped_column(Integer)
    audit_acked_hash: Mapped[str | None] = mapped_column(String(64))
    audit_acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingKey(Base):
    """The key pair a station with no identity yet registers with a one-time code (row id
    1). Kept until ``init_station`` stores the identity: a retry of ``provision`` (the reply
    was lost, or the identity could not be stored) must register the same key."""

    __tablename__ = "pending_key"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signing_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Assignment(Base):
    """Kecamatan assignment history; the open row (``to_at`` null) is in force."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kecamatan: Mapped[str] = mapped_column(String(16))
    from_at: Mapped[datetime] = mapped_column(UTCDateTime())
    to_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    # Schema 0009, a move made offline: the supervisor who approved it (``set_by`` moved the
    # kit), when it was reported to the centre and what the centre decided
    # (app/sync/moves.py).
    approved_by: Mapped[str | None] = mapped_column(String(100))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    central_outcome: Mapped[str | None] = mapped_column(String(500))


class Operator(Base):
    __tablename__ = "operator"
    __table_args__ = (
        CheckConstraint("role IN ('operator', 'supervisor', 'technician')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    card_uid: Mapped[str | None] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Schema 0006: failed sign-ins in a row (card or password); locked from ``locked_at``
    # until a supervisor or technician unlocks the account.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Schema 0010: when the last failed sign-in was; the next try waits a delay that doubles
    # with each failure in a row (app.store.operators.retry_delay).
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Record(Base):
    """One sealed enrollment in the outbox. ``seq`` orders the outbox (oldest first)."""

    __tablename__ = "record"
    __table_args__ = (
        CheckConstraint("status IN ('sealed', 'uploaded', 'rejected', 'purged')", name="status"),
        CheckConstraint("(status = 'purged') = (packet IS NULL)", name="payload"),
        # Covers the status counts and the unsent/unexported figures (seq is the rowid).
        Index("ix_record_status_exported_at_size", "status", "exported_at", "size"),
        Index("ix_record_status_next_attempt_at_seq", "status", "next_attempt_at", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    packet: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    kecamatan: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)  # JSON from the server
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Last copied to removable media (``export``): then it no longer counts as falling behind.
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sealed as a re-recording of this earlier record (``rerecord_of`` in the manifest).
    rerecord_of: Mapped[str | None] = mapped_column(String(36))


class RecordFate(Base):
    """Schema 0008 (app/store/fates.py): what the centre made of a record. A row of its own,
    not columns of ``record``: SQLite rewrites a whole row on UPDATE, the packet blob too, so
    a fate written on the record row would copy its ~60 KB payload again.

    ``fate`` is one of app.fates.FATES (one way: ``received``, then one terminal fate); a
    reason code, never personal data."""

    __tablename__ = "record_fate"
    __table_args__ = (Index("ix_record_fate_fate", "fate"),)

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    fate: Mapped[str] = mapped_column(String(16))
    fate_reason: Mapped[str | None] = mapped_column(String(64))
    fate_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duplicate_of: Mapped[str | None] = mapped_column(String(36))
    # A supervisor marked "warga sudah dihubungi" (audited): the resident was told to come back.
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contacted_by: Mapped[str | None] = mapped_column(String(64))


class FateCursor(Base):
    """The centre's fate sequence as far as this station applied it (row id 1), and the last
    refusal of a page (a gap, an unknown record), shown by ``status``."""

    __tablename__ = "fate_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only, hash-chained: ``hash = SHA-256(prev_hash + canonical event)``."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, no personal data
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Setting(Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


__all__ = [
    "Assignment",
    "AuditEvent",
    "Base",
    "FateCursor",
    "RecordFate",
    "Operator",
    "PendingKey",
    "Record",
    "Setting",
    "Station",
]
