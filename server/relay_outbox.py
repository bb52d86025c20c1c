"""The relay's outbox: the packets table read as a station's outbox, so that the station's
SyncEngine forwards them (retry, backoff, receipts as on a station); packets the upstream refuses
for their station held aside until the station's registration succeeds."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select

from app.protocol import Reason
from server import db
from server.core import ServerCore

log = logging.getLogger(__name__)


# 403 reasons of the upstream that refuse a forwarded packet for its station, not the relay.
HOLD_REASONS = frozenset({Reason.FOREIGN_STATION, Reason.UNKNOWN_STATION, Reason.STATION_REVOKED})


@dataclass(frozen=True)
class RelayItem:
    uuid: str
    data: bytes
    sha256: str
    size: int
    attempts: int
    sealed_at: str


class RelayOutbox:
    """The Outbox interface over the relay's packets table (fwd_* columns)."""

    def __init__(self, core: ServerCore) -> None:
        self.core = core
        # A uuid is unique per station only (schema 4): the engine names a packet by its
        # uuid, so each uuid handed out is mapped to its station for the mark_* calls, and
        # a batch holds one packet per uuid (another station's packet with the same uuid
        # goes in a later drain).
        self._station_of: dict[str, str] = {}

    def due(self, now: datetime, limit: int) -> list[RelayItem]:
        c = db.packets.c
        s = db.stations.c
        # Not the packets of a station enrolled here that is not registered upstream (yet, or
        # again: a kit re-enrolled with a new key; or refused there): the upstream would
        # refuse them, for good when it holds the station with an older key (400
        # bad_signature). They wait for register_stations (held when it is refused).
        unregistered = exists().where(
            s.id == c.station_id, s.public_key.is_not(None), s.upstream_registered_at.is_(None)
        )
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.data, c.sha256, c.size, c.fwd_attempts, c.sealed_at, c.station_id)
                .where(
                    and_(c.fwd_status == "pending", c.fwd_next_at <= now.timestamp()),
                    ~unregistered,
                )
                .order_by(c.received_at, c.station_id, c.uuid)
                .limit(limit)
            ).all()
        if len(self._station_of) > 100_000:
            self._station_of.clear()
        items: dict[str, RelayItem] = {}
        for r in rows:
            if r[0] not in items:
                items[r[0]] = RelayItem(r[0], bytes(r[1]), r[2], r[3], r[4], r[5])
                self._station_of[r[0]] = r[6]
        return list(items.values())

    def _where(self, uuid: str) -> list[Any]:
        station_id = self._station_of.get(uuid)
        c = db.packets.c
        return [c.uuid == uuid] + ([c.station_id == station_id] if station_id else [])

    def _update(self, uuid: str, **values: Any) -> None:
        with self.core.engine.begin() as conn:
            conn.execute(db.packets.update().where(*self._where(uuid)).values(**values))

    def mark_uploaded(self, uuid: str, receipt: dict[str, Any]) -> None:
        self._update(uuid, fwd_status="uploaded", fwd_receipt=json.dumps(receipt), fwd_error=None)

    def mark_retry(self, uuid: str, error: str, next_attempt_at: datetime) -> None:
        self._update(
            uuid,
            fwd_attempts=db.packets.c.fwd_attempts + 1,
            fwd_error=error,
            fwd_next_at=next_attempt_at.timestamp(),
        )

    def mark_rejected(self, uuid: str, reason: str) -> None:
        self._update(uuid, fwd_status="rejected", fwd_error=reason)

    def mark_held(self, uuid: str, reason: str) -> None:
        """The upstream refused this packet for its station: parked until released.

        When the reason is that the central office revoked the station (a stolen kit), the
        relay revokes it too: the kit's next upload here is refused with "revoked", as it
        would be at the central server, instead of getting receipts for records that can
        never arrive. Its packets already here stay held."""
        log.warning("packet %s held: the upstream refused it (%s)", uuid, reason)
        # What follows from the refusal is written before the packet is parked: a kill -9 in
        # between leaves the packet queued (sent again, refused again), never parked with
        # nothing that would ever release it.
        self._after_refusal(uuid, reason.split(":", 1)[0])
        self._update(uuid, fwd_status="held", fwd_error=reason)

    def _after_refusal(self, uuid: str, word: str) -> None:
        if word not in (Reason.STATION_REVOKED, Reason.UNKNOWN_STATION):
            return
        with self.core.engine.begin() as conn:
            station_id = conn.execute(
                select(db.packets.c.station_id).where(*self._where(uuid)).limit(1)
            ).scalar_one_or_none()
        if station_id is None:
            return
        if word == Reason.STATION_REVOKED:
            revoke_here(self.core, station_id, f"a forwarded packet ({uuid}) was refused")
            return
        # The upstream does not know a station registered from here (its database restored
        # from an older backup): register it again (register_stations), which puts its held
        # packets back in the queue; until then its packets wait (due). Only `relay requeue`
        # would otherwise send them, to be refused the same way.
        s = db.stations.c
        with self.core.engine.begin() as conn:
            again = conn.execute(
                db.stations.update()
                .where(
                    s.id == station_id,
                    s.public_key.is_not(None),
                    s.upstream_registered_at.is_not(None),
                )
                .values(upstream_registered_at=None)
            ).rowcount
        if again:
            log.warning(
                "station %s: the upstream no longer knows it; registering it there again",
                station_id,
            )

    def hold_station(self, station_id: str, reason: str) -> int:
        """Park every queued packet of a station the upstream refused to register."""
        c = db.packets.c
        with self.core.engine.begin() as conn:
            return int(
                conn.execute(
                    db.packets.update()
                    .where(c.station_id == station_id, c.fwd_status == "pending")
                    .values(fwd_status="held", fwd_error=reason)
                ).rowcount
            )

    def release_held(self, station_id: str | None = None) -> int:
        """Held packets (of one station, or all) back to the queue; returns how many."""
        c = db.packets.c
        cond = [c.fwd_status == "held"]
        if station_id is not None:
            cond.append(c.station_id == station_id)
        with self.core.engine.begin() as conn:
            return int(
                conn.execute(
                    db.packets.update()
                    .where(*cond)
                    .values(fwd_status="pending", fwd_next_at=time.time(), fwd_attempts=0)
                ).rowcount
            )

    def held(self) -> list[dict[str, Any]]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.station_id, c.fwd_error)
                .where(c.fwd_status == "held")
                .order_by(c.received_at, c.uuid)
            ).all()
        return [{"uuid": u, "station": s, "reason": r} for u, s, r in rows]

    def pending(self) -> tuple[int, int]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            row = conn.execute(
                select(func.count(), func.coalesce(func.sum(c.size), 0)).where(
                    c.fwd_status == "pending"
                )
            ).one()
        return int(row[0]), int(row[1])

    def counts(self) -> dict[str, int]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(select(c.fwd_status, func.count()).group_by(c.fwd_status)).all()
        return {str(s): int(n) for s, n in rows if s is not None}


def revoke_here(core: ServerCore, station_id: str, how: str) -> bool:
    """The upstream revoked ``station_id``: revoke it on this relay too (logged), so the kit's
    uploads here are refused with "revoked" as they would be centrally. Its packets already
    here are kept and still offered upstream, which decides. True when it was revoked now."""
    st = core.find_station(station_id)
    if st is None or st.revoked:
        return False
    core.revoke(station_id)
    log.warning("station %s revoked here: the upstream revoked it (%s)", station_id, how)
    return True
