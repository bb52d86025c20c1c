"""Stations: provisioning with one-time codes, assignment, revocation, relays, key history."""

from __future__ import annotations

import re
import secrets
import time
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from app import protocol
from server import db, labels, quarantine
from server.errors import InputError
from server.home import ServerHome
from server.timeutil import iso

CODE_TTL_S = 24 * 3600
KECAMATAN_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
STATION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone


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


def new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def code_hash(code: str) -> str:
    return protocol.code_digest(code)


def _insert_code(conn: Connection, station_id: str, now: float, ttl_s: float) -> str:
    """A new one-time code for ``station_id``, valid ``ttl_s`` seconds (only its hash is
    stored); returns the code."""
    code = new_code()
    conn.execute(
        db.enrollment_codes.insert().values(
            code_sha256=code_hash(code), station_id=station_id, created_at=now,
            expires_at=now + ttl_s,
        )
    )  # fmt: skip
    return code


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


class Stations(ServerHome):
    """The stations table and its admin commands."""

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
            code = _insert_code(conn, station_id, now, ttl_s)
        return self.get_station(station_id), code

    def new_code_for(self, station_id: str, ttl_s: float = CODE_TTL_S) -> str:
        """A fresh code for an existing station (re-provisioning a reinstalled kit)."""
        st = self.get_station(station_id)
        if st.revoked:
            raise InputError(f"ID: station {station_id} is revoked")
        with self.engine.begin() as conn:
            return _insert_code(conn, station_id, time.time(), ttl_s)

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
