"""Taking back what a packet counted when it is quarantined after it was processed.

``station revoke ID --since TIME`` quarantines the packets received after the theft
(server/quarantine.py). The back office must never count a quarantined packet: one not yet
processed stays queued, untaken; one the processor had already judged is withdrawn here, in
the revocation's transaction:

- its counts are taken back (the same counters ``fates.apply_batch`` added to: per day, kit,
  operator and desa, the wilayah tree, the kit, the desa's residents);
- its row leaves the central index and the packet is queued again, so that, released by the
  office, it is judged afresh like any other (rejected, it is never taken);
- a record it superseded waits for its re-recording again;
- when it held its NIK (``processed``), the NIK's first duplicate that still counts becomes
  the resident's record (``processed``, its kit told through its fates) and the other
  duplicates name that one: a legitimate recording of a resident whose NIK a thief had used
  first is counted, not left a duplicate of a forgery.

Afterwards every counter equals what the index's records say (tests/server/test_quarantine.py
checks it on both databases).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, tuple_, update
from sqlalchemy.engine import Connection

from server.processing import counters
from server.processing.checks import DUPLICATE, PROCESSED
from server.processing.tables import queue, records, residents, station_counts


def _tally(t: counters.Tally, row: Any, fate: str, weight: int) -> None:
    t.add(
        day=row["day"],
        kecamatan=row["kecamatan"],
        desa=row["kode_wilayah"],
        station_id=row["station_id"],
        operator=row["operator"],
        fate=fate,
        weight=weight,
    )


def withdraw(conn: Connection, which: ColumnElement[bool], now: float) -> int:
    """Withdraw the records ``which`` selects (a condition on ``records``), in the caller's
    transaction; returns how many."""
    from server.station_fates import Fate, record_processed

    r = records.c
    gone = list(
        conn.execute(select(records).where(which).order_by(r.station_id, r.uuid)).mappings()
    )
    if not gone:
        return 0
    keys = {(g["station_id"], g["uuid"]) for g in gone}
    tally = counters.Tally()
    told: list[Fate] = []
    for g in gone:
        _tally(tally, g, g["fate"], -1)
        conn.execute(
            update(records)
            .where(r.station_id == g["station_id"], r.superseded_by == g["uuid"])
            .values(superseded_by=None)
        )
        if g["fate"] != PROCESSED or not g["nik"]:
            continue
        res = residents.c
        conn.execute(
            delete(residents).where(
                res.nik == g["nik"], res.station_id == g["station_id"], res.uuid == g["uuid"]
            )
        )
        of_it = (r.duplicate_of_station == g["station_id"], r.duplicate_of == g["uuid"])
        heirs = [
            h
            for h in conn.execute(
                select(records).where(*of_it).order_by(r.received_at, r.station_id, r.uuid)
            ).mappings()
            if (h["station_id"], h["uuid"]) not in keys
        ]
        if not heirs:
            continue
        heir = heirs[0]
        conn.execute(
            update(records)
            .where(r.station_id == heir["station_id"], r.uuid == heir["uuid"])
            .values(
                fate=PROCESSED,
                reason=None,
                duplicate_of_station=None,
                duplicate_of=None,
                processed_at=now,
            )
        )
        conn.execute(
            residents.insert().values(
                nik=g["nik"],
                station_id=heir["station_id"],
                uuid=heir["uuid"],
                kode_wilayah=heir["kode_wilayah"],
                processed_at=now,
            )
        )
        conn.execute(
            update(records)
            .where(*of_it)
            .values(duplicate_of_station=heir["station_id"], duplicate_of=heir["uuid"])
        )
        _tally(tally, heir, DUPLICATE, -1)
        _tally(tally, heir, PROCESSED, 1)
        told.append(Fate(heir["station_id"], heir["uuid"], PROCESSED))
    conn.execute(delete(records).where(tuple_(r.station_id, r.uuid).in_(sorted(keys))))
    conn.execute(
        queue.insert(),
        [
            {
                "station_id": g["station_id"],
                "uuid": g["uuid"],
                "received_at": g["received_at"],
                "lease_owner": None,
                "lease_until": None,
                "attempts": 0,
            }
            for g in gone
        ],
    )
    tally.flush(conn, now)
    # The newest packet counted per kit, from what is left of its records.
    k = station_counts.c
    for sid in sorted({g["station_id"] for g in gone}):
        newest = select(func.max(r.received_at)).where(r.station_id == sid).scalar_subquery()
        conn.execute(
            update(station_counts).where(k.station_id == sid).values(last_received_at=newest)
        )
    record_processed(conn, told, now)
    return len(gone)
