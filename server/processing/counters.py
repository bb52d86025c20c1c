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


_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")


class Tally:
    """The counts of the fates written in one transaction, added up, then written in one go
    in key order (``flush``): two processors' transactions then lock counter rows in the same
    order and cannot deadlock on them."""

    def __init__(self) -> None:
        self.daily: dict[tuple[str, str, str, str, str], dict[str, int]] = {}
        self.desa: dict[str, int] = {}

    def add(
        self,
        *,
        day: str,
        kecamatan: str,
        desa: str | None,
        station_id: str,
        operator: str | None,
        fate: str,
    ) -> None:
        """One received packet with its fate; a processed one is a resident of its desa."""
        key = (day, kecamatan, desa or "", station_id, operator or "")
        figures = self.daily.setdefault(key, dict.fromkeys(_FIGURES, 0))
        figures["received"] += 1
        figures[fate] += 1
        if fate == "processed" and desa:
            self.desa[desa] = self.desa.get(desa, 0) + 1

    def flush(self, conn: Connection, now: float) -> None:
        for (day, kecamatan, desa, station_id, operator), figures in sorted(self.daily.items()):
            key = {
                "day": day,
                "kecamatan": kecamatan,
                "desa": desa,
                "station_id": station_id,
                "operator": operator,
            }
            _upsert(conn, daily_counts, {**key, **figures}, figures)
        for desa, n in sorted(self.desa.items()):
            row = {
                "desa": desa,
                "kecamatan": desa[:8],
                "kabupaten": desa[:5],
                "provinsi": desa[:2],
                "terekam": n,
                "updated_at": now,
            }
            _upsert(conn, desa_counts, row, {"terekam": n})
        self.daily.clear()
        self.desa.clear()
