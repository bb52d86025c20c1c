"""Writing a packet's fate: de-duplication by NIK, supersession, the index row and the counts,
in ONE transaction with the queue row's removal.

- ``processed``: the checks passed and no processed record holds the NIK; this one now does.
- ``duplicate``: the checks passed but a processed record holds the NIK: ``duplicate_of``
  names it.
- ``rerecord``: the packet opened but the resident must come back (reason: biodata invalid
  under current rules, photo missing, unreadable or too small, signature missing or invalid).
- ``rejected``: the packet cannot be opened or verified (or failed to process repeatedly).

A record sealed as a re-recording (``rerecord_of`` in its manifest) of an earlier record of
the same station whose fate is ``rerecord`` or ``duplicate`` supersedes it: the earlier row
gets ``superseded_by``. The new record is judged on its own (neither of those earlier fates
holds the NIK, so it is never a duplicate of the record it replaces).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from app import packet as pkt
from server import db
from server.processing import counters
from server.processing.checks import DUPLICATE, NIK_HELD, PROCESSED, RERECORD, Verdict
from server.processing.queue import Item, packet_row_is_eligible
from server.processing.tables import queue, records, residents


@dataclass(frozen=True)
class Written:
    fate: str
    reason: str | None
    duplicate_of: str | None = None
    superseded: str | None = None


def apply(
    conn: Connection,
    item: Item,
    header: pkt.PacketHeader,
    received_at: float,
    verdict: Verdict,
    owner: str,
    now: float,
) -> Written | None:
    """Write the fate; None (nothing written) when the lease was lost or the packet has
    become ineligible (quarantined) meanwhile."""
    q = queue.c
    taken = conn.execute(
        delete(queue)
        .where(
            q.station_id == item.station_id,
            q.uuid == item.uuid,
            q.lease_owner == owner,
            packet_row_is_eligible(),
        )
        .returning(q.uuid)
    ).first()
    if taken is None:
        return None
    fate = verdict.fate or PROCESSED
    reason = verdict.reason
    dup_station = dup_uuid = None
    if verdict.ok and verdict.nik and verdict.desa:
        held = db.insert_ignore(
            conn,
            residents,
            {
                "nik": verdict.nik,
                "station_id": item.station_id,
                "uuid": item.uuid,
                "kode_wilayah": verdict.desa,
                "processed_at": now,
            },
        )
        if not held:
            r = residents.c
            dup_station, dup_uuid = conn.execute(
                select(r.station_id, r.uuid).where(r.nik == verdict.nik)
            ).one()
            fate, reason = DUPLICATE, NIK_HELD
    superseded = None
    if verdict.rerecord_of:
        rc = records.c
        done = conn.execute(
            update(records)
            .where(
                and_(
                    rc.station_id == item.station_id,
                    rc.uuid == verdict.rerecord_of,
                    rc.fate.in_((RERECORD, DUPLICATE)),
                    rc.superseded_by.is_(None),
                )
            )
            .values(superseded_by=item.uuid)
            .returning(rc.uuid)
        ).first()
        superseded = done[0] if done else None
    day = counters.day_of(received_at)
    conn.execute(
        records.insert().values(
            station_id=item.station_id,
            uuid=item.uuid,
            nik=verdict.nik,
            kode_wilayah=verdict.desa,
            kecamatan=header.kecamatan,
            operator=verdict.operator,
            sealed_at=header.sealed_at,
            received_at=received_at,
            processed_at=now,
            day=day,
            fate=fate,
            reason=reason,
            detail=";".join(verdict.details)[:2000] or None,
            duplicate_of_station=dup_station,
            duplicate_of=dup_uuid,
            rerecord_of=verdict.rerecord_of,
            superseded_by=None,
            processor=owner,
        )
    )
    counters.count(
        conn,
        day=day,
        kecamatan=header.kecamatan,
        desa=verdict.desa,
        station_id=item.station_id,
        operator=verdict.operator,
        fate=fate,
        now=now,
    )
    return Written(fate, reason, dup_uuid, superseded)
