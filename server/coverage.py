"""Figures: coverage per wilayah, the day's recap and the list of fates (the targets they are
measured against: server/targets.py). Every figure is read from the processor's counters (``area_counts``,
``daily_counts``) and the targets resolved per wilayah at import (``area_targets``), never by
counting records: a wilayah and its areas are a few rows, whatever the wilayah's size.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from app.domain import regions
from server.errors import CoverageInputError
from server.processing.checks import FATES
from server.processing.tables import (
    area_counts,
    area_days,
    area_targets,
    daily_counts,
    records,
)
from server.targets import Figures, import_targets, parse_targets, target_history
from server.timeutil import iso_seconds as _iso

# The targets' names the office's CLI calls through this module (server/targets.py).
__all__ = ["CoverageInputError", "import_targets", "parse_targets", "target_history"]

_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")


def wilayah(code: str, field: str = "--wilayah") -> regions.Region:
    region = regions.get(code)
    if region is None:
        shaped = regions.normalize_code(code) is not None
        why = "is not a known wilayah" if shaped else "is not a wilayah code like 36.03.32"
        raise CoverageInputError(f"{field}: {code!r} {why}")
    return region


# --- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days received (WIB, as the daily report counts them), both ends included; ``None``:
    from the first day / up to today."""

    start: str | None
    end: str | None


PERIOD_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")


class PeriodError(CoverageInputError):
    """A bad date filter: ``field`` (dari or sampai), ``kind`` (format, order, future)."""

    def __init__(self, field: str, kind: str, value: str, other: str = "") -> None:
        why = {
            "format": f"expected a date YYYY-MM-DD, got {value!r}",
            "order": f"{value} is after sampai ({other})",
            "future": f"{value} is after today ({other})",
        }[kind]
        super().__init__(f"{field}: {why}")
        self.field, self.kind, self.value, self.other = field, kind, value, other


def parse_period(start: str | None, end: str | None, today: date) -> Period | None:
    """The downloads' date filter (``dari``, ``sampai``): None when neither is given. A bad
    date, a start after the end, or a day after today raises ``PeriodError``."""
    days: list[str | None] = []
    for name, value in (("dari", start), ("sampai", end)):
        value = (value or "").strip()
        if not value:
            days.append(None)
            continue
        try:
            days.append(date.fromisoformat(value).isoformat())
        except ValueError as exc:
            raise PeriodError(name, "format", value[:40]) from exc
    first, last = days
    if first is None and last is None:
        return None
    if first and last and first > last:
        raise PeriodError("dari", "order", first, last)
    for name, day in (("dari", first), ("sampai", last)):
        if day and day > today.isoformat():
            raise PeriodError(name, "future", day, today.isoformat())
    return Period(first, last)


def _period_read(
    conn: Connection, codes: list[str], period: Period
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Per wilayah: residents recorded after the period's end (to take off the figure since
    the beginning) and the period's own figures, from ``area_days``."""
    d = area_days.c
    inside = [d.day >= period.start] if period.start else []
    if period.end:
        inside.append(d.day <= period.end)
    after = func.sum(case((d.day > period.end, d.processed), else_=0)) if period.end else None
    sums = [func.sum(case((and_(*inside), d[f]), else_=0)) if inside else func.sum(d[f])
            for f in PERIOD_FIGURES]  # fmt: skip
    later: dict[str, int] = {}
    within: dict[str, dict[str, int]] = {}
    step = len(codes) or 1 if conn.dialect.name == "postgresql" else 500
    for i in range(0, len(codes), step):
        part = codes[i : i + step]
        stmt = select(d.kode, *sums, *([after] if after is not None else []))
        if period.start:  # days before the period count for neither
            stmt = stmt.where(d.day >= period.start)
        for row in conn.execute(stmt.where(one_of(conn, d.kode, part)).group_by(d.kode)):
            k = str(row[0])
            within[k] = {f: int(row[1 + n] or 0) for n, f in enumerate(PERIOD_FIGURES)}
            later[k] = int(row[6] or 0) if after is not None else 0
    return later, within


