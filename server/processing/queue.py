"""The work queue: batches taken under a lease.

On PostgreSQL several processors (processes or hosts) take batches with ``SELECT ... FOR
UPDATE SKIP LOCKED``: two never take the same row at once. A taken row carries a lease; a
processor killed mid-batch simply stops renewing nothing, its lease runs out, and the rows go
to the next processor that asks. A row leaves the queue only in the transaction that writes its
fate (``fates.apply``), and only while the lease is still the writer's: a processor that lost
its lease writes nothing, so no fate and no count is ever written twice. On SQLite the
``BEGIN IMMEDIATE`` transactions serialize everything; run one processor there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from server import db, quarantine
from server.processing.tables import queue


def eligible() -> ColumnElement[bool]:
    """Packets a processor may take (the one condition, read by ``claim`` and ``apply``).

    Quarantined packets (``station revoke --since``, server/quarantine.py) must never be
    counted: they stay queued, untaken, until the office releases them (then they are taken
    like any other); a packet the office rejected stays untaken for good.
    """
    return quarantine.COUNTABLE


def packet_row_is_eligible() -> ColumnElement[bool]:
    """The queue row's packet exists and is ``eligible()``."""
    p = db.packets.c
    return exists(
        select(1).where(p.uuid == queue.c.uuid, p.station_id == queue.c.station_id, eligible())
    )


@dataclass(frozen=True)
class Item:
    station_id: str
    uuid: str
    attempts: int  # including this one


def claim(conn: Connection, owner: str, limit: int, lease_s: float, now: float) -> list[Item]:
    """Take up to ``limit`` rows, oldest received first, under a lease until now + lease_s."""
    q = queue.c
    rows = conn.execute(
        select(q.station_id, q.uuid, q.attempts)
        .where(or_(q.lease_until.is_(None), q.lease_until < now), packet_row_is_eligible())
        .order_by(q.received_at, q.uuid)
        .limit(limit)
        .with_for_update(skip_locked=True, of=queue)
    ).all()
    if not rows:
        return []
    retried = [r for r in rows if r[2] > 0]
    if retried:
        # Taken before and never finished: its processor died on the batch. Alone, so a
        # packet that kills processors reaches MAX_ATTEMPTS by itself, not with its batch.
        # The other rows' locks end with this transaction; the next claim takes them.
        rows = retried[:1]
    taken = conn.execute(
        update(queue)
        .where(tuple_(q.station_id, q.uuid).in_([(r[0], r[1]) for r in rows]))
        .values(lease_owner=owner, lease_until=now + lease_s, attempts=q.attempts + 1)
        .returning(q.station_id, q.uuid, q.attempts)
    ).all()
    order = {(r[0], r[1]): n for n, r in enumerate(rows)}
    return sorted(
        (Item(sid, uuid, int(attempts)) for sid, uuid, attempts in taken),
        key=lambda i: order[(i.station_id, i.uuid)],
    )


def release(conn: Connection, owner: str, item: Item) -> None:
    """Give a row back at once (this processor cannot judge it)."""
    q = queue.c
    conn.execute(
        update(queue)
        .where(q.station_id == item.station_id, q.uuid == item.uuid, q.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, attempts=q.attempts - 1)
    )


def pending(conn: Connection) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).select_from(queue)).scalar() or 0)
