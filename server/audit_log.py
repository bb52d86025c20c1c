"""Each kit's audit chain, kept at the centre (issue 12).

A kit uploads its audit events in order (``POST /api/v1/station/audit``, signed; pages of
at most ``MAX_EVENTS``). The server accepts a page only when it continues the chain it holds
for that kit: the first new event's ``prev_hash`` is the hash of the last event held, the
sequence has no gap, and each event's hash is what its fields hash to (app/store/audit.py).
Events it already holds are taken again when they are the same (a retry after a lost
answer: idempotent by sequence); a held event with another hash means the kit's chain was
changed after the centre had it. Any refusal leaves the page unstored, all of it.

The answer names the last event held (``acked_seq``, ``acked_hash``): the kit keeps it, and
its ``doctor`` compares its own chain with it, so a chain edited and re-hashed on the kit is
reported, not called intact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, select

from app.protocol import Reason
from app.store.audit import GENESIS, chain_hash
from server import db
from server.core import InputError, ServiceError, Station, iso
from server.kit_tables import kit_audit

MAX_EVENTS = 500  # per upload
_HEX = set("0123456789abcdef")


def _field(ev: Mapping[str, Any], name: str, limit: int, i: int) -> str:
    value = ev.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise ServiceError(
            400,
            f"events[{i}].{name}: expected text of at most {limit} characters",
            Reason.BAD_AUDIT,
        )
    return value


def _hash_field(ev: Mapping[str, Any], name: str, i: int) -> str:
    value = _field(ev, name, 64, i)
    if len(value) != 64 or not set(value) <= _HEX:
        raise ServiceError(400, f"events[{i}].{name}: expected 64 hex digits", Reason.BAD_AUDIT)
    return value


def parse_events(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of an upload, checked in form (400 naming the field)."""
    events = doc.get("events")
    if not isinstance(events, list):
        raise ServiceError(400, "events: expected a list", Reason.BAD_AUDIT)
    if len(events) > MAX_EVENTS:
        raise ServiceError(400, f"events: at most {MAX_EVENTS} in one upload", Reason.BAD_AUDIT)
    out = []
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise ServiceError(400, f"events[{i}]: expected an object", Reason.BAD_AUDIT)
        seq = ev.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ServiceError(
                400, f"events[{i}].seq: expected a positive integer", Reason.BAD_AUDIT
            )
        detail = _field(ev, "detail", 64 * 1024, i)
        try:
            detail_obj = json.loads(detail)
        except ValueError:
            raise ServiceError(400, f"events[{i}].detail: not JSON", Reason.BAD_AUDIT) from None
        out.append(
            {
                "seq": seq,
                "at": _field(ev, "at", 40, i),
                "actor": _field(ev, "actor", 100, i),
                "kind": _field(ev, "kind", 64, i),
                "detail": detail,
                "detail_obj": detail_obj,
                "prev_hash": _hash_field(ev, "prev_hash", i),
                "hash": _hash_field(ev, "hash", i),
            }
        )
    for a, b in zip(out, out[1:], strict=False):
        if b["seq"] != a["seq"] + 1:
            raise ServiceError(
                400, f"events: sequence jumps from {a['seq']} to {b['seq']}", Reason.BAD_AUDIT
            )
    return out


