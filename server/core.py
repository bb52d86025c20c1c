"""What the server does, independent of HTTP: stations, enrollment, packets, import.

Both the FastAPI app and the admin CLI call these functions. Every call is one short database
transaction; nothing that matters is kept in process memory, so several processes can serve
one PostgreSQL database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import secrets
import time
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import Connection, RowMapping

from app import packet as pkt
from app import protocol
from server import blobs as blob_store
from server import cluster_key, db, labels, quarantine
from server.keys import load_or_create_signing_key

CODE_TTL_S = 24 * 3600
KECAMATAN_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
STATION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Canonical form only (lower case): an upper-cased uuid was stored as a second packet.
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone


class ServiceError(Exception):
    """A refusal with the HTTP status it maps to and a message for the caller."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            410: "gone",
            413: "too_large",
        }.get(status, "error")


class InputError(ValueError):
    """Bad input to an admin command; the message names the field."""


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_kecamatan(value: str, field: str = "--kecamatan") -> str:
    """The dotted kecamatan code, written dotted or not (the station's parser:
    app.domain.regions.parse_code), or InputError naming ``field``."""
    from app.domain import regions  # lazy: the region table loads on first use

    try:
        # An unknown code is refused (as the station's `init` does): assigning one would
        # hand every record of the station a kecamatan that does not exist.
        return regions.parse_code(value, 3)
    except regions.BadRegionCode as exc:
        raise InputError(f"{field}: {exc}") from exc


def private_home(home: Path) -> None:
    """The server home, mode 0700: it holds the sealing key and, on SQLite, every packet."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077:
        os.chmod(home, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` (if absent) mode 0600, or tighten it: SQLite gives its -wal and -shm
    files the database file's mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def code_hash(code: str) -> str:
    return protocol.code_digest(code)


@dataclass(frozen=True)
class CodeProof:
    """A redemption that does not carry the code (app.protocol): the hint finds the code's
    row, the proof shows the station knows the code, the nonce keys the reply's MAC."""

    hint: str
    proof: str
    nonce: str


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    kecamatan: str
    public_key: str | None
    key_id: str | None
    revoked: bool
    vouched_by: str | None
    row: Mapping[str, Any]
    is_relay: bool = False

    @classmethod
    def from_row(cls, row: RowMapping) -> Station:
        return cls(
            id=row["id"],
            name=row["name"],
            kecamatan=row["kecamatan"],
            public_key=row["public_key"],
            key_id=row["key_id"],
            revoked=row["revoked_at"] is not None,
            vouched_by=row["vouched_by"],
            row=dict(row),
            is_relay=bool(row["is_relay"]),
        )

    def as_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "station_id": self.id,
            "name": self.name,
            "kecamatan": self.kecamatan,
            "state": "revoked"
            if self.revoked
            else ("enrolled" if self.public_key else "awaiting_enrollment"),
            "revoked": self.revoked,
            "key_id": self.key_id,
            "created_at": iso(r["created_at"]),
            "enrolled_at": iso(r["enrolled_at"]),
            "assigned_at": iso(r["assigned_at"]),
            "revoked_at": iso(r["revoked_at"]),
            "vouched_by": self.vouched_by,
            "relay": self.is_relay,
            # Relay side: registration of this station at the upstream.
            "upstream_registered_at": iso(r["upstream_registered_at"]),
            "upstream_error": r["upstream_error"],
        }


# What a receipt is made of, and the columns a new packet's row sets (the rest stay NULL).
RECEIPT_COLUMNS = ("uuid", "sha256", "size", "station_id", "kecamatan", "sealed_at", "received_at")
NEW_PACKET_COLUMNS = (
    *RECEIPT_COLUMNS,
    "data",
    "received_from",
    "verified",
    "fwd_status",
    "fwd_attempts",
    "fwd_next_at",
)


def unstorable_header_field(header: pkt.PacketHeader) -> str | None:
    """Why a header field cannot be stored as it is (too long for its ``packets`` column, or
    holding a NUL character), else None.

    Refused before any write: PostgreSQL would refuse the INSERT (a 500, an import stopped
    halfway) or, through the fast path's casts, cut a long value short; SQLite would store
    it."""
    for name in ("uuid", "station_id", "kecamatan", "sealed_at"):
        value = getattr(header, name)
        limit = db.packets.c[name].type.length  # type: ignore[attr-defined]
        if len(value) > limit:
            return f"packet header {name} is longer than {limit} characters"
        if "\x00" in value:
            return f"packet header {name} holds a NUL character"
    return None


def packet_row(
    uuid: str,
    data: bytes,
    sha256: str,
    header: pkt.PacketHeader,
    *,
    received_from: str,
    verified: bool,
    relay_mode: bool,
    now: float,
) -> dict[str, Any]:
    """The ``packets`` row of a newly received packet (``NEW_PACKET_COLUMNS``)."""
    return {
        "uuid": uuid,
        "sha256": sha256,
        "size": len(data),
        "station_id": header.station_id,
        "kecamatan": header.kecamatan,
        "sealed_at": header.sealed_at,
        "received_at": now,
        "data": data,
        "received_from": received_from,
        "verified": verified,
        "fwd_status": "pending" if relay_mode else None,
        "fwd_attempts": 0,
        "fwd_next_at": now if relay_mode else None,
    }


@dataclass(frozen=True)
class PutResult:
    status: int  # 201 stored now, 200 already held these bytes
    receipt: dict[str, Any]


