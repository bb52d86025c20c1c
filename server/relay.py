"""Kecamatan relay: forward the packets this server received, unchanged, to an upstream.

The relay is itself a station of the upstream (provisioned with a one-time code made there),
with its own Ed25519 key in the home. Stations enrolled at the relay get the upstream's sealing
key, so the relay can route their packets but never read them. Before forwarding a station's
packets the relay registers that station upstream (``POST /api/v1/stations/vouch``, signed by
the relay): the upstream then accepts packets signed by the original station when the relay
uploads them, and still checks that original signature.

Forwarding uses the station's own SyncEngine over ``RelayOutbox`` (the packets table), so
retry, backoff and receipt checks are identical to a station's.

One station's trouble never stops the others: a station the upstream refuses to register
keeps the reason on its row (``upstream_error``), and a packet the upstream refuses for its
station (403 foreign_station / unknown_station / station_revoked) is parked
(``fwd_status = held`` + reason) while the drain goes on. A held packet returns to the queue
when its station's registration next succeeds, or with ``relay requeue``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select

from app.sync.engine import SyncEngine, SyncError
from app.sync.provision import enroll
from app.sync.worker import SyncWorker
from server import db
from server.core import InputError, ServerCore
from server.keys import load_or_create_relay_key

log = logging.getLogger(__name__)


# 403 reasons of the upstream that refuse a forwarded packet for its station, not the relay.
HOLD_REASONS = frozenset({"foreign_station", "unknown_station", "station_revoked"})


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

    def due(self, now: datetime, limit: int) -> list[RelayItem]:
        c = db.packets.c
        s = db.stations.c
        # Not the packets of a station whose registration the upstream refused: they would be
        # refused (or worse, rejected for good) there; they wait, held (register_stations).
        refused = exists().where(s.id == c.station_id, s.upstream_error.is_not(None))
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.data, c.sha256, c.size, c.fwd_attempts, c.sealed_at)
                .where(and_(c.fwd_status == "pending", c.fwd_next_at <= now.timestamp(), ~refused))
                .order_by(c.received_at, c.uuid)
                .limit(limit)
            ).all()
        return [RelayItem(r[0], bytes(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def _update(self, uuid: str, **values: Any) -> None:
        with self.core.engine.begin() as conn:
            conn.execute(db.packets.update().where(db.packets.c.uuid == uuid).values(**values))

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
        self._update(uuid, fwd_status="held", fwd_error=reason)
        if reason.split(":", 1)[0] == "station_revoked":
            with self.core.engine.begin() as conn:
                station_id = conn.execute(
                    select(db.packets.c.station_id).where(db.packets.c.uuid == uuid)
                ).scalar_one_or_none()
            if station_id is not None and not self.core.get_station(station_id).revoked:
                self.core.revoke(station_id)
                log.warning("station %s revoked here: the upstream revoked it", station_id)

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


def provision(core: ServerCore, upstream_url: str, code: str) -> dict[str, Any]:
    """Enroll this server at the upstream as a relay station; remembers the identity."""
    if not upstream_url.startswith(("http://", "https://")):
        raise InputError(f"--upstream: expected an http(s) URL, got {upstream_url!r}")
    known = core.meta_get("upstream_station_id")
    if known is None:
        # Stations enrolled here before, and their packets, were sealed to THIS server's key,
        # which the upstream cannot open: a relay starts from an empty home.
        n_st, n_pk = len(core.list_stations()), core.count_packets()
        if n_st or n_pk:
            raise InputError(
                f"--home: this server already holds {n_st} station(s) and {n_pk} packet(s) "
                "sealed to its own key; a relay must start from a fresh, empty --home"
            )
    key = load_or_create_relay_key(core.home)
    result = enroll(upstream_url, code, key.public_key(), station_id=known)
    core.meta_set(
        {
            "upstream_url": upstream_url.rstrip("/"),
            "upstream_station_id": result.station_id,
            "upstream_sealing_key": result.server_key_pem.decode(),
            "upstream_server_id": result.server_id,
        }
    )
    return {
        "upstream": upstream_url,
        "relay_station_id": result.station_id,
        "kecamatan": result.kecamatan,
        "sealing_key_id": result.server_key_id,
    }


class RelayForwarder:
    """Builds the engine + worker for relay mode and registers stations upstream first."""

    def __init__(
        self,
        core: ServerCore,
        upstream_url: str | None = None,
        *,
        interval_s: float = 5.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        cap_s: float = 60.0,
    ) -> None:
        station_id = core.meta_get("upstream_station_id")
        stored_url = core.meta_get("upstream_url")
        if not station_id or not stored_url:
            raise InputError(
                "--upstream: this server is not provisioned as a relay: run "
                "`ektp-server relay provision --upstream URL --code CODE` first"
            )
        self.core = core
        self.outbox = RelayOutbox(core)
        self.engine = SyncEngine(
            self.outbox,
            server_url=upstream_url or stored_url,
            station_id=station_id,
            signing_key=load_or_create_relay_key(core.home),
            timeout=timeout,
            cap_s=cap_s,
            hold_reasons=HOLD_REASONS,
        )
        self.worker = SyncWorker(
            self.engine,
            interval_s=interval_s,
            maintenance_interval_s=0.0,
            offline_cap_s=cap_s,
            min_wait_s=min(0.2, cap_s / 10),
            pending=self.outbox.pending,
            maintenance=[self.register_stations],
        )

    def register_stations(self) -> int:
        """Vouch upstream for every enrolled station not registered there yet."""
        c = db.stations.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.id, c.name, c.kecamatan, c.public_key).where(
                    c.public_key.is_not(None), c.upstream_registered_at.is_(None)
                )
            ).all()
            # Packets that arrived since a station's registration was refused: held too.
            refused = conn.execute(
                select(c.id, c.upstream_error).where(c.upstream_error.is_not(None))
            ).all()
        for sid, error in refused:
            self.outbox.hold_station(sid, f"station not registered upstream: {error}")
        done = 0
        for sid, name, kec, pub in rows:
            try:
                self.engine.signed_json(
                    "POST",
                    "/api/v1/stations/vouch",
                    {"station_id": sid, "name": name, "kecamatan": kec, "public_key": pub},
                )
            except SyncError as err:
                if err.kind in ("network", "server"):
                    raise  # the upstream is unreachable or unhappy: the worker retries later
                # The upstream refuses THIS station (moved kit, revoked...): keep the reason
                # on its row, visible in `station list` and `relay status`; go on.
                self._set_station(sid, upstream_error=err.message)
                self.outbox.hold_station(sid, f"station not registered upstream: {err.message}")
                log.warning("upstream refused station %s: %s", sid, err.message)
                continue
            self._set_station(sid, upstream_registered_at=time.time(), upstream_error=None)
            self.outbox.release_held(sid)
            done += 1
        return done

    def _set_station(self, station_id: str, **values: Any) -> None:
        with self.core.engine.begin() as conn:
            conn.execute(
                db.stations.update().where(db.stations.c.id == station_id).values(**values)
            )

    def start(self) -> None:
        self.worker.start()

    def wake(self) -> None:
        # A new station may have enrolled: registration runs before the next drain.
        self.worker.wake()

    def stop(self) -> bool:
        return self.worker.stop()