def _head(conn: Any, station_id: str, key_id: str) -> tuple[int, str]:
    a = kit_audit.c
    row = conn.execute(
        select(a.seq, a.hash)
        .where(a.station_id == station_id, a.key_id == key_id)
        .order_by(a.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def receive(engine: Engine, station: Station, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Store the new events of an upload that continues the chain; 409 when it does not."""
    events = parse_events(doc)
    a = kit_audit.c
    now = time.time()
    with engine.begin() as conn:
        # One upload of a kit at a time (PostgreSQL: the station row's lock; SQLite
        # serializes writers).
        conn.execute(
            select(db.stations.c.id).where(db.stations.c.id == station.id).with_for_update()
        )
        chain = station.key_id or ""
        head_seq, head_hash = _head(conn, station.id, chain)
        fresh: list[dict[str, Any]] = []
        for ev in events:
            want = chain_hash(
                ev["prev_hash"], ev["seq"], ev["at"], ev["actor"], ev["kind"], ev["detail_obj"]
            )
            if want != ev["hash"]:
                raise ServiceError(
                    409,
                    f"audit event {ev['seq']}: its hash is not its content's",
                    Reason.AUDIT_HASH,
                )
            if ev["seq"] <= head_seq:
                held = conn.execute(
                    select(a.hash).where(
                        a.station_id == station.id, a.key_id == chain, a.seq == ev["seq"]
                    )
                ).scalar()
                if held != ev["hash"]:
                    raise ServiceError(
                        409,
                        f"audit event {ev['seq']} differs from the one the centre holds: the "
                        "kit's audit chain was changed after it was uploaded",
                        Reason.AUDIT_CHAIN_DIVERGES,
                    )
                continue
            prev_seq, prev_hash = (
                (fresh[-1]["seq"], fresh[-1]["hash"]) if fresh else (head_seq, head_hash)
            )
            if ev["seq"] != prev_seq + 1:
                raise ServiceError(
                    409,
                    f"audit event {ev['seq']} does not continue the chain: the centre holds "
                    f"events up to {head_seq}",
                    Reason.AUDIT_GAP,
                )
            if ev["prev_hash"] != prev_hash:
                raise ServiceError(
                    409,
                    f"audit event {ev['seq']} does not continue the chain: its previous hash "
                    "is not the hash of the event before it",
                    Reason.AUDIT_CHAIN_BREAK,
                )
            fresh.append(ev)
        for ev in fresh:
            conn.execute(
                kit_audit.insert().values(
                    station_id=station.id,
                    key_id=chain,
                    received_at=now,
                    **{k: ev[k] for k in ("seq", "at", "actor", "kind", "detail")},
                    prev_hash=ev["prev_hash"],
                    hash=ev["hash"],
                )
            )
        acked_seq, acked_hash = _head(conn, station.id, chain)
    return {
        "station_id": station.id,
        "stored": len(fresh),
        "acked_seq": acked_seq,
        "acked_hash": acked_hash,
    }


def events(
    engine: Engine, station_id: str, after: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """``ektp-server audit --station ID``: the events of the kit's chain (the one its current
    key uploads) the centre holds, in order; the chains of its earlier keys (a kit set up
    again) are counted under ``earlier_chains``."""
    a = kit_audit.c
    with engine.connect() as conn:
        key_id = conn.execute(
            select(db.stations.c.key_id).where(db.stations.c.id == station_id)
        ).first()
        if key_id is None:
            raise InputError(f"--station: no station {station_id!r}")
        chain = key_id[0] or ""
        counts: dict[str, int] = dict(
            conn.execute(
                select(a.key_id, func.count()).where(a.station_id == station_id).group_by(a.key_id)
            ).all()
        )
        q = (
            select(kit_audit)
            .where(a.station_id == station_id, a.key_id == chain, a.seq > after)
            .order_by(a.seq)
        )
        if limit is not None:
            q = q.limit(limit)
        rows = conn.execute(q).mappings().all()
    return {
        "station_id": station_id,
        "key_id": chain or None,
        "count": int(counts.pop(chain, 0)),
        "earlier_chains": [{"key_id": k, "count": int(n)} for k, n in sorted(counts.items())],
        "events": [
            {
                "seq": r["seq"],
                "at": r["at"],
                "actor": r["actor"],
                "kind": r["kind"],
                "detail": json.loads(r["detail"]),
                "prev_hash": r["prev_hash"],
                "hash": r["hash"],
                "received_at": iso(r["received_at"]),
            }
            for r in rows
        ],
    }
