"""Writing a packet's fate: de-duplication by NIK, supersession, the index row and the counts,
in ONE transaction with the queue row's removal.

- ``processed``: the checks passed and no processed record holds the NIK; this one now does.
- ``duplicate``: the checks passed but a processed record holds the NIK: ``duplicate_of``
  names it.
- ``rerecord``: the packet opened but the resident must come back (reason: biodata invalid
  under current rules, photo missing, unreadable or too small, signature missing or invalid).
- ``rejected``: the packet cannot be opened or verified (or failed to process repeatedly).

A batch's fates are written in one transaction (one commit per batch), in NIK order, and their
counts last, in key order: two processors' transactions take row locks in the same order.

A record sealed as a re-recording (``rerecord_of`` in its manifest) of an earlier record of
the same station whose fate is ``rerecord`` or ``duplicate`` supersedes it: the earlier row
gets ``superseded_by``. The new record is judged on its own (neither of those earlier fates
holds the NIK, so it is never a duplicate of the record it replaces).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app import packet as pkt
from server.card_tables import card_links
from server.processing import counters
from server.processing.checks import DUPLICATE, NIK_HELD, PROCESSED, RERECORD, Verdict
from server.processing.queue import Item, packet_row_is_eligible
from server.processing.tables import queue, records, residents


@dataclass(frozen=True)
class Written:
    uuid: str
    fate: str
    reason: str | None
    duplicate_of: str | None = None
    superseded: str | None = None
    station_id: str = ""


@dataclass(frozen=True)
class Judged:
    """A taken queue row, its packet's header and arrival time, and what the checks found."""

    item: Item
    header: pkt.PacketHeader
    received_at: float
    verdict: Verdict


def apply_batch(
    conn: Connection, judged: list[Judged], owner: str, now: float, tally: counters.Tally
) -> list[Written]:
    """Write the fates of a batch (in the caller's transaction) and add their counts to
    ``tally`` (flushed by the caller in the same transaction). A packet whose lease was lost,
    or that has become ineligible (quarantined) meanwhile, is left out: nothing is written.

    ``judged`` comes in NIK order; among packets of one NIK the first listed becomes its holder.
    A few statements per batch, not per packet: each is a round trip to the database.
    """
    if not judged:
        return []
    q = queue.c
    taken = {
        (r[0], r[1])
        for r in conn.execute(
            delete(queue)
            .where(
                tuple_(q.station_id, q.uuid).in_(
                    [(j.item.station_id, j.item.uuid) for j in judged]
                ),
                q.lease_owner == owner,
                packet_row_is_eligible(),
            )
            .returning(q.station_id, q.uuid)
        )
    }
    mine = [j for j in judged if (j.item.station_id, j.item.uuid) in taken]
    candidates = [j for j in mine if j.verdict.ok and j.verdict.nik and j.verdict.desa]
    held: dict[str, tuple[str, str]] = {}  # NIK -> (station, uuid) of its holder
    if candidates:
        rows = []
        seen: set[str] = set()
        for j in candidates:
            if j.verdict.nik not in seen:
                seen.add(str(j.verdict.nik))
                rows.append(
                    {
                        "nik": j.verdict.nik,
                        "station_id": j.item.station_id,
                        "uuid": j.item.uuid,
                        "kode_wilayah": j.verdict.desa,
                        "processed_at": now,
                    }
                )
        insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
        stmt = insert(residents).values(rows).on_conflict_do_nothing()
        conn.execute(stmt)
        r = residents.c
        held = {
            nik: (sid, uuid)
            for nik, sid, uuid in conn.execute(
                select(r.nik, r.station_id, r.uuid).where(r.nik.in_(seen))
            )
        }
    day_rows = []
    links = []  # card UID -> record, for the card check (server/cards.py)
    written = []
    for j in mine:
        v = j.verdict
        fate = v.fate or PROCESSED
        reason = v.reason
        dup_station = dup_uuid = None
        if v.ok:
            holder = held.get(str(v.nik))
            if holder is not None and holder != (j.item.station_id, j.item.uuid):
                fate, reason = DUPLICATE, NIK_HELD
                dup_station, dup_uuid = holder
        superseded = _supersede(conn, j) if v.rerecord_of else None
        if v.card_uid:
            links.append(
                {
                    "uid": v.card_uid,
                    "station_id": j.item.station_id,
                    "uuid": j.item.uuid,
                    "processed_at": now,
                }
            )
        day = counters.day_of(j.received_at)
        day_rows.append(
            {
                "station_id": j.item.station_id,
                "uuid": j.item.uuid,
                "nik": v.nik,
                "kode_wilayah": v.desa,
                "kecamatan": j.header.kecamatan,
                "operator": v.operator,
                "sealed_at": j.header.sealed_at,
                "received_at": j.received_at,
                "processed_at": now,
                "day": day,
                "fate": fate,
                "reason": reason,
                "detail": ";".join(v.details)[:2000] or None,
                "duplicate_of_station": dup_station,
                "duplicate_of": dup_uuid,
                "rerecord_of": v.rerecord_of,
                "superseded_by": None,
                "processor": owner,
            }
        )
        tally.add(
            day=day,
            kecamatan=j.header.kecamatan,
            desa=v.desa,
            station_id=j.item.station_id,
            operator=v.operator,
            fate=fate,
            received_at=j.received_at,
        )
        written.append(Written(j.item.uuid, fate, reason, dup_uuid, superseded, j.item.station_id))
    if day_rows:
        conn.execute(records.insert(), day_rows)
    if links:
        conn.execute(card_links.insert(), links)
    return written


def _supersede(conn: Connection, j: Judged) -> str | None:
    """Mark the record this one re-records as superseded, if its fate allows; its uuid."""
    rc = records.c
    done = conn.execute(
        update(records)
        .where(
            and_(
                rc.station_id == j.item.station_id,
                rc.uuid == j.verdict.rerecord_of,
                rc.fate.in_((RERECORD, DUPLICATE)),
                rc.superseded_by.is_(None),
            )
        )
        .values(superseded_by=j.item.uuid)
        .returning(rc.uuid)
    ).first()
    return str(done[0]) if done else None