def _figure(code: str, name: str, terekam: int, figures: Figures) -> dict[str, Any]:
    wajib, target = figures.get(code, (None, None))
    return {
        "kode": code,
        "nama": name,
        "wajib_ktp": wajib,
        "target": target,
        "terekam": terekam,
        "sisa": max(wajib - terekam, 0) if wajib is not None else None,
        "persen": round(100.0 * terekam / wajib, 2) if wajib else None,
    }


@functools.lru_cache(maxsize=8192)
def children(code: str) -> tuple[regions.Region, ...]:
    """The wilayah's child areas ('' = the provinces), kept: the region list does not change
    while the server runs, and building them is most of a small page's time."""
    return tuple(regions.children(code or None))


def one_of(conn: Connection, column: Any, values: list[str]) -> Any:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter however many values
    (an IN list of hundreds of codes costs ~10 ms to bind and plan, the array ~1 ms)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(values)


def _read(conn: Connection, codes: list[str]) -> tuple[dict[str, int], Figures]:
    """Residents recorded and the resolved targets of these wilayah ('' = the country)."""
    terekam: dict[str, int] = {}
    figures: Figures = {}
    a, t = area_counts.c, area_targets.c
    step = len(codes) or 1 if conn.dialect.name == "postgresql" else 500
    for i in range(0, len(codes), step):
        part = codes[i : i + step]
        terekam.update(
            (str(k), int(v))
            for k, v in conn.execute(select(a.kode, a.processed).where(one_of(conn, a.kode, part)))
        )
        figures.update(
            (str(k), (w, g))
            for k, w, g in conn.execute(
                select(t.kode, t.wajib_ktp, t.target).where(one_of(conn, t.kode, part))
            )
        )
    return terekam, figures


def coverage(engine: Engine, code: str | None = None, depth: int = 1) -> dict[str, Any]:
    """``{"wilayah": {...}, "areas": [...], "as_of": ...}`` for a wilayah (default: the
    country) and its child areas (``depth`` 2: each child with its own ``areas``)."""
    region = wilayah(code) if code else None
    top = region.code if region else ""
    if depth not in (1, 2):
        raise CoverageInputError(f"--depth: must be 1 or 2, got {depth}")
    as_of = time.time()
    areas = children(top)
    grandchildren = {c.code: children(c.code) for c in areas} if depth == 2 else {}
    codes = [top, *(c.code for c in areas)]
    codes += [g.code for below in grandchildren.values() for g in below]
    with engine.connect() as conn:
        terekam, figures = _read(conn, codes)
    # The country is the sum of its provinces (no row of its own); a wilayah has its row.
    own = sum(terekam.get(c.code, 0) for c in areas) if not top else terekam.get(top, 0)

    def area(child: regions.Region) -> dict[str, Any]:
        fig = _figure(child.code, child.name, terekam.get(child.code, 0), figures)
        if child.code in grandchildren:
            fig["areas"] = [
                _figure(g.code, g.name, terekam.get(g.code, 0), figures)
                for g in grandchildren[child.code]
            ]
        return fig

    return {
        "wilayah": _figure(top, region.name if region else "Indonesia", own, figures),
        "areas": [area(c) for c in areas],
        "as_of": _iso(as_of),
    }


TREE_PIECE = 2000  # rows of the coverage CSV read at a time


