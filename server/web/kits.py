"""The Kit page's rows: every station with what the server knows of it and the health its kit
reports, and the alerts that follow.

Kits report their health with every pull (issue 12: version, records pending, oldest
unsent, disk free, devices; the server measures the clock offset): ``HealthSource`` is a
function from station ids to ``KitHealth``, by default ``reported`` (server/health.py, the
latest report of each kit). A kit that has never reported shows "belum dilaporkan" in those
columns. What the server itself knows (the last upload, today's packets, revocation,
assignment) is shown beside it.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from app.domain import regions
from server import db
from server.core import ServerCore, Station, iso
from server.processing.tables import daily_counts, records
from server.web.figures import today_wib

SILENT_AFTER_S = 48 * 3600
CLOCK_OFF_S = 5 * 60
BEHIND_AFTER_S = 24 * 3600  # oldest unsent record older than this: falling behind


@dataclass(frozen=True)
class KitHealth:
    """What a kit reports of itself (None: not reported)."""

    last_seen: float | None = None
    version: str | None = None
    pending: int | None = None
    oldest_unsent_s: float | None = None
    clock_offset_s: float | None = None
    disk_free_bytes: int | None = None
    devices: str | None = None


HealthSource = Callable[[Engine, list[str]], dict[str, KitHealth]]


def no_reports(_engine: Engine, _ids: list[str]) -> dict[str, KitHealth]:
    """No health at all (a page that shows only what the server knows)."""
    return {}


def reported(engine: Engine, ids: list[str]) -> dict[str, KitHealth]:
    """The latest report of each kit (server/health.py)."""
    from server.health import health_source

    return health_source(engine, ids) if ids else {}


@dataclass
class KitRow:
    station: Station
    kecamatan_name: str
    health: KitHealth
    last_upload: float | None
    today_received: int
    alerts: list[str] = field(default_factory=list)

    @property
    def last_contact(self) -> float | None:
        seen = [t for t in (self.health.last_seen, self.last_upload) if t is not None]
        return max(seen) if seen else None

    @property
    def light(self) -> str:
        """green, amber or red: the worst alert."""
        if any(a in ("revoked", "silent") for a in self.alerts):
            return "red"
        return "amber" if self.alerts else "green"


def _alerts(row: KitRow, now: float) -> list[str]:
    st, h = row.station, row.health
    if st.revoked:
        return ["revoked"]
    if not st.public_key:
        return ["awaiting"]
    out = []
    contact = row.last_contact or st.row["enrolled_at"]
    if contact is not None and now - contact > SILENT_AFTER_S:
        out.append("silent")
    if h.oldest_unsent_s is not None and h.oldest_unsent_s > BEHIND_AFTER_S:
        out.append("behind")
    if h.clock_offset_s is not None and abs(h.clock_offset_s) > CLOCK_OFF_S:
        out.append("clock")
    return out


def kecamatan_name(code: str) -> str:
    region = regions.get(code)
    return region.name if region else code


def kit_rows(
    core: ServerCore,
    health: HealthSource = reported,
    now: float | None = None,
    only: Station | None = None,
) -> list[KitRow]:
    """Every kit (or ``only`` this one), worst light first."""
    now = time.time() if now is None else now
    stations = [only] if only is not None else core.list_stations()
    ids = [s.id for s in stations]
    reported = health(core.engine, ids)
    p, d = db.packets.c, daily_counts.c
    last = select(p.station_id, func.max(p.received_at)).group_by(p.station_id)
    day = select(d.station_id, func.sum(d.received)).where(d.day == today_wib().isoformat())
    if only is not None:
        last = last.where(p.station_id == only.id)
        day = day.where(d.station_id == only.id)
    with core.engine.connect() as conn:
        uploads = dict(conn.execute(last).all())
        today = dict(conn.execute(day.group_by(d.station_id)).all())
    out = []
    for st in stations:
        row = KitRow(
            st,
            kecamatan_name(st.kecamatan),
            reported.get(st.id, KitHealth()),
            uploads.get(st.id),
            int(today.get(st.id) or 0),
        )
        row.alerts = _alerts(row, now)
        out.append(row)
    out.sort(key=lambda r: ({"red": 0, "amber": 1, "green": 2}[r.light], r.station.name.lower()))
    return out


def assignment_history(core: ServerCore, station_id: str) -> list[dict[str, Any]]:
    """Every kecamatan the kit has been assigned, oldest first."""
    a = db.station_assignments.c
    with core.engine.connect() as conn:
        rows = conn.execute(
            select(a.kecamatan, a.since).where(a.station_id == station_id).order_by(a.since)
        ).all()
    return [{"kecamatan": k, "nama": kecamatan_name(k), "since": s} for k, s in rows]


def fates_listed(
    engine: Engine, fate: str, code: str = "", limit: int = 500
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` records of a fate (the resident's desa under ``code``), newest
    first, and how many there are in all. No personal data."""
    r = records.c
    where = [r.fate == fate]
    if code:
        # The resident's desa (a prefix range on the index revision 0006 makes on PostgreSQL).
        where.append(r.kode_wilayah.like(code + ".%") | (r.kode_wilayah == code))
    with engine.connect() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(records).where(*where)).scalar() or 0
        )
        rows = conn.execute(
            select(
                r.uuid,
                r.station_id,
                r.kode_wilayah,
                r.received_at,
                r.reason,
                r.detail,
                r.duplicate_of,
                r.superseded_by,
            )
            .where(*where)
            .order_by(r.received_at.desc())
            .limit(limit)
        ).mappings()
        return [dict(x) for x in rows], total


def recent_fates(core: ServerCore, station_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The kit's latest fates, newest first (no personal data)."""
    r = records.c
    with core.engine.connect() as conn:
        rows = conn.execute(
            select(r.uuid, r.kode_wilayah, r.processed_at, r.fate, r.reason, r.duplicate_of)
            .where(r.station_id == station_id)
            .order_by(r.processed_at.desc())
            .limit(limit)
        ).mappings()
        return [dict(x) for x in rows]


def summarize(rows: Iterable[KitRow]) -> dict[str, int]:
    counts = {"all": 0, "green": 0, "amber": 0, "red": 0}
    for row in rows:
        counts["all"] += 1
        counts[row.light] += 1
    return counts


CSV_COLUMNS = (
    "station_id", "nama", "kecamatan", "status", "peringatan", "terakhir_unggah",
    "diterima_hari_ini", "terakhir_terlihat", "versi", "tertunda", "tertua_belum_terkirim_s",
    "selisih_jam_s", "disk_kosong_bytes", "perangkat",
)  # fmt: skip


def kits_csv(rows: list[KitRow]) -> Iterator[str]:
    """The Kit list as CSV (times ISO 8601 UTC; a health figure not reported is empty)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        st, h = r.station, r.health
        state = "revoked" if st.revoked else ("enrolled" if st.public_key else "awaiting")
        values = (
            st.id, st.name, st.kecamatan, state, ";".join(r.alerts), iso(r.last_upload),
            r.today_received, iso(h.last_seen), h.version, h.pending, h.oldest_unsent_s,
            h.clock_offset_s, h.disk_free_bytes, h.devices,
        )  # fmt: skip
        writer.writerow(["" if v is None else v for v in values])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
