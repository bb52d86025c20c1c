"""A relay's side of the fates: it pulls its kits' fates from the upstream, keeps them, and
serves them to its kits (the same ``GET /station/fates``, answered from its copy); and its own
purge of forwarded payloads waits for the centre's ``received``.

``pull_fates`` runs in the relay's pull (server/relay.py, ``RelayPuller.pull_once``), at
start, on its interval and soon after the forwarder talked to the upstream: for each kit
registered upstream from here it asks ``GET /station/fates?station=KIT&after=N`` (signed by
the relay; the upstream answers only for kits this relay vouched for), checks each page whole
(sequence, entries: server/station_fates.check_page) and keeps it whole, or nothing.

``purge_forwarded`` drops the payload of packets forwarded more than the retention ago whose
centre ``received`` is here; a packet the upstream acknowledged but whose fate has not come
back keeps its payload (the upstream may itself be a relay, and the relay's receipt is not
the centre's).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, select, update

from app.fates import RECEIVED, fates_path
from app.sync.engine import SyncEngine, SyncError
from server import db, station_fates
from server.core import ServerCore

log = logging.getLogger(__name__)

PAGE = station_fates.MAX_PAGE
MAX_PAGES_PER_KIT = 100
DEFAULT_RETENTION_DAYS = 30.0
FATES_PULL_AT = "upstream_fates_pull_at"
FATES_PULL_ERROR = "upstream_fates_pull_error"


@dataclass
class FatesPulled:
    stored: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # kit -> why its page was refused


def kits(core: ServerCore) -> list[str]:
    """The kits whose fates this relay keeps: those registered upstream from here."""
    c = db.stations.c
    with core.engine.connect() as conn:
        rows = conn.execute(
            select(c.id).where(c.upstream_registered_at.is_not(None)).order_by(c.id)
        ).all()
        conn.rollback()
    return [str(r[0]) for r in rows]


def pull_fates(core: ServerCore, engine: SyncEngine) -> FatesPulled:
    """Catch up every kit's fates from the upstream. A network or server failure raises
    SyncError (the puller retries); a refused page of one kit is logged, kept for
    ``relay status`` and does not stop the other kits."""
    out = FatesPulled()
    for kit in kits(core):
        for _ in range(MAX_PAGES_PER_KIT):
            with core.engine.connect() as conn:
                after = station_fates.last_seq(conn, kit)
                conn.rollback()
            try:
                doc = engine.signed_json("GET", fates_path(after, PAGE, station=kit))
            except SyncError as err:
                if err.kind in ("network", "server"):
                    raise  # the upstream is unreachable or unhappy: the puller retries
                # The upstream refuses THIS kit (a kit another relay registered since, say):
                # noted, and the other kits go on.
                out.refused[kit] = err.message
                log.warning("fates of station %s: the upstream refused: %s", kit, err.message)
                break
            try:
                entries = station_fates.check_page(doc, kit, after)
                out.stored += station_fates.store_pulled(core.engine, kit, after, entries)
            except station_fates.FateSequenceError as exc:
                out.refused[kit] = str(exc)
                log.warning("fates of station %s from the upstream refused: %s", kit, exc)
                break
            if not entries or after + len(entries) >= int(doc["last_seq"]):
                break
    core.meta_set(
        {
            FATES_PULL_AT: repr(time.time()),
            FATES_PULL_ERROR: "; ".join(f"{k}: {v}" for k, v in sorted(out.refused.items())),
        }
    )
    return out


def purge_forwarded(core: ServerCore, retention_days: float, now: float | None = None) -> int:
    """Drop the payload of forwarded packets older than the retention whose centre
    ``received`` this relay holds; returns how many."""
    p, f = db.packets.c, station_fates.station_fates.c
    cut = (time.time() if now is None else now) - retention_days * 86400.0
    held_centrally = exists().where(
        and_(f.station_id == p.station_id, f.uuid == p.uuid, f.fate == RECEIVED)
    )
    with core.engine.begin() as conn:
        done = conn.execute(
            update(db.packets)
            .where(
                p.fwd_status == "uploaded",
                p.purged_at.is_(None),
                p.received_at < cut,
                held_centrally,
            )
            .values(data=b"", purged_at=time.time())
        ).rowcount
    if done:
        log.info("purged the payload of %d forwarded packet(s) the centre holds", done)
    return int(done or 0)


def status(core: ServerCore) -> dict[str, Any]:
    """The fates part of ``relay status``."""
    from server.core import iso

    at = core.meta_get(FATES_PULL_AT)
    p = db.packets.c
    with core.engine.connect() as conn:
        purged = conn.execute(
            select(func.count()).select_from(db.packets).where(p.purged_at.is_not(None))
        ).scalar()
        conn.rollback()
    return {
        "last_pull_at": iso(float(at)) if at else None,
        "refused": core.meta_get(FATES_PULL_ERROR) or None,
        "held": station_fates.counts(core.engine),
        "purged_payloads": int(purged or 0),
    }


def check_retention(value: float) -> None:
    import math

    from server.core import InputError

    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"--relay-retention-days: must be 0 or more days, got {value:g}")