def coverage_tree(
    engine: Engine, code: str | None, deepest: int = 4, period: Period | None = None
) -> Iterator[list[tuple[dict[str, Any], int]]]:
    """The wilayah and every area below it down to level ``deepest`` (4: desa), each followed
    by the areas below it, as (figures, level), the same figures as ``coverage``: in pieces
    (the wilayah, then its areas with everything below them, a few thousand at a time).

    With a ``period``: ``terekam``, ``sisa`` and ``persen`` as they stood at the end of its
    last day (today's figures when it ends today), and ``periode`` the period's own received,
    processed, duplicate, rerecord and rejected."""
    region = wilayah(code) if code else None
    top = region.code if region else ""
    level = region.level if region else 0

    def below(parent: str, lv: int) -> list[tuple[regions.Region, int]]:
        out: list[tuple[regions.Region, int]] = []
        if lv > deepest:
            return out
        for child in children(parent):
            out.append((child, lv))
            out.extend(below(child.code, lv + 1))
        return out

    def figures_of(
        conn: Connection, pairs: list[tuple[str, str, int]], sum_of: dict[str, list[str]]
    ) -> list[tuple[dict[str, Any], int]]:
        """(code, name, level) -> figures; ``sum_of``: a wilayah counted as the sum of
        these areas (the country: its provinces)."""
        codes = [c for c, _, _ in pairs] + [a for parts in sum_of.values() for a in parts]
        terekam, figs = _read(conn, codes)
        later, within = _period_read(conn, codes, period) if period else ({}, {})
        out = []
        for c, name, lv in pairs:
            parts = sum_of.get(c, [c])
            fig = _figure(c, name, sum(terekam.get(a, 0) - later.get(a, 0) for a in parts), figs)
            if period:
                fig["periode"] = {
                    f: sum(within.get(a, {}).get(f, 0) for a in parts) for f in PERIOD_FIGURES
                }
            out.append((fig, lv))
        return out

    areas = children(top) if level < deepest else ()
    with engine.connect() as conn:  # one connection for the whole stream
        # The country has no row of its own: the sum of its provinces.
        sum_of = {"": [a.code for a in children("")]} if not top else {}
        name = region.name if region else "Indonesia"
        yield figures_of(conn, [(top, name, level)], sum_of)
        # The areas with everything below them, a few thousand rows a read.
        piece: list[tuple[str, str, int]] = []
        for n, area in enumerate(areas):
            piece.append((area.code, area.name, level + 1))
            piece += [(r.code, r.name, lv) for r, lv in below(area.code, level + 2)]
            if len(piece) >= TREE_PIECE or n == len(areas) - 1:
                yield figures_of(conn, piece, {})
                piece = []


# --- recap and records ------------------------------------------------------------------------


def parse_day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise CoverageInputError(f"--date: expected YYYY-MM-DD, got {value!r}") from exc


_RECAP_PER = {"kecamatan": "kecamatan", "stations": "station_id", "operators": "operator",
               "desa": "desa"}  # fmt: skip


