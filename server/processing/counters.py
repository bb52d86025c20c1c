"""The counters the processor keeps, in the transaction that writes each fate: per day, kit,
operator and desa (``daily_counts``, read by ``recap``) and residents recorded per desa
(``desa_counts``, read by ``coverage``). Figures are read from these, never by counting records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from server.processing.tables import daily_counts, desa_counts

# A "day" is a day in Western Indonesia Time (UTC+7, no daylight saving): where the
# Disdukcapil offices of Java and Sumatra count.
DAY_TZ = timezone(timedelta(hours=7), "WIB")


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(DAY_TZ).date().isoformat()


def _upsert(conn: Connection, table: Any, values: dict[str, Any], add: dict[str, int]) -> None:
    """INSERT the row, or add ``add`` to its counters (one statement, both databases)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    sets: dict[str, Any] = {name: table.c[name] + stmt.excluded[name] for name in add}
    if "updated_at" in values:
        sets["updated_at"] = stmt.excluded.updated_at
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=sets))


def count(
    conn: Connection,
    *,
    day: str,
    kecamatan: str,
    desa: str | None,
    station_id: str,
    operator: str | None,
    fate: str,
    now: float,
) -> None:
    """One received packet with its fate; a processed one is a resident recorded in its desa."""
    figures = {"received": 1, "processed": 0, "duplicate": 0, "rerecord": 0, "rejected": 0}
    figures[fate] += 1
    key = {
        "day": day,
        "kecamatan": kecamatan,
        "desa": desa or "",
        "station_id": station_id,
        "operator": operator or "",
    }
    _upsert(conn, daily_counts, {**key, **figures}, figures)
    if fate == "processed" and desa:
        row = {
            "desa": desa,
            "kecamatan": desa[:8],
            "kabupaten": desa[:5],
            "provinsi": desa[:2],
            "terekam": 1,
            "updated_at": now,
        }
        _upsert(conn, desa_counts, row, {"terekam": 1})
