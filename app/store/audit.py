"""Append-only, hash-chained audit events.

Each event's hash is SHA-256 over the previous event's hash and the canonical JSON of the
event (id, time, actor, kind, detail), so deleting, reordering or editing any row breaks the
chain from that row on. Details must never hold personal data (no NIK, name, address):
record UUIDs, hashes, counts and staff usernames only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, String, insert, select, type_coerce
from sqlalchemy.orm import Session

from app.store.db import Store
from app.store.models import AuditEvent
from app.store.timeutil import iso, parse_store_time, store_time, utcnow

GENESIS = "0" * 64
# Built once: the seal path is timed (bench_store), and building a statement per call costs
# more than running it.
_LAST_EVENT = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_INSERT_EVENT = insert(AuditEvent)
_CHAIN_ROWS = select(
    AuditEvent.id,
    type_coerce(AuditEvent.at, String).label("at"),
    AuditEvent.actor,
    AuditEvent.kind,
    AuditEvent.detail,
    AuditEvent.prev_hash,
    AuditEvent.hash,
).order_by(AuditEvent.id)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    prev_hash: str, event_id: int, at: datetime, actor: str, kind: str, detail: str
) -> str:
    return _hash_of(prev_hash, event_id, at, actor, kind, json.loads(detail))


def _hash_of(
    prev_hash: str, event_id: int, at: datetime, actor: str, kind: str, detail: Any
) -> str:
    return chain_hash(prev_hash, event_id, iso(at), actor, kind, detail)


def chain_hash(
    prev_hash: str, event_id: int, at_iso: str, actor: str, kind: str, detail: Any
) -> str:
    """An event's hash from its parts as uploaded (``at`` as ISO text): what the server
    recomputes for each event a kit uploads (server/audit_log.py)."""
    body = _canonical(
        {"id": event_id, "at": at_iso, "actor": actor, "kind": kind, "detail": detail}
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def record_event(
    target: Session | Connection | Store,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
) -> str:
    """Append one event and return its hash. Given a Session it joins that transaction (call
    it inside a write transaction so the chain head cannot move under it); given a Store it
    commits its own."""
    if isinstance(target, Store):
        with target.write() as own:
            return record_event(own, actor, kind, detail)
    session = target
    last = session.execute(_LAST_EVENT).first()
    prev_hash = last.hash if last is not None else GENESIS
    event_id = (last.id if last is not None else 0) + 1
    at = utcnow()
    detail_json = _canonical(detail or {}).decode()
    digest = event_hash(prev_hash, event_id, at, actor, kind, detail_json)
    session.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "at": at,
            "actor": actor,
            "kind": kind,
            "detail": detail_json,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    return digest


_LAST_EVENT_SQL = "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1"
_INSERT_EVENT_SQL = (
    "INSERT INTO audit_event (id, at, actor, kind, detail, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _event_body(event_id: int, at_iso: str, actor: str, kind: str, detail_json: str) -> bytes:
    """The canonical JSON ``_hash_of`` hashes, put together from its parts.

    ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of
    ``{"id", "at", "actor", "kind", "detail"}`` writes the keys in the order below, each string
    through ``encode_basestring`` (the function it uses when ``ensure_ascii=False``) and the
    detail exactly as ``detail_json`` (the same encoder's canonical text of it), so the bytes
    are the same; tests/store/test_audit.py checks it against ``event_hash`` on awkward
    strings. Cheaper than encoding the nested dict a second time on every seal.
    """
    return (
        f'{{"actor":{encode_basestring(actor)},"at":{encode_basestring(at_iso)},'
        f'"detail":{detail_json},"id":{event_id:d},"kind":{encode_basestring(kind)}}}'
    ).encode()


def record_event_raw(
    cur: sqlite3.Cursor, actor: str, kind: str, detail: dict[str, Any] | None = None
) -> str:
    """``record_event`` on a DB-API cursor inside ``Store.write_raw()`` (the seal path).

    Same row, same chain, same hash as ``record_event``; only the statement layer differs.
    """
    last = cur.execute(_LAST_EVENT_SQL).fetchone()
    prev_hash = last[1] if last is not None else GENESIS
    event_id = (last[0] if last is not None else 0) + 1
    at = utcnow()
    detail_json = _canonical(detail or {}).decode()
    # No JSON round trip of the detail as event_hash() does: verify_chain re-derives every
    # hash from the stored text through that slower, independent path.
    body = _event_body(event_id, iso(at), actor, kind, detail_json)
    digest = hashlib.sha256(prev_hash.encode() + body).hexdigest()
    cur.execute(
        _INSERT_EVENT_SQL,
        (event_id, store_time(at), actor, kind, detail_json, prev_hash, digest),
    )
    return digest


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain(store: Store) -> ChainReport:
    """Walk the chain from the start; report the first event that does not link."""
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    with store.read() as session:
        # The time as stored text: a row edited into a value that is not a store time (or
        # a detail that is not JSON) is reported like any other edit, not raised mid-walk.
        for ev in session.execute(_CHAIN_ROWS):
            if ev.id != expected_id:
                return ChainReport(False, count, ev.id, f"event {expected_id} is missing")
            if ev.prev_hash != prev_hash:
                return ChainReport(False, count, ev.id, "previous hash does not match")
            try:
                at = parse_store_time(ev.at)
                want = event_hash(prev_hash, ev.id, at, ev.actor, ev.kind, ev.detail)
            except (ValueError, TypeError):
                return ChainReport(False, count, ev.id, "event was altered (unreadable values)")
            if ev.hash != want:
                return ChainReport(False, count, ev.id, "event was altered")
            prev_hash = ev.hash
            expected_id += 1
            count += 1
    return ChainReport(True, count)
