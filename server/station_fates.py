"""Fates back to the station: what became of each record, in a per-station sequence.

Every fate a station must learn is a row of ``station_fates``: ``(station_id, seq)`` with
``seq`` 1, 2, 3, ... per station, no gaps. The sequence number is taken from the station's
row in ``fate_sequences`` (incremented under its row lock, held until the commit), so a row
with seq ``n+1`` never becomes visible before the row with seq ``n``: a station reading
"everything after n" never skips one that commits late.

- ``received``: written by a trigger on ``packets`` (revision 0007) in the transaction that
  stores the packet on the CENTRAL server (any path: PUT, the PostgreSQL fast path, import).
  A relay's packets (``fwd_status`` set) get none there: the relay's receipt is not the
  centre's.
- ``processed``, ``duplicate`` (``duplicate_of``), ``rerecord`` (``reason``), ``rejected``
  (``reason``): written by the processor in the transaction of the fate itself
  (``record_processed``, called from server/processing/processor.py).

A relay keeps a copy of its kits' fates with the centre's sequence numbers (``store_pulled``,
pulled by server/relay_fates.py) and serves them from it: a kit sees the same sequence
whether it talks to the centre or to a relay. ``page`` answers ``GET /station/fates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Integer, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from app.fates import FATES
from server.core import iso
from server.db import metadata

MAX_PAGE = 1000  # fates per answer
DEFAULT_PAGE = 500

fate_sequences = Table(
    "fate_sequences",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

station_fates = Table(
    "station_fates",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("uuid", String(64), nullable=False),
    Column("fate", String(16), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("at", Float, nullable=False),
    Column("duplicate_of", String(64), nullable=True),
)


class FateSequenceError(ValueError):
    """A page of fates that does not continue the sequence held here (a gap, a repeat, a
    page for another station, a malformed entry): refused whole, nothing stored."""


@dataclass(frozen=True)
class Fate:
    station_id: str
    uuid: str
    fate: str
    reason: str | None = None
    duplicate_of: str | None = None


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def _take(conn: Connection, station_id: str, n: int) -> int:
    """Reserve ``n`` sequence numbers for a station; returns the first. The row stays locked
    until the caller's transaction ends."""
    ins = _insert(conn)(fate_sequences).values(station_id=station_id, last_seq=n)
    stmt = ins.on_conflict_do_update(
        index_elements=[fate_sequences.c.station_id],
        set_={"last_seq": fate_sequences.c.last_seq + n},
    ).returning(fate_sequences.c.last_seq)
    last = int(conn.execute(stmt).scalar_one())
    return last - n + 1


def record_processed(conn: Connection, fates: Iterable[Fate], at: float) -> int:
    """Append the processor's fates (in the caller's transaction); returns how many.

    Stations in sorted order: two processors' transactions lock the sequence rows in the same
    order (no deadlock); within a station, in the order given."""
    by_station: dict[str, list[Fate]] = {}
    for f in fates:
        by_station.setdefault(f.station_id, []).append(f)
    rows = []
    for station_id in sorted(by_station):
        mine = by_station[station_id]
        first = _take(conn, station_id, len(mine))
        rows += [
            {
                "station_id": station_id,
                "seq": first + i,
                "uuid": f.uuid,
                "fate": f.fate,
                "reason": f.reason,
                "at": at,
                "duplicate_of": f.duplicate_of,
            }
            for i, f in enumerate(mine)
        ]
    if rows:
        conn.execute(station_fates.insert(), rows)
    return len(rows)


def as_json(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "seq": int(row.seq),
        "uuid": row.uuid,
        "fate": row.fate,
        "reason": row.reason,
        "at": iso(float(row.at)),
    }
    if row.duplicate_of:
        out["duplicate_of"] = row.duplicate_of
    return out


def last_seq(conn: Connection, station_id: str) -> int:
    c = station_fates.c
    return int(
        conn.execute(select(func.max(c.seq)).where(c.station_id == station_id)).scalar() or 0
    )


def page(engine: Engine, station_id: str, after: int, limit: int) -> dict[str, Any]:
    """The answer to ``GET /station/fates?after=SEQ&limit=N``: the station's fates with seq
    above ``after``, at most ``limit``, in order; ``last_seq`` is the highest held now (the
    station pulls again while it is above what it has)."""
    c = station_fates.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.seq, c.uuid, c.fate, c.reason, c.at, c.duplicate_of)
            .where(c.station_id == station_id, c.seq > after)
            .order_by(c.seq)
            .limit(limit)
        ).all()
        top = last_seq(conn, station_id) if len(rows) == limit else None
        conn.rollback()
    fates = [as_json(r) for r in rows]
    if top is None:
        top = fates[-1]["seq"] if fates else after
    return {"station": station_id, "after": after, "fates": fates, "last_seq": max(top, after)}


def check_page(doc: Any, station_id: str, after: int) -> list[dict[str, Any]]:
    """The fates of a ``page`` answer, checked: for this station, continuing ``after`` with
    no gap, each entry well formed. FateSequenceError otherwise. Shared by the relay (which
    keeps them) and, through app.fates, the same rules hold on the station."""
    from app.fates import FatePageError, parse_page

    try:
        return parse_page(doc, station_id, after)
    except FatePageError as exc:
        raise FateSequenceError(str(exc)) from exc


def store_pulled(
    engine: Engine, station_id: str, after: int, entries: Sequence[Mapping[str, Any]]
) -> int:
    """A relay keeps a page of its kit's fates pulled from the upstream (checked by
    ``check_page``). All or nothing, and only if the relay's copy ends at ``after`` (a
    second puller that stored them meanwhile: FateSequenceError, nothing stored)."""
    if not entries:
        return 0
    with engine.begin() as conn:
        held = last_seq(conn, station_id)
        if held != after:
            raise FateSequenceError(
                f"station {station_id}: the relay holds fates up to {held}, the page "
                f"continues {after}"
            )
        conn.execute(
            station_fates.insert(),
            [
                {
                    "station_id": station_id,
                    "seq": int(e["seq"]),
                    "uuid": e["uuid"],
                    "fate": e["fate"],
                    "reason": e.get("reason"),
                    "at": datetime.fromisoformat(e["at"]).timestamp(),
                    "duplicate_of": e.get("duplicate_of"),
                }
                for e in entries
            ],
        )
    return len(entries)


def counts(engine: Engine, station_id: str | None = None) -> dict[str, int]:
    """Fates held, by kind (``relay status``)."""
    c = station_fates.c
    q = select(c.fate, func.count()).group_by(c.fate)
    if station_id is not None:
        q = q.where(c.station_id == station_id)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
        conn.rollback()
    out = dict.fromkeys(FATES, 0)
    out.update({str(f): int(n) for f, n in rows})
    return out
