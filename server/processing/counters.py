"""The counters the processor keeps, in the transaction that writes each fate: per day, kit,
operator and desa (``daily_counts``, read by ``recap``), residents recorded per desa
(``desa_counts``), the same figures rolled up the wilayah tree, in all and per day
(``area_counts``, ``area_days``: read by ``coverage`` and the office page), and per kit
(``station_counts``). Figures are read from these, never by counting records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from server.processing.tables import (
    area_counts,
    area_days,
    daily_counts,
    desa_counts,
    station_counts,
)

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
# Code lengths of a province, kabupaten, kecamatan and desa: a desa's areas are its prefixes.
AREA_WIDTHS = (2, 5, 8, 13)


def areas_of(desa: str) -> list[str]:
    """The desa and the kecamatan, kabupaten and province it lies in (codes)."""
    return [desa[:w] for w in AREA_WIDTHS if len(desa) >= w]


def _upsert_many(
    conn: Connection,
    table: Any,
    rows: list[dict[str, Any]],
    add: tuple[str, ...],
    latest: tuple[str, ...] = (),
) -> None:
    """INSERT the rows, or add their ``add`` figures to the rows already there (one statement
    for all; ``latest``: columns that keep the larger value)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(rows)
    keys = [c.name for c in table.primary_key.columns]
    sets: dict[str, Any] = {name: table.c[name] + stmt.excluded[name] for name in add}
    if "updated_at" in rows[0]:
        sets["updated_at"] = stmt.excluded.updated_at
    for name in latest:
        pair = (func.coalesce(table.c[name], 0), func.coalesce(stmt.excluded[name], 0))
        # SQLite's two-argument max() is the larger of the two, as greatest() is.
        sets[name] = (func.greatest if conn.dialect.name == "postgresql" else func.max)(*pair)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=sets))


class Tally:
    """The counts of the fates written in one transaction, added up, then written in one go
    in key order (``flush``): two processors' transactions then lock counter rows in the same
    order and cannot deadlock on them."""

    def __init__(self) -> None:
        self.daily: dict[tuple[str, str, str, str, str], dict[str, int]] = {}
        self.desa: dict[str, int] = {}
        self.area_days: dict[tuple[str, str], dict[str, int]] = {}
        self.stations: dict[str, dict[str, Any]] = {}

    def add(
        self,
        *,
        day: str,
        kecamatan: str,
        desa: str | None,
        station_id: str,
        operator: str | None,
        fate: str,
        received_at: float | None = None,
        weight: int = 1,
    ) -> None:
        """One received packet with its fate; a processed one is a resident of its desa.
        ``weight`` -1 takes a counted packet back (server/processing/withdraw.py)."""
        key = (day, kecamatan, desa or "", station_id, operator or "")
        figures = self.daily.setdefault(key, dict.fromkeys(_FIGURES, 0))
        figures["received"] += weight
        figures[fate] += weight
        if fate == "processed" and desa:
            self.desa[desa] = self.desa.get(desa, 0) + weight
        for area in areas_of(desa or ""):
            figures = self.area_days.setdefault((area, day), dict.fromkeys(_FIGURES, 0))
            figures["received"] += weight
            figures[fate] += weight
        kit = self.stations.setdefault(
            station_id, {**dict.fromkeys(_FIGURES, 0), "last_received_at": received_at}
        )
        kit["received"] += weight
        kit[fate] += weight
        if received_at is not None:
            kit["last_received_at"] = max(kit["last_received_at"] or 0.0, received_at)

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
        # The areas, in key order too (one statement a table: a few round trips a batch).
        totals: dict[str, dict[str, int]] = {}
        for (area, _day), figures in self.area_days.items():
            total = totals.setdefault(area, dict.fromkeys(_FIGURES, 0))
            for name, n in figures.items():
                total[name] += n
        _upsert_many(
            conn,
            area_counts,
            [{"kode": k, **totals[k], "updated_at": now} for k in sorted(totals)],
            _FIGURES,
        )
        _upsert_many(
            conn,
            area_days,
            [{"kode": k, "day": d, **self.area_days[(k, d)]} for k, d in sorted(self.area_days)],
            _FIGURES,
        )
        _upsert_many(
            conn,
            station_counts,
            [{"station_id": k, **self.stations[k]} for k in sorted(self.stations)],
            _FIGURES,
            latest=("last_received_at",),
        )
        self.daily.clear()
        self.desa.clear()
        self.area_days.clear()
        self.stations.clear()