class ServerCore:
    """One server home + one database. Cheap to share between threads."""

    def __init__(
        self,
        home: Path,
        db_url: str | None = None,
        *,
        max_body: int | None = None,
        sealing_keys: Sequence[str | Path] | None = None,
        blobs: str | None = None,
    ):
        self.home = Path(home)
        private_home(self.home)
        if db_url is None:
            private_file(self.home / "server.db")
        self.db_url = db_url or f"sqlite:///{self.home / 'server.db'}"
        self.engine: Engine = db.make_engine(self.db_url)
        db.migrate(self.engine)
        # The cluster's key, checked against the one the database records (server.cluster_key).
        self.keyring = cluster_key.establish(self.engine, self.home, sealing_keys)
        self.sealing_key = self.keyring.current
        self.own_key_id = self.keyring.current_id
        # Where packet bytes live: this database, or an S3 bucket (server.blobs).
        self.blobs = blob_store.open_store(self.engine, blobs)
        # Every key this cluster opens with, the one in force first (server.cluster_key).
        self.sealing_keys: list[pkt.SealingPrivateKey] = self.keyring.keys
        # Signs every answer to a station (server.answer_signing) and the enrollment reply.
        self.signing_key = load_or_create_signing_key(self.home)
        self.signing_public_b64 = pkt.signing_public_key_b64(self.signing_key.public_key())
        self.signing_key_id = pkt.key_id(self.signing_key.public_key())
        self.max_body = max_body or pkt.MAX_PACKET_BYTES
        self._key_ids: set[str] | None = None
        self._stations_key_id = self.own_key_id
        self._stations_key_pem = ""
        self.server_id = self._meta_get_or_set("server_id", lambda: str(uuidlib.uuid4()))

    def close(self) -> None:
        self.engine.dispose()

    # --- meta -----------------------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        with self.engine.begin() as conn:
            return conn.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()

    def meta_set(self, values: Mapping[str, str]) -> None:
        if "upstream_sealing_key" in values:
            # Only then: another thread may be reading the cache (a relay's pull records
            # its state here while packets arrive).
            self._key_ids = None
        with self.engine.begin() as conn:
            for k, v in values.items():
                conn.execute(delete(db.meta).where(db.meta.c.key == k))
                conn.execute(db.meta.insert().values(key=k, value=v))

    def _meta_get_or_set(self, key: str, make: Any) -> str:
        with self.engine.begin() as conn:
            db.insert_ignore(conn, db.meta, {"key": key, "value": make()})
            value = conn.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()
        assert value is not None
        return str(value)

    # --- the key stations seal to ---------------------------------------------------------

    def sealing_public_key(self) -> pkt.SealingPublicKey:
        """The key stations must seal to: ours, or in relay mode the upstream's."""
        upstream_pem = self.meta_get("upstream_sealing_key")
        if upstream_pem:
            return pkt.load_sealing_public_key(upstream_pem.encode())
        return self.sealing_key.public_key()

    def sealing_public_pem(self) -> bytes:
        return pkt.sealing_public_key_pem(self.sealing_public_key())

    # --- stations -------------------------------------------------------------------------

    def add_station(
        self, name: str, kecamatan: str, ttl_s: float = CODE_TTL_S, *, relay: bool = False
    ) -> tuple[Station, str]:
        """A station awaiting enrollment and its one-time code (only its hash is stored).

        ``relay``: the station is a kecamatan relay and may vouch for stations enrolled at it.
        """
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InputError("--name: give the station a name (1-200 characters)")
        kecamatan = check_kecamatan(kecamatan)
        if ttl_s <= 0:
            raise InputError("--expires-hours: must be positive")
        now = time.time()
        station_id = str(uuidlib.uuid4())
        code = new_code()
        with self.engine.begin() as conn:
            conn.execute(
                db.stations.insert().values(
                    id=station_id,
                    name=name,
                    kecamatan=kecamatan,
                    created_at=now,
                    assigned_at=now,
                    is_relay=relay,
                )
            )
            labels.record_assignment(conn, station_id, kecamatan, now)
            conn.execute(
                db.enrollment_codes.insert().values(
                    code_sha256=code_hash(code),
                    station_id=station_id,
                    created_at=now,
                    expires_at=now + ttl_s,
                )
            )
        return self.get_station(station_id), code

    def new_code_for(self, station_id: str, ttl_s: float = CODE_TTL_S) -> str:
        """A fresh code for an existing station (re-provisioning a reinstalled kit)."""
        st = self.get_station(station_id)
        if st.revoked:
            raise InputError(f"ID: station {station_id} is revoked")
        code = new_code()
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                db.enrollment_codes.insert().values(
                    code_sha256=code_hash(code),
                    station_id=station_id,
                    created_at=now,
                    expires_at=now + ttl_s,
                )
            )
        return code

    def get_station(self, station_id: str, conn: Connection | None = None) -> Station:
        st = self.find_station(station_id, conn)
        if st is None:
            raise InputError(f"ID: no station {station_id!r}")
        return st

    def find_station(self, station_id: str, conn: Connection | None = None) -> Station | None:
        q = select(db.stations).where(db.stations.c.id == station_id)
        if conn is not None:
            row = conn.execute(q).mappings().first()
        else:
            with self.engine.begin() as c:
                row = c.execute(q).mappings().first()
        return Station.from_row(row) if row is not None else None

    def list_stations(self) -> list[Station]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(db.stations).order_by(db.stations.c.created_at)).mappings()
            return [Station.from_row(r) for r in rows]

    def revoke(self, station_id: str, since: float | None = None) -> tuple[Station, list[str], int]:
        """Revoke a station; revoking a relay also revokes every station it vouched for
        (its key may now be in a thief's hands, and it could have vouched for fakes).
        ``since`` (the time of the theft): the packets of these stations, or handed over by
        them, received after it are quarantined (server/quarantine.py).
        Returns the station, the ids revoked with it and how many packets were quarantined."""
        now = time.time()
        if since is not None and since > now:
            raise InputError("--since: the time is in the future")
        c = db.stations.c
        with self.engine.begin() as conn:
            st = self.get_station(station_id, conn)
            conn.execute(
                db.stations.update()
                .where(c.id == station_id, c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            cascaded: list[str] = []
            if st.is_relay:
                cascaded = list(
                    conn.execute(
                        select(c.id).where(c.vouched_by == station_id, c.revoked_at.is_(None))
                    ).scalars()
                )
                if cascaded:
                    conn.execute(
                        db.stations.update().where(c.id.in_(cascaded)).values(revoked_at=now)
                    )
            held = 0
            if since is not None:
                held = quarantine.quarantine_received_since(
                    conn,
                    [station_id, *cascaded],
                    since,
                    f"station {station_id} revoked: its key presumed stolen since {iso(since)}",
                )
        return self.get_station(station_id), cascaded, held

    def mark_relay(self, station_id: str) -> Station:
        """Make an existing station a relay (one provisioned before relays were marked)."""
        with self.engine.begin() as conn:
            st = self.get_station(station_id, conn)
            if st.revoked:
                raise InputError(f"ID: station {station_id} is revoked")
            conn.execute(
                db.stations.update().where(db.stations.c.id == station_id).values(is_relay=True)
            )
        return self.get_station(station_id)

    @staticmethod
    def _record_key(conn: Connection, station_id: str, public_b64: str, kid: str) -> None:
        """Key history: ``kid`` is the station's key from now on; an older one is replaced."""
        now = time.time()
        k = db.station_keys.c
        conn.execute(
            db.station_keys.update()
            .where(k.station_id == station_id, k.key_id != kid, k.replaced_at.is_(None))
            .values(replaced_at=now)
        )
        if not db.insert_ignore(
            conn,
            db.station_keys,
            {"station_id": station_id, "key_id": kid, "public_key": public_b64, "added_at": now},
        ):
            conn.execute(
                db.station_keys.update()
                .where(k.station_id == station_id, k.key_id == kid)
                .values(replaced_at=None)
            )

    def assign(self, station_id: str, kecamatan: str) -> Station:
        kecamatan = check_kecamatan(kecamatan)
        with self.engine.begin() as conn:
            self.get_station(station_id, conn)
            conn.execute(
                db.stations.update()
                .where(db.stations.c.id == station_id)
                .values(kecamatan=kecamatan, assigned_at=(now := time.time()))
            )
            labels.record_assignment(conn, station_id, kecamatan, now)
        return self.get_station(station_id)

    def enroll(
        self, code: str | CodeProof, public_key_b64: str, station_id: str | None = None
    ) -> dict[str, Any]:
        """Redeem a one-time code: bind the station's public key; returns what it needs.

        ``station_id`` is given by a station that was set up offline (``init``): it keeps its
        id and key, and takes over the name and assignment of the station the code was made for.

        Idempotent for the same key: a code already used is answered again, as the first time,
        when the request is a retry of that redemption (the same public key, the same station
        id if one is given, and the station still holds that key and is not revoked); any other
        request for a used code is 401 ``code_used``. So a reply lost on the way (network drop,
        proxy timeout) or a station that could not save it costs the technician nothing.

        ``code`` is a ``CodeProof`` from current stations (the code never travels; the reply
        carries a MAC under the code's key), or the code itself from stations made before.
        """
        try:
            public = pkt.load_signing_public_key_b64(public_key_b64)
        except pkt.PacketError as exc:
            raise ServiceError(400, "public_key: not a base64 Ed25519 public key") from exc
        if station_id is not None and not STATION_ID_RE.match(station_id):
            raise ServiceError(400, "station_id: malformed station id")
        public_b64 = pkt.signing_public_key_b64(public)
        kid = pkt.key_id(public)
        # Everything of the reply that reads the database is read BEFORE the redemption
        # commits: no database access may fail after it (the station would be told an error
        # for a code that is used now, by its key).
        sealing = self.sealing_public_key()
        now = time.time()
        codes = db.enrollment_codes.c
        with self.engine.begin() as conn:
            if isinstance(code, CodeProof):
                code_row = self._proven_code_row(conn, code, public_b64, station_id)
            else:
                code_row = self._code_row(conn, code_hash(code))
            if code_row is None:
                raise ServiceError(401, "enrollment code is not valid", "code_invalid")
            if code_row["used_at"] is None:
                if code_row["expires_at"] < now:
                    raise ServiceError(401, "enrollment code has expired", "code_expired")
                # Single use even under concurrent redemption: only one UPDATE matches (on
                # PostgreSQL a second one waits for the first transaction, then matches none).
                used = conn.execute(
                    db.enrollment_codes.update()
                    .where(codes.code_sha256 == code_row["code_sha256"], codes.used_at.is_(None))
                    .values(used_at=now, used_key_id=kid)
                ).rowcount
                if used == 1:
                    st = self._redeem(conn, code_row, public_b64, kid, station_id, now)
                else:
                    # Another redemption won meanwhile (committed): maybe this key's retry.
                    code_row = self._code_row(conn, code_row["code_sha256"])
                    assert code_row is not None
                    st = self._redeemed_by(conn, code_row, public_b64, kid, station_id)
            else:
                st = self._redeemed_by(conn, code_row, public_b64, kid, station_id)
        reply = self._enrollment_reply(st, sealing)
        if isinstance(code, CodeProof):
            key = protocol.code_key(code_row["code_sha256"])
            reply["mac"] = protocol.enroll_reply_mac(key, code.nonce, public_b64, reply)
        return reply

    @staticmethod
    def _proven_code_row(
        conn: Connection, proof: CodeProof, public_b64: str, station_id: str | None
    ) -> RowMapping | None:
        """The code row the hint names and the proof was made with; None when no code fits
        (a proof made without the code fits none)."""
        hint = proof.hint.lower()
        if len(hint) != protocol.CODE_HINT_LEN or any(c not in "0123456789abcdef" for c in hint):
            raise ServiceError(400, "code_hint: expected 12 hex digits", "bad_request")
        if not (8 <= len(proof.nonce) <= 128):
            raise ServiceError(400, "nonce: expected 8 to 128 characters", "bad_request")
        c = db.enrollment_codes.c
        # A range on the primary key: an index seek on SQLite and PostgreSQL alike.
        rows = (
            conn.execute(
                select(db.enrollment_codes).where(c.code_sha256 >= hint, c.code_sha256 < hint + "g")
            )
            .mappings()
            .all()
        )
        for row in rows:
            key = protocol.code_key(row["code_sha256"])
            expected = protocol.enroll_proof(key, public_b64, station_id, proof.nonce)
            if protocol.mac_equal(expected, proof.proof):
                return row
        return None

    @staticmethod
    def _code_row(conn: Connection, sha256: str) -> RowMapping | None:
        return (
            conn.execute(
                select(db.enrollment_codes).where(db.enrollment_codes.c.code_sha256 == sha256)
            )
            .mappings()
            .first()
        )

    def _redeemed_by(
        self,
        conn: Connection,
        code_row: RowMapping,
        public_b64: str,
        kid: str,
        station_id: str | None,
    ) -> Station:
        """The station a used code was redeemed for, when this request repeats that
        redemption; else 401 ``code_used`` (403 ``revoked`` when the station was revoked)."""
        refused = ServiceError(401, "enrollment code was already used", "code_used")
        # A code used before schema 3 has no used_by / used_key_id: the station it was made
        # for, holding this key now, is the one it was redeemed for.
        bound_id = code_row["used_by"] or code_row["station_id"]
        if code_row["used_key_id"] is not None and code_row["used_key_id"] != kid:
            raise refused
        if station_id is not None and station_id != bound_id:
            raise refused
        st = self.find_station(bound_id, conn)
        if st is None or st.public_key != public_b64:
            # The station has another key since (re-provisioned): the retry is stale.
            raise refused
        if st.revoked:
            raise ServiceError(403, "this station has been revoked", "revoked")
        return st

    def _redeem(
        self,
        conn: Connection,
        code_row: RowMapping,
        public_b64: str,
        kid: str,
        station_id: str | None,
        now: float,
    ) -> Station:
        """Bind the key to the code's station (or to ``station_id``, see enroll); the code
        is marked used by the caller, in the same transaction."""
        target = self.get_station(code_row["station_id"], conn)
        if target.revoked:
            raise ServiceError(403, "this station has been revoked", "revoked")
        values = {
            "public_key": public_b64,
            "key_id": kid,
            "enrolled_at": now,
            "upstream_registered_at": None,
        }
        final_id = station_id or target.id
        self._refuse_key_in_use(conn, public_b64, final_id)
        if station_id and station_id != target.id:
            existing = self.find_station(station_id, conn)
            if existing is not None:
                # A code redeems only its own station: naming another station that this
                # server holds (pending, enrolled, a relay) would bind the caller's key to it
                # and hand it that station's rights (issue 18, item 3).
                raise ServiceError(
                    409,
                    f"station {station_id} is not the station this code was made for: ask "
                    f"the office for a code for station {station_id} "
                    f"(`ektp-server station code {station_id}`)",
                    "station_not_yours",
                )
            # A kit set up offline (`init`) keeps its own new id; what it may do comes from
            # the code's station (a relay's code makes a relay), never from the request.
            conn.execute(
                db.stations.insert().values(
                    id=station_id,
                    name=target.name,
                    kecamatan=target.kecamatan,
                    created_at=target.row["created_at"],
                    assigned_at=now,
                    is_relay=target.is_relay,
                    **values,
                )
            )
            labels.record_assignment(conn, station_id, target.kecamatan, target.row["created_at"])
            if not target.public_key:
                conn.execute(delete(db.stations).where(db.stations.c.id == target.id))
            final_id = station_id
        else:
            conn.execute(db.stations.update().where(db.stations.c.id == target.id).values(**values))
        self._record_key(conn, final_id, public_b64, kid)
        conn.execute(
            db.enrollment_codes.update()
            .where(db.enrollment_codes.c.code_sha256 == code_row["code_sha256"])
            .values(used_by=final_id)
        )
        return self.get_station(final_id, conn)

    @staticmethod
    def _refuse_key_in_use(conn: Connection, public_b64: str, station_id: str) -> None:
        """409 ``key_in_use`` when ``public_b64`` is the current key of a station other than
        ``station_id`` that is not revoked: one station key binds one station. The case: a
        kit whose answer was lost redeems a second code (or two runs on one fresh home each
        redeem one); its first code works again for this key (idempotent, see enroll)."""
        c = db.stations.c
        if conn.dialect.name == "postgresql":
            # Two codes redeemed at once with one key: the second check waits for the first
            # transaction and then sees its station (SQLite: BEGIN IMMEDIATE serializes).
            digest = hashlib.sha256(public_b64.encode()).digest()[:8]
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"),
                {"k": int.from_bytes(digest, "big", signed=True)},
            )
        other = conn.execute(
            select(c.id)
            .where(c.public_key == public_b64, c.id != station_id, c.revoked_at.is_(None))
            .order_by(c.id)
            .limit(1)
        ).scalar()
        if other is not None:
            raise ServiceError(
                409,
                f"this station's key is already registered as station {other}: run provision "
                "again with the code used first (it is answered again for this key), or ask "
                f"for a new code for station {other} (`ektp-server station code {other}`)",
                "key_in_use",
            )

    def _enrollment_reply(self, st: Station, sealing: pkt.SealingPublicKey) -> dict[str, Any]:
        """What a station needs after enrollment (the same for a repeated redemption); no
        database access (see enroll)."""
        return {
            "station_id": st.id,
            "name": st.name,
            "kecamatan": st.kecamatan,
            "server_id": self.server_id,
            "server_key_pem": pkt.sealing_public_key_pem(sealing).decode(),
            "server_key_id": pkt.key_id(sealing),
            # The key that signs every answer to the station from now on.
            "server_signing_key": self.signing_public_b64,
            "server_signing_key_id": self.signing_key_id,
        }

    def server_key_answer(self, station: Station, challenge: str) -> dict[str, Any]:
        """Answer a station that learns this server's signing key (app.protocol): it sealed a
        secret to our sealing key; the MAC under it vouches for the key."""
        try:
            secret = protocol.open_key_challenge(self.sealing_keys, station.id, challenge)
        except protocol.AuthError as exc:
            raise ServiceError(400, str(exc), "bad_challenge") from exc
        return {
            "station_id": station.id,
            "server_signing_key": self.signing_public_b64,
            "server_signing_key_id": self.signing_key_id,
            "mac": protocol.key_answer_mac(secret, station.id, self.signing_public_b64),
        }

    def relay_key_answer(self, relay: Station, station_id: str, challenge: str) -> dict[str, Any]:
        """A relay's station learns the relay's signing key, vouched for by this (central)
        server: the station sealed a secret to our sealing key, the relay passed it on. Only
        for a station this relay registered (vouched for), and the key vouched for is the one
        the relay is registered with here (the key it signs its answers with)."""
        if not relay.is_relay:
            raise ServiceError(
                403, f"station {relay.id} is not a relay: it has no stations", "not_a_relay"
            )
        st = self.find_station(station_id)
        if st is None or st.vouched_by != relay.id:
            raise ServiceError(
                403,
                f"station {station_id} is not registered here by relay {relay.id}",
                "not_your_station",
            )
        if st.revoked:
            raise ServiceError(403, f"station {station_id} has been revoked", "station_revoked")
        assert relay.public_key is not None  # authenticated: it has a key
        try:
            secret = protocol.open_key_challenge(self.sealing_keys, station_id, challenge)
        except protocol.AuthError as exc:
            raise ServiceError(400, str(exc), "bad_challenge") from exc
        return {
            "station_id": station_id,
            "server_signing_key": relay.public_key,
            "server_signing_key_id": relay.key_id,
            "mac": protocol.key_answer_mac(secret, station_id, relay.public_key),
        }

    def register_vouched(self, relay: Station, body: Mapping[str, Any]) -> dict[str, Any]:
        """A relay registers a station enrolled at it; the relay may then upload its packets."""
        try:
            station_id = str(body["station_id"])
            name = str(body.get("name") or station_id)
            kecamatan = str(body["kecamatan"])
            public_b64 = str(body["public_key"])
            public = pkt.load_signing_public_key_b64(public_b64)
        except (KeyError, TypeError, pkt.PacketError) as exc:
            raise ServiceError(400, f"station registration is malformed: {exc}") from exc
        if not STATION_ID_RE.match(station_id) or not KECAMATAN_RE.match(kecamatan):
            raise ServiceError(400, "station_id or kecamatan is malformed")
        if not relay.is_relay:
            raise ServiceError(
                403,
                f"station {relay.id} is not a relay: only a relay added with "
                "`ektp-server station add --relay` may register stations",
                "not_a_relay",
            )
        public_b64 = pkt.signing_public_key_b64(public)
        kid = pkt.key_id(public)
        now = time.time()
        c = db.stations.c
        with self.engine.begin() as conn:
            existing = self.find_station(station_id, conn)
            if existing is None:
                conn.execute(
                    db.stations.insert().values(
                        id=station_id,
                        name=name,
                        kecamatan=kecamatan,
                        public_key=public_b64,
                        key_id=kid,
                        created_at=now,
                        enrolled_at=now,
                        assigned_at=now,
                        vouched_by=relay.id,
                    )
                )
                self._record_key(conn, station_id, public_b64, kid)
                # The relay vouches for the kecamatan its kit sealed with, also before the
                # registration reached this server (server/labels.py).
                labels.record_assignment(conn, station_id, kecamatan, 0.0)
            elif existing.revoked:
                raise ServiceError(
                    403, f"station {station_id} has been revoked here", "station_revoked"
                )
            elif existing.public_key == public_b64:
                # Same key: the same kit, perhaps moved here from another relay (or enrolled
                # directly before). Nothing changes: any relay may forward an enrolled kit's
                # packets. It stays with whoever registered it first; handing it over would
                # let any relay (a public key is no secret) take a station and then, as its
                # new owner, replace its key below. The kecamatan it seals with at this relay
                # is vouched for from now on (server/labels.py).
                labels.record_assignment(conn, station_id, kecamatan, now)
            elif existing.vouched_by == relay.id:
                # This relay's own station re-enrolled there with a fresh key (a reinstalled
                # PC): the new key replaces the old one, which still verifies older packets.
                conn.execute(
                    db.stations.update()
                    .where(c.id == station_id)
                    .values(public_key=public_b64, key_id=kid, enrolled_at=now)
                )
                self._record_key(conn, station_id, public_b64, kid)
            elif existing.vouched_by is not None:
                raise ServiceError(
                    409,
                    f"station {station_id} belongs to another relay and is registered with "
                    "another key: the central office must re-register the kit",
                    "station_conflict",
                )
            else:
                raise ServiceError(
                    409, f"station {station_id} is registered with another key", "station_conflict"
                )
            st = self.get_station(station_id, conn)
        return st.as_json()

    def relay_stations(self, relay: Station) -> dict[str, Any]:
        """What the central office decided about the stations ``relay`` vouched for.

        A relay pulls this (``GET /api/v1/relay/stations``) to learn assignment changes and
        revocations made here: its stations ask the relay, not this server, for their
        assignment. Only the stations whose registration this relay made (``vouched_by``);
        a kit another relay registered, or one enrolled here directly, is not listed.
        """
        if not relay.is_relay:
            raise ServiceError(
                403,
                f"station {relay.id} is not a relay: only a relay added with "
                "`ektp-server station add --relay` has stations to pull",
                "not_a_relay",
            )
        c = db.stations.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(c.id, c.kecamatan, c.assigned_at, c.revoked_at)
                .where(c.vouched_by == relay.id)
                .order_by(c.id)
            ).all()
        return {
            "relay_station_id": relay.id,
            "server_id": self.server_id,
            "stations": [
                {
                    "station_id": sid,
                    "kecamatan": kecamatan,
                    "assigned_at": iso(assigned_at),
                    "revoked": revoked_at is not None,
                    "revoked_at": iso(revoked_at),
                }
                for sid, kecamatan, assigned_at, revoked_at in rows
            ],
        }

    # --- request authentication -----------------------------------------------------------

    def authenticate(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        allow_revoked: bool = False,
        conn: Connection | None = None,
    ) -> Station:
        """The station that signed this request, or ServiceError 401/403. Records the nonce."""
        with self._tx(conn) as conn:
            st, nonce = self._check_signed(method, path, headers, body, allow_revoked, conn)
            self._record_nonce(conn, st.id, nonce)
        return st

    def _check_signed(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        allow_revoked: bool,
        conn: Connection,
    ) -> tuple[Station, str]:
        """Signature, station and revocation checks; returns the station and the nonce
        (not yet recorded)."""
        try:
            claimed = protocol.station_of(headers)
        except protocol.AuthError as exc:
            raise ServiceError(401, str(exc), exc.reason) from exc
        st = self.find_station(claimed, conn)
        if st is None or not st.public_key:
            raise ServiceError(401, f"unknown station {claimed!r}", "unknown_station")
        try:
            signed = protocol.verify_request(
                method, path, headers, body, pkt.load_signing_public_key_b64(st.public_key)
            )
        except protocol.AuthError as exc:
            raise ServiceError(401, str(exc), exc.reason) from exc
        if st.revoked and not allow_revoked:
            raise ServiceError(403, "this station has been revoked", "revoked")
        return st, signed.nonce

    def _record_nonce(self, conn: Connection, station_id: str, nonce: str) -> None:
        now = time.time()
        fresh = db.insert_ignore(
            conn, db.nonces, {"station_id": station_id, "nonce": nonce, "seen_at": now}
        )
        if not fresh:
            raise ServiceError(401, "replayed request (nonce already used)", "replay")
        self._nonce_housekeeping(conn, now)

    @staticmethod
    def _nonce_housekeeping(conn: Connection, now: float) -> None:
        if random.random() < 0.01:  # stateless housekeeping, ~1 request in 100
            conn.execute(
                delete(db.nonces).where(
                    db.nonces.c.seen_at < now - 2 * protocol.MAX_CLOCK_SKEW_S - 60
                )
            )

    def _tx(self, conn: Connection | None) -> Any:
        """The caller's transaction, or a new one."""
        return nullcontext(conn) if conn is not None else self.engine.begin()

    def receive_packet(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        uuid: str,
        body: bytes,
        relay_mode: bool = False,
    ) -> PutResult:
        """A station's signed PUT: authentication, checks and the insert in ONE transaction
        (one commit per packet). On PostgreSQL, ``server.ingest`` answers the requests that
        pass every check with one statement and hands the rest to this function."""
        if len(body) > self.max_body:
            raise ServiceError(413, f"packet is larger than {self.max_body} bytes")
        # Outside the transaction: on SQLite a second connection would wait on our own lock.
        self.accepted_key_ids()
        with self.engine.begin() as conn:
            sender, nonce = self._check_signed(method, path, headers, body, False, conn)
            self._record_nonce(conn, sender.id, nonce)
            return self.store_packet(
                uuid, body, sender=sender, received_from=sender.id, relay_mode=relay_mode, conn=conn
            )

    # --- packets --------------------------------------------------------------------------

    def receipt(self, row: Any) -> dict[str, Any]:
        return {
            "uuid": row["uuid"],
            "sha256": row["sha256"],
            "size": row["size"],
            "station": row["station_id"],
            "kecamatan": row["kecamatan"],
            "sealed_at": row["sealed_at"],
            "received_at": iso(row["received_at"]),
            "server_id": self.server_id,
        }

    def accepted_key_ids(self) -> set[str]:
        # Read once per process: the upstream key changes only with `relay provision`,
        # after which the relay's server processes are restarted (docs/server.md).
        # A relay accepts only the upstream's key, the one it hands its stations: a packet
        # sealed to the relay's own key could never be opened by the central server.
        if self._key_ids is None:
            upstream = self.meta_get("upstream_sealing_key")
            given = (
                pkt.load_sealing_public_key(upstream.encode())
                if upstream
                else self.sealing_key.public_key()
            )
            self._stations_key_id = pkt.key_id(given)
            self._stations_key_pem = pkt.sealing_public_key_pem(given).decode()
            if upstream:
                self._key_ids = {self._stations_key_id}
            else:
                # Earlier cluster keys kept after a rotation: stations provisioned before it
                # still seal to them (server.cluster_key).
                self._key_ids = set(self.keyring.by_id)
        return self._key_ids

    def stations_key_pem(self) -> str:
        """The key (PEM) stations seal to, read once with ``accepted_key_ids``."""
        self.accepted_key_ids()
        return self._stations_key_pem

    def stations_key_id(self) -> str:
        """The key id this server's stations seal to: the upstream's on a relay, else its own."""
        self.accepted_key_ids()  # read once, with it
        return self._stations_key_id

    def store_packet(
        self,
        uuid: str,
        data: bytes,
        *,
        sender: Station | None,
        received_from: str,
        relay_mode: bool = False,
        conn: Connection | None = None,
    ) -> PutResult:
        """Check and durably store one packet (idempotent on uuid + bytes).

        ``sender`` is the authenticated uploader (None for a file import, where the packet's
        own signature is checked when its station is known).
        """
        if len(data) > self.max_body:
            raise ServiceError(413, f"packet is larger than {self.max_body} bytes")
        if not UUID_RE.match(uuid):
            raise ServiceError(400, "uuid: not a UUID")
        try:
            header = pkt.read_header(data)
        except pkt.PacketError as exc:
            raise ServiceError(400, f"not a valid packet: {exc}") from exc
        if header.uuid != uuid:
            raise ServiceError(400, "packet uuid does not match the URL")
        unstorable = unstorable_header_field(header)
        if unstorable is not None:
            raise ServiceError(400, unstorable)
        if header.server_key_id not in self.accepted_key_ids():
            raise ServiceError(
                400,
                f"packet is sealed to key {header.server_key_id}, not to the key this server "
                f"hands its stations ({', '.join(sorted(self.accepted_key_ids()))})",
                "wrong_server_key",
            )
        sha = hashlib.sha256(data).hexdigest()
        with self._tx(conn) as conn:
            # The usual case (a station uploads its own packet) needs no second lookup.
            if sender is not None and header.station_id == sender.id:
                origin: Station | None = sender
            else:
                origin = self.find_station(header.station_id, conn)
            verified = False
            if sender is not None:
                # Only a relay may hand over another station's packets (the packet's own
                # signature, checked below, proves where it was made).
                if header.station_id != sender.id and not sender.is_relay:
                    raise ServiceError(403, "packet belongs to another station", "foreign_station")
                if origin is None or not origin.public_key:
                    raise ServiceError(403, "packet's station is not enrolled", "unknown_station")
                if origin.revoked:
                    raise ServiceError(
                        403, "the packet's station has been revoked", "station_revoked"
                    )
                from server.cards import refuse_verifier

                refuse_verifier(conn, origin)  # a card-check station records nothing
            elif origin is not None and origin.revoked:
                # An import: a revoked station's key may be in other hands, so nothing signed
                # with it is trusted (docs/server.md).
                raise ServiceError(
                    403,
                    f"station {origin.id} has been revoked: its packets are refused",
                    "station_revoked",
                )
            if origin is not None and origin.public_key:
                public_b64 = origin.public_key
                if header.station_key_id != origin.key_id:
                    public_b64 = self._older_key(conn, origin, header)
                try:
                    pkt.verify(data, pkt.load_signing_public_key_b64(public_b64))
                except pkt.PacketError as exc:
                    raise ServiceError(400, f"packet signature: {exc}", "bad_signature") from exc
                verified = True
            # The labels of a packet whose signature checked out (or of an unknown station's
            # import): a forgery gets its signature's reason first (server/labels.py).
            held_for_review = None
            try:
                sealed = labels.check_plain(header, time.time())
                if origin is not None and origin.public_key:
                    held_for_review = labels.check_station(conn, header, origin.id, sealed)
            except labels.LabelError as exc:
                raise ServiceError(400, exc.message, exc.reason) from exc
            now = time.time()
            values = packet_row(
                uuid,
                data,
                sha,
                header,
                received_from=received_from,
                verified=verified,
                relay_mode=relay_mode,
                now=now,
            )
            # In the bucket before the row commits (server.blobs): never a row without bytes.
            values["data"] = self.blobs.stored(blob_store.Ref(header.station_id, uuid, sha), data)
            if held_for_review is not None:
                values["review"] = quarantine.QUARANTINED
                values["review_reason"] = held_for_review
            inserted = db.insert_ignore(conn, db.packets, values)
            row: Mapping[str, Any] = {k: values[k] for k in RECEIPT_COLUMNS}
            if not inserted:
                p = db.packets.c
                held = dict(
                    conn.execute(
                        select(*(p[k] for k in RECEIPT_COLUMNS), p.verified).where(
                            p.station_id == header.station_id, p.uuid == uuid
                        )
                    )
                    .mappings()
                    .one()
                )
                row = held
                if held["sha256"] != sha and verified and not held["verified"]:
                    # An unverified import (a file of a station unknown then: anyone can
                    # make one) never blocks the record its station really signed.
                    conn.execute(
                        db.packets.update()
                        .where(p.station_id == header.station_id, p.uuid == uuid)
                        .values(**{k: v for k, v in values.items() if k not in ("uuid",)})
                    )
                    row, inserted = {k: values[k] for k in RECEIPT_COLUMNS}, True
        if row["sha256"] != sha:
            raise ServiceError(409, f"packet {uuid} already exists with different bytes")
        return PutResult(201 if inserted else 200, self.receipt(row))

    @staticmethod
    def _older_key(conn: Connection, origin: Station, header: pkt.PacketHeader) -> str:
        """The replaced key a packet names, if it was sealed before the replacement."""
        k = db.station_keys.c
        row = conn.execute(
            select(k.public_key, k.replaced_at).where(
                k.station_id == origin.id, k.key_id == header.station_key_id
            )
        ).first()
        if row is None:
            raise ServiceError(
                400,
                f"packet is signed with key {header.station_key_id}, which station "
                f"{origin.id} never had here",
                "bad_signature",
            )
        public_b64, replaced_at = row
        if replaced_at is not None:
            try:
                when = datetime.fromisoformat(header.sealed_at)
                sealed = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
            except ValueError as exc:
                raise ServiceError(400, "packet sealed_at is not a timestamp") from exc
            if sealed > replaced_at:
                raise ServiceError(
                    400,
                    f"packet was sealed at {header.sealed_at}, after key "
                    f"{header.station_key_id} of station {origin.id} was replaced",
                    "key_replaced",
                )
        return str(public_b64)

    def packet_status(self, uuid: str, asker: Station | None = None) -> dict[str, Any]:
        """A packet's receipt for ``asker``: its own packet of that uuid, else one it handed
        over or whose station it vouched for (a uuid is unique per station only)."""
        with self.engine.begin() as conn:
            rows = (
                conn.execute(
                    select(db.packets.c.uuid, *self._list_columns())
                    .where(db.packets.c.uuid == uuid)
                    .order_by(db.packets.c.received_at)
                )
                .mappings()
                .all()
            )
            found = None
            for candidate in sorted(
                rows, key=lambda r: asker is None or r["station_id"] != asker.id
            ):
                if asker is None or candidate["station_id"] == asker.id:
                    found = candidate
                    break
                origin = self.find_station(candidate["station_id"], conn)
                forwarded = candidate["received_from"] == asker.id and asker.is_relay
                if forwarded or (origin is not None and origin.vouched_by == asker.id):
                    found = candidate
                    break
            if found is None:
                raise ServiceError(404, f"no packet {uuid}")
            row = found
        out = self.receipt(row)
        out["forward"] = row["fwd_status"]
        return out

    @staticmethod
    def _list_columns() -> list[Any]:
        c = db.packets.c
        return [
            c.sha256,
            c.size,
            c.station_id,
            c.kecamatan,
            c.sealed_at,
            c.received_at,
            c.received_from,
            c.verified,
            c.fwd_status,
            c.fwd_error,
            c.review,
            c.review_reason,
            c.reviewed_by,
            c.reviewed_at,
        ]

    def list_packets(self) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            head = func.substr(db.packets.c.data, 1, pkt.HEADER_PREFIX_BYTES).label("head")
            rows = conn.execute(
                select(db.packets.c.uuid, *self._list_columns(), head).order_by(
                    db.packets.c.received_at, db.packets.c.station_id, db.packets.c.uuid
                )
            ).mappings()
            out = []
            for r in rows:
                d = self.receipt(r)
                d["received_from"] = r["received_from"]
                d["verified"] = bool(r["verified"])
                # The HPKE suite the packet names (hybrid ML-KEM-768 + X25519, or X25519).
                header = pkt.header_from_prefix(bytes(r["head"] or b""))
                d["suite"] = header.suite if header is not None else None
                # quarantine state (server/quarantine.py); null when never quarantined
                d.update(quarantine.review_fields(r))
                if r["fwd_status"] is not None:
                    d["forward"] = r["fwd_status"]
                    if r["fwd_status"] in ("held", "rejected"):
                        d["forward_error"] = r["fwd_error"]
                out.append(d)
            return out

    def count_packets(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(db.packets)).scalar() or 0)

    def packet_bytes(self, uuid: str, station_id: str | None = None) -> bytes:
        """One packet's bytes; ``station_id`` is needed only when several stations hold
        packets with this uuid (it is unique per station)."""
        c = db.packets.c
        cond = [c.uuid == uuid] + ([c.station_id == station_id] if station_id else [])
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.station_id, c.data, c.sha256).where(*cond)).all()
        if not rows:
            where = f" of station {station_id}" if station_id else ""
            raise InputError(f"UUID: no packet {uuid}{where}")
        if len(rows) > 1:
            ids = ", ".join(sorted(r[0] for r in rows))
            raise InputError(f"UUID: stations {ids} each hold a packet {uuid}: give --station")
        sid, data, sha = rows[0]
        return self.blobs.read(blob_store.Ref(sid, uuid, sha), data)

    def open_packet(self, uuid: str, station_id: str | None = None) -> pkt.OpenedPacket:
        data = self.packet_bytes(uuid, station_id)
        header = pkt.read_header(data)
        st = self.find_station(header.station_id)
        public = pkt.load_signing_public_key_b64(st.public_key) if st and st.public_key else None
        return pkt.open_packet(data, self.sealing_keys, public)

    def import_dir(self, directory: Path) -> dict[str, Any]:
        """Import ``*.ektp`` files from a station's export (same idempotence as PUT)."""
        files = sorted(directory.glob("*.ektp"))
        result: dict[str, Any] = {
            "imported": 0,
            "duplicates": 0,
            "unverified": 0,
            "rejected": [],
        }
        relay = self.meta_get("upstream_url") is not None
        for f in files:
            try:
                if not f.is_file():
                    raise pkt.PacketError("not a file")
                if f.stat().st_size > self.max_body:
                    raise pkt.PacketError(f"larger than {self.max_body} bytes")
                data = f.read_bytes()
                header = pkt.read_header(data)
                res = self.store_packet(
                    header.uuid, data, sender=None, received_from="import", relay_mode=relay
                )
            except (pkt.PacketError, ServiceError, OSError) as exc:
                result["rejected"].append({"file": f.name, "reason": str(exc)})
                continue
            if res.status == 201:
                result["imported"] += 1
                st = self.find_station(header.station_id)
                if st is None or not st.public_key:
                    result["unverified"] += 1
            else:
                result["duplicates"] += 1
        result["files"] = len(files)
        return result


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True)
