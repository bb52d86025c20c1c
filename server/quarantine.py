"""Quarantined packets: stored, never counted, until the office decides on each.

A packet is quarantined (``packets.review = 'quarantined'`` with a reason) when:

- its station is revoked with ``station revoke ID --since TIME`` (the time of the theft): every
  packet of that station (and, for a relay, every packet it handed over) received after TIME
  was possibly signed by the thief;
- its labels can be neither confirmed nor ruled out (``server.labels``: sealed before the
  station's first enrollment here with a kecamatan the office had not assigned it).

The office lists them (``ektp-server quarantine list``) and decides on each
(``quarantine release|reject UUID --station ID --by NAME``); the decision is kept with who
made it and when, and is final. ``review`` is NULL for a packet that was never quarantined.

The back office (server/processing/) asks ``must_not_count`` (one packet) or adds
``COUNTABLE`` to its queries: a packet that is quarantined or rejected is never counted.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.engine import Connection, Engine

from server import db

QUARANTINED = "quarantined"
RELEASED = "released"
REJECTED = "rejected"
DECISIONS = (RELEASED, REJECTED)

_c = db.packets.c

# For the back office's queries: the packets that may be counted.
COUNTABLE: ColumnElement[bool] = or_(_c.review.is_(None), _c.review == RELEASED)


def must_not_count(review: str | None) -> bool:
    """True when a packet in this review state must not be counted (quarantined, or the
    office rejected it). ``review`` is the packet row's ``review`` column."""
    return review in (QUARANTINED, REJECTED)


def packet_must_not_count(conn: Connection, station_id: str, uuid: str) -> bool:
    """``must_not_count`` for one stored packet (LookupError when there is none)."""
    row = conn.execute(
        select(_c.review).where(_c.station_id == station_id, _c.uuid == uuid)
    ).first()
    if row is None:
        raise LookupError(f"no packet {uuid} of station {station_id}")
    return must_not_count(row[0])


def quarantine_received_since(
    conn: Connection, station_ids: list[str], since: float, reason: str
) -> int:
    """Quarantine the packets of these stations, or handed over by them, received after
    ``since`` and not decided on yet; returns how many. Those the back office had already
    processed are withdrawn: their counts taken back, the packet queued again until the office
    decides (server/processing/withdraw.py)."""
    from server.processing.tables import records
    from server.processing.withdraw import withdraw

    theirs = (
        or_(_c.station_id.in_(station_ids), _c.received_from.in_(station_ids)),
        _c.received_at > since,
    )
    held = int(
        conn.execute(
            db.packets.update()
            .where(*theirs, or_(_c.review.is_(None), _c.review == QUARANTINED))
            .values(review=QUARANTINED, review_reason=reason)
        ).rowcount
    )
    r = records.c
    withdraw(
        conn,
        exists(
            select(1).where(
                _c.station_id == r.station_id, _c.uuid == r.uuid, _c.review == QUARANTINED, *theirs
            )
        ),
        time.time(),
    )
    return held


def listed(engine: Engine, state: str | None = QUARANTINED) -> list[dict[str, Any]]:
    """Packets in one review state (all reviewed ones with None), oldest first."""
    from server.core import iso

    cond = _c.review == state if state is not None else _c.review.is_not(None)
    with engine.begin() as conn:
        rows = conn.execute(
            select(
                _c.uuid,
                _c.station_id,
                _c.kecamatan,
                _c.sealed_at,
                _c.received_at,
                _c.received_from,
                _c.review,
                _c.review_reason,
                _c.reviewed_by,
                _c.reviewed_at,
            )
            .where(cond)
            .order_by(_c.received_at, _c.station_id, _c.uuid)
        ).mappings()
        return [
            {
                "uuid": r["uuid"],
                "station": r["station_id"],
                "kecamatan": r["kecamatan"],
                "sealed_at": r["sealed_at"],
                "received_at": iso(r["received_at"]),
                "received_from": r["received_from"],
                **review_fields(r),
            }
            for r in rows
        ]


def review_fields(row: Any) -> dict[str, Any]:
    """The review state of a packet row as shown by ``packets --json`` and ``quarantine``."""
    from server.core import iso

    return {
        "review": row["review"],
        "review_reason": row["review_reason"],
        "reviewed_by": row["reviewed_by"],
        "reviewed_at": iso(row["reviewed_at"]),
    }


class DecisionError(ValueError):
    """A decision that cannot be made (no such packet, not quarantined); names the field."""


def decide(engine: Engine, station_id: str, uuid: str, decision: str, by: str) -> dict[str, Any]:
    """Release or reject one quarantined packet, recording who decided and when."""
    if decision not in DECISIONS:
        raise DecisionError(f"decision: expected one of {', '.join(DECISIONS)}")
    by = (by or "").strip()
    if not by or len(by) > 200:
        raise DecisionError("--by: name the person deciding (1-200 characters)")
    now = time.time()
    with engine.begin() as conn:
        row = conn.execute(
            select(_c.review).where(_c.station_id == station_id, _c.uuid == uuid)
        ).first()
        if row is None:
            raise DecisionError(f"UUID: no packet {uuid} of station {station_id}")
        if row[0] != QUARANTINED:
            state = row[0] or "not quarantined"
            raise DecisionError(f"UUID: packet {uuid} is {state}: nothing to decide")
        conn.execute(
            db.packets.update()
            .where(_c.station_id == station_id, _c.uuid == uuid, _c.review == QUARANTINED)
            .values(review=decision, reviewed_by=by, reviewed_at=now)
        )
    (doc,) = [
        d for d in listed(engine, decision) if d["uuid"] == uuid and d["station"] == station_id
    ]
    return doc
