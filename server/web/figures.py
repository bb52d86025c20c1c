"""What the Cakupan page shows beside ``server.coverage``: duplicates and re-records per area,
records per day, the SVG chart of them, and the coverage CSV (all levels down to desa).

Every figure comes from the back office's counters rolled up the wilayah tree (``area_counts``,
``area_days``) through ``server.coverage`` or the same tables, never by counting records.
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

from app.domain import regions
from server import coverage
from server.processing.counters import DAY_TZ
from server.processing.tables import area_counts, area_days
from server.web.format import number

CSV_COLUMNS = ("kode", "nama", "tingkat", "wajib_ktp", "target", "terekam", "sisa", "persen")
LEVEL_NAMES = {0: "negara", 1: "provinsi", 2: "kabupaten", 3: "kecamatan", 4: "desa"}


def today_wib() -> date:
    return datetime.now(DAY_TZ).date()


def _area_codes(code: str, child_level: int) -> list[str]:
    """The areas of ``child_level`` that ``fates_per_area`` reports: ``code`` itself when it
    is of that level, else its children ('' = the country: the provinces)."""
    region = regions.get(code) if code else None
    if region is not None and region.level == child_level:
        return [region.code]
    return [c.code for c in coverage.children(code)]


def fates_per_area(engine: Engine, code: str, child_level: int) -> dict[str, dict[str, int]]:
    """Duplicates and re-records (and received) per child area of ``code`` ('' = country),
    by the resident's desa (``code`` itself when ``child_level`` is its own level)."""
    a = area_counts.c
    codes = _area_codes(code, child_level)
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"received": 0, "duplicate": 0, "rerecord": 0}
    )
    if not codes:
        return out
    with engine.connect() as conn:
        stmt = select(a.kode, a.received, a.duplicate, a.rerecord).where(
            coverage.one_of(conn, a.kode, codes)
        )
        for key, received, duplicate, rerecord in conn.execute(stmt):
            out[str(key)] = {
                "received": int(received),
                "duplicate": int(duplicate),
                "rerecord": int(rerecord),
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
    a = area_days.c
    codes = [code] if code else [c.code for c in coverage.children("")]
    with engine.connect() as conn:
        stmt = (
            select(a.day, func.sum(a.received), func.sum(a.processed))
            .where(
                coverage.one_of(conn, a.kode, codes),
                a.day >= start.isoformat(),
                a.day <= end.isoformat(),
            )
            .group_by(a.day)
        )
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


PERIOD_COLUMNS = ("dari", "sampai", "diterima_periode", "terekam_periode", "ganda_periode",
                  "rekam_ulang_periode", "ditolak_periode")  # fmt: skip


def _csv_row(fig: dict[str, Any], level: int, period: coverage.Period | None = None) -> list[Any]:
    row = [
        fig["kode"],
        fig["nama"],
        LEVEL_NAMES[level],
        *("" if fig[k] is None else fig[k] for k in CSV_COLUMNS[3:]),
    ]
    if period is not None:
        row += [period.start or "", period.end or ""]
        row += [fig["periode"][f] for f in coverage.PERIOD_FIGURES]
    return row


def coverage_csv(
    engine: Engine, code: str | None, deepest: int = 4, period: coverage.Period | None = None
) -> Iterator[str]:
    """The coverage CSV, one piece at a time (a province's every desa streams as it is read):
    the wilayah, then each area below it down to level ``deepest``, each followed by the areas
    below it. Figures exactly as ``ektp-server coverage --json`` gives them; with a
    ``period``, terekam / sisa / persen as they stood at its end and the period's own
    figures in the columns after them (``PERIOD_COLUMNS``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (PERIOD_COLUMNS if period else ()))
    for rows in coverage.coverage_tree(engine, code, deepest, period):
        for fig, level in rows:
            writer.writerow(_csv_row(fig, level, period))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
