"""What the Cakupan page shows beside ``server.coverage``: duplicates and re-records per area,
records per day, the SVG chart of them, and the coverage CSV (all levels down to desa).

Every figure comes from the back office's counters (``daily_counts``, ``desa_counts``) through
``server.coverage`` or the same tables, never by counting records.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Engine, func, select

from server import coverage
from server.processing.counters import DAY_TZ
from server.processing.tables import daily_counts
from server.web.format import number

CSV_COLUMNS = ("kode", "nama", "tingkat", "wajib_ktp", "target", "terekam", "sisa", "persen")
LEVEL_NAMES = {0: "negara", 1: "provinsi", 2: "kabupaten", 3: "kecamatan", 4: "desa"}


def today_wib() -> date:
    return datetime.now(DAY_TZ).date()


def fates_per_area(engine: Engine, code: str, child_level: int) -> dict[str, dict[str, int]]:
    """Duplicates and re-records (and received) per child area of ``code`` ('' = country),
    by the resident's desa."""
    d = daily_counts.c
    width = len(".".join(["00", "00", "00", "0000"][:child_level]))
    area = func.substr(d.desa, 1, width)  # grouped in the database: one row an area
    stmt = select(area, func.sum(d.received), func.sum(d.duplicate), func.sum(d.rerecord)).group_by(
        area
    )
    if code:
        stmt = stmt.where(d.desa.like(code + ".%"))
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"received": 0, "duplicate": 0, "rerecord": 0}
    )
    with engine.connect() as conn:
        for key, received, duplicate, rerecord in conn.execute(stmt):
            out[str(key)] = {
                "received": int(received or 0),
                "duplicate": int(duplicate or 0),
                "rerecord": int(rerecord or 0),
            }
    return out


@dataclass(frozen=True)
class Day:
    day: date
    received: int
    processed: int


def per_day(engine: Engine, code: str, days: int = 30, end: date | None = None) -> list[Day]:
    """Packets received and residents recorded per day (WIB) for the last ``days`` days, the
    resident's desa under ``code``; days without any are zero."""
    end = end or today_wib()
    start = end - timedelta(days=days - 1)
    d = daily_counts.c
    stmt = (
        select(d.day, func.sum(d.received), func.sum(d.processed))
        .where(d.day >= start.isoformat(), d.day <= end.isoformat())
        .group_by(d.day)
    )
    if code:
        stmt = stmt.where(d.desa.like(code + ".%"))
    with engine.connect() as conn:
        got = {str(k): (int(r or 0), int(p or 0)) for k, r, p in conn.execute(stmt)}
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        r, p = got.get(day.isoformat(), (0, 0))
        out.append(Day(day, r, p))
    return out


def chart_svg(days: list[Day], title: str) -> str:
    """A bar chart of residents recorded per day (received as a lighter bar behind), drawn
    here as SVG: no chart library, nothing for the browser to run."""
    width, height, left, bottom, top = 760, 220, 48, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([d.received for d in days] + [d.processed for d in days] + [1])
    step = _nice_step(peak)
    ymax = step * -(-peak // step)
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(0, ymax + 1, step):
        y = top + plot_h - plot_h * i / ymax
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{number(i)}</text>"
        )
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        for value, cls in ((d.received, "received"), (d.processed, "processed")):
            h = plot_h * value / ymax
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" class="{cls}" data-day="{d.day.isoformat()}" '
                f'data-value="{value}"><title>{d.day.strftime("%d/%m")}: '
                f"{number(d.processed)} terekam, {number(d.received)} diterima</title></rect>"
            )
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 8}" class="axis" '
                f'text-anchor="middle">{d.day.strftime("%d/%m")}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if peak / step <= 5:
            return step
    return 100000


def _csv_row(fig: dict[str, Any], level: int) -> list[Any]:
    return [
        fig["kode"],
        fig["nama"],
        LEVEL_NAMES[level],
        *("" if fig[k] is None else fig[k] for k in CSV_COLUMNS[3:]),
    ]


def coverage_csv(engine: Engine, code: str | None, deepest: int = 4) -> Iterator[str]:
    """The coverage CSV, one piece at a time (a province's every desa streams as it is read):
    the wilayah, then each area below it down to level ``deepest``, parents before children.
    Figures exactly as ``ektp-server coverage --json`` gives them."""
    region = coverage.wilayah(code) if code else None
    level = region.level if region else 0
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    top = region.code if region else None
    doc = coverage.coverage(engine, top, depth=1)
    writer.writerow(_csv_row(doc["wilayah"], level))
    yield flush()
    yield from _below(engine, top, level, deepest, writer, flush, doc)


def _below(
    engine: Engine,
    code: str | None,
    level: int,
    deepest: int,
    writer: Any,
    flush: Any,
    doc: dict[str, Any] | None = None,
) -> Iterator[str]:
    """The rows under ``code`` down to ``deepest``, parents first: two levels a query where
    they are the last two (a kabupaten's kecamatan and desa in one ``coverage --depth 2``)."""
    remaining = deepest - level
    if remaining <= 0:
        return
    if remaining == 2:
        doc = coverage.coverage(engine, code, depth=2)
    elif doc is None:
        doc = coverage.coverage(engine, code, depth=1)
    for area in doc["areas"]:
        writer.writerow(_csv_row(area, level + 1))
        for sub in area.get("areas", []):
            writer.writerow(_csv_row(sub, level + 2))
        if remaining > 2:
            yield flush()
            yield from _below(engine, area["kode"], level + 1, deepest, writer, flush)
    yield flush()
