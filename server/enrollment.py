"""Enrollment: a station redeems its one-time code and binds its key; a station learns the
server's signing key."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, RowMapping

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server import db, labels
from server.errors import ServiceError
from server.stations import STATION_ID_RE, Station, Stations, code_hash


@dataclass(frozen=True)
class CodeProof:
    """A redemption that does not carry the code (app.protocol): the hint finds the code's
    row, the proof shows the station knows the code, the nonce keys the reply's MAC."""

    hint: str
    proof: str
    nonce: str


class Enrollment(Stations):
    """Redeeming codes (``enroll``) and the server key answer."""

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
                raise ServiceError(401, "enrollment code is not valid", Reason.CODE_INVALID)
            if code_row["used_at"] is None:
                if code_row["expires_at"] < now:
                    raise ServiceError(401, "enrollment code has expired", Reason.CODE_EXPIRED)
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
            raise ServiceError(400, "code_hint: expected 12 hex digits", Reason.BAD_REQUEST)
        if not (8 <= len(proof.nonce) <= 128):
            raise ServiceError(400, "nonce: expected 8 to 128 characters", Reason.BAD_REQUEST)
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
        refused = ServiceError(401, "enrollment code was already used", Reason.CODE_USED)
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
            raise ServiceError(403, "this station has been revoked", Reason.REVOKED)
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
            raise ServiceError(403, "this station has been revoked", Reason.REVOKED)
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
                    Reason.STATION_NOT_YOURS,
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
                Reason.KEY_IN_USE,
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
            raise ServiceError(400, str(exc), Reason.BAD_CHALLENGE) from exc
        return {
            "station_id": station.id,
            "server_signing_key": self.signing_public_b64,
            "server_signing_key_id": self.signing_key_id,
            "mac": protocol.key_answer_mac(secret, station.id, self.signing_public_b64),
        }