def recap(
    engine: Engine,
    day: str,
    kecamatan: str | None = None,
    per: tuple[str, ...] = ("kecamatan", "stations", "operators", "desa"),
    busiest: int | None = None,
) -> dict[str, Any]:
    """The day's figures (packets received that day, WIB) per kecamatan, kit, operator, desa
    (``per``: which of them), each list in code order. ``busiest``: only the N that received
    the most of each, most first, and ``more`` says how many each left out (a page)."""
    d = daily_counts.c
    sums = [func.sum(d[f]).label(f) for f in _FIGURES]
    where = [d.day == day]
    if kecamatan:
        where.append(d.kecamatan == kecamatan)
    doc: dict[str, Any] = {"date": day, "kecamatan_filter": kecamatan}
    columns = [d[_RECAP_PER[key]] for key in per]
    counted: dict[str, int] = {}

    def row(kode: Any, figures: Any) -> dict[str, Any]:
        return {"kode": kode, **{f: int(figures[i] or 0) for i, f in enumerate(_FIGURES)}}

    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One pass over the day's rows for every grouping (GROUPING SETS); with
            # ``busiest``, the database keeps the N largest of each grouping and counts all.
            quote = conn.dialect.identifier_preparer.quote
            sets = ", ".join(f"({quote(c.name)})" for c in columns)
            grouping = func.grouping(*columns)
            grouped = (
                select(
                    *columns,
                    grouping.label("g"),
                    *sums,
                    func.row_number()
                    .over(partition_by=grouping, order_by=[func.sum(d.received).desc(), *columns])
                    .label("rn"),
                    func.count().over(partition_by=grouping).label("n"),
                )
                .where(*where)
                .group_by(text(f"GROUPING SETS ({sets}{', ' if sets else ''}())"))
                .subquery()
            )
            stmt = select(grouped)
            if busiest is not None:
                stmt = stmt.where(grouped.c.rn <= busiest)
            groups: dict[str, list[dict[str, Any]]] = {key: [] for key in per}
            total = None
            n = len(columns)
            for r in conn.execute(stmt):
                bits = r[n]
                if bits == (1 << n) - 1:  # every column rolled up: the day's total
                    total = r[n + 1 : n + 6]
                    continue
                i = next(i for i in range(n) if not bits >> (n - 1 - i) & 1)
                groups[per[i]].append(row(r[i], r[n + 1 : n + 6]))
                counted[per[i]] = int(r[n + 7])
            for key in per:
                doc[key] = groups[key]
        else:
            for key, column in zip(per, columns, strict=True):
                rows = conn.execute(select(column, *sums).where(*where).group_by(column)).all()
                doc[key] = [row(r[0], r[1:]) for r in rows]
                counted[key] = len(rows)
            total = conn.execute(select(*sums).where(*where)).one()
    for key in per:
        if busiest is None:
            doc[key].sort(key=lambda x: x["kode"])
        else:
            doc[key].sort(key=lambda x: (-x["received"], x["kode"]))
            del doc[key][busiest:]
    if busiest is not None:
        doc["more"] = {key: max(counted.get(key, 0) - busiest, 0) for key in per}
    doc["total"] = {f: int(total[i] or 0) if total else 0 for i, f in enumerate(_FIGURES)}
    return doc


def recap_csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "per", "kode", *_FIGURES])
    for per in ("kecamatan", "stations", "operators", "desa"):
        for row in doc[per]:
            w.writerow([doc["date"], per, row["kode"], *(row[f] for f in _FIGURES)])
    w.writerow([doc["date"], "total", "", *(doc["total"][f] for f in _FIGURES)])
    return buf.getvalue()


def parse_since(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CoverageInputError(
            f"--since: expected a date or time like 2026-12-07T08:00:00Z, got {value!r}"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def list_records(
    engine: Engine,
    status: str | None = None,
    station: str | None = None,
    since: float | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The fates, oldest processed first, without personal data (no NIK, name or address)."""
    if status is not None and status not in FATES:
        raise CoverageInputError(f"--status: one of {', '.join(FATES)}, got {status!r}")
    r = records.c
    stmt = select(
        r.uuid,
        r.station_id,
        r.operator,
        r.kecamatan,
        r.kode_wilayah,
        r.sealed_at,
        r.received_at,
        r.processed_at,
        r.fate,
        r.reason,
        r.detail,
        r.duplicate_of,
        r.duplicate_of_station,
        r.rerecord_of,
        r.superseded_by,
    ).order_by(r.processed_at, r.uuid)
    if status:
        stmt = stmt.where(r.fate == status)
    if station:
        stmt = stmt.where(r.station_id == station)
    if since is not None:
        stmt = stmt.where(r.processed_at >= since)
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    out = []
    for row in rows:
        d = dict(row)
        d["station"] = d.pop("station_id")
        d["desa"] = d.pop("kode_wilayah")
        for k in ("received_at", "processed_at"):
            d[k] = _iso(d[k])
        out.append(d)
    return out


def summary(engine: Engine) -> dict[str, int]:
    """Fates written so far and packets waiting (``process --once`` prints it)."""
    from server.processing.tables import queue

    with engine.connect() as conn:
        by_fate: dict[str, int] = {
            str(k): int(v)
            for k, v in conn.execute(
                select(records.c.fate, func.count()).group_by(records.c.fate)
            ).all()
        }
        waiting = conn.execute(select(func.count()).select_from(queue)).scalar()
    counts: dict[str, int] = defaultdict(int, by_fate)
    return {**{f: counts[f] for f in FATES}, "queued": int(waiting or 0)}
