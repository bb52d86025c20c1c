"""Kecamatan relay: forward the packets this server received, unchanged, to an upstream.

The relay is itself a station of the upstream (provisioned with a one-time code made there),
with its own Ed25519 key in the home. Stations enrolled at the relay get the upstream's sealing
key, so the relay can route their packets but never read them. Before forwarding a station's
packets the relay registers that station upstream (``POST /api/v1/stations/vouch``, signed by
the relay): the upstream then accepts packets signed by the original station when the relay
uploads them, and still checks that original signature.

Forwarding uses the station's own SyncEngine over ``RelayOutbox`` (the packets table), so
retry, backoff and receipt checks are identical to a station's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from app.sync.engine import SyncEngine
from app.sync.provision import enroll
from app.sync.worker import SyncWorker
from server import db
from server.core import InputError, ServerCore
from server.keys import load_or_create_relay_key


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
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.data, c.sha256, c.size, c.fwd_attempts, c.sealed_at)
                .where(and_(c.fwd_status == "pending", c.fwd_next_at <= now.timestamp()))
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
    key = load_or_create_relay_key(core.home)
    known = core.meta_get("upstream_station_id")
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
        done = 0
        for sid, name, kec, pub in rows:
            # A SyncError propagates: the worker logs it and retries on its next pass.
            self.engine.signed_json(
                "POST",
                "/api/v1/stations/vouch",
                {"station_id": sid, "name": name, "kecamatan": kec, "public_key": pub},
            )
            with self.core.engine.begin() as conn:
                conn.execute(
                    db.stations.update()
                    .where(db.stations.c.id == sid)
                    .values(upstream_registered_at=time.time())
                )
            done += 1
        return done

    def start(self) -> None:
        self.worker.start()

    def wake(self) -> None:
        # A new station may have enrolled: registration runs before the next drain.
        self.worker.wake()

    def stop(self) -> bool:
        return self.worker.stop()
