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
import functools
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Engine, case, func, or_, select

from app.domain import regions
from server import db
from server.core import ServerCore, Station, iso
from server.coverage import PERIOD_FIGURES, Period, one_of
from server.kit_tables import kit_health, kit_moves
from server.processing.tables import daily_counts, records, station_counts
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
    health: KitHealth
    last_upload: float | None
    today_received: int
    alerts: list[str] = field(default_factory=list)

    @property
    def kecamatan_name(self) -> str:
        return kecamatan_name(self.station.kecamatan)

    @property
    def last_contact(self) -> float | None:
        seen, upload = self.health.last_seen, self.last_upload
        if seen is None or upload is None:
            return upload if seen is None else seen
        return max(seen, upload)

    @property
    def light(self) -> str:
        """green, amber or red: the worst alert."""
        return _light(self.alerts)


def _light(alerts: list[str]) -> str:
    if "revoked" in alerts or "silent" in alerts:
        return "red"
    return "amber" if alerts else "green"


def _alerts(
    revoked: bool, enrolled: bool, enrolled_at: float | None, last_contact: float | None,
    h: KitHealth, now: float,
) -> list[str]:  # fmt: skip
    if revoked:
        return ["revoked"]
    if not enrolled:
        return ["awaiting"]
    out = []
    contact = last_contact or enrolled_at
    if contact is not None and now - contact > SILENT_AFTER_S:
        out.append("silent")
    if h.oldest_unsent_s is not None and h.oldest_unsent_s > BEHIND_AFTER_S:
        out.append("behind")
    if h.clock_offset_s is not None and abs(h.clock_offset_s) > CLOCK_OFF_S:
        out.append("clock")
    return out


class _Ranked(NamedTuple):
    """A kit's place in the list, from a few columns (no Station built for every kit)."""

    rank: int
    name: str
    id: str
    health: KitHealth
    last_upload: float | None
    alerts: list[str]


_RANK = {"red": 0, "amber": 1, "green": 2}
# Shared, never changed: most kits have one of these (one list a kit costs time with thousands).
_REVOKED: list[str] = ["revoked"]
_AWAITING: list[str] = ["awaiting"]
_SILENT: list[str] = ["silent"]
_NONE: list[str] = []


def _ranked(
    core: ServerCore, health: HealthSource, now: float, only: str | None = None
) -> list[_Ranked]:
    """Every kit (or ``only`` that one) with its alerts, worst light first, then by name.

    With the reports (``reported``, the default) the three figures the alerts need (last
    seen, oldest unsent, clock offset) come with the kit's row in the same query, and a
    ``_Ranked`` holds only those: the whole report is read for the rows shown (``_rows``), not
    for every kit of the fleet."""
    joined = health is reported
    columns, source = _columns(joined)
    s = db.stations.c
    stmt = select(*columns).select_from(source).order_by(func.lower(s.name), s.id)
    if only is not None:
        stmt = stmt.where(s.id == only)
    with core.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    given = {} if joined else health(core.engine, [r[0] for r in rows])
    lights: tuple[list[_Ranked], list[_Ranked], list[_Ranked]] = ([], [], [])
    for row in rows:
        ranked = _rank_row(row, joined, given, now)
        lights[ranked.rank].append(ranked)
    red, amber, green = lights
    return red + amber + green


def _columns(joined: bool) -> tuple[list[Any], Any]:
    """What ranking a kit needs: the station's own columns, its newest packet processed (the
    processor's station_counts, one row a kit) and, ``joined``, the three figures of its
    report the alerts need (last seen, oldest unsent, clock offset)."""
    s, k, h = db.stations.c, station_counts.c, kit_health.c
    columns = [s.id, s.name, s.revoked_at, s.public_key.is_not(None), s.enrolled_at]
    columns += [k.last_received_at]
    source = db.stations.outerjoin(station_counts, k.station_id == s.id)
    if joined:
        columns += [h.reported_at, h.oldest_unsent_s, h.clock_offset_s]
        source = source.outerjoin(kit_health, h.station_id == s.id)
    return columns, source


_NOTHING = KitHealth()


def _rank_row(row: Any, joined: bool, given: dict[str, KitHealth], now: float) -> _Ranked:
    """One kit's alerts and light from the columns of ``_columns``."""
    sid, name, revoked_at, enrolled, enrolled_at, last = row[:6]
    last = last or None
    if joined:
        seen = row[6]
        rep = (
            None
            if seen is None
            else KitHealth(last_seen=seen, oldest_unsent_s=row[7], clock_offset_s=row[8])
        )
    else:
        rep = given.get(sid)
    if rep is None:  # what the server alone knows (a kit that never reported)
        if revoked_at is not None:
            return _Ranked(0, name, sid, _NOTHING, last, _REVOKED)
        if not enrolled:
            return _Ranked(1, name, sid, _NOTHING, last, _AWAITING)
        if (last or enrolled_at or now) < now - SILENT_AFTER_S:
            return _Ranked(0, name, sid, _NOTHING, last, _SILENT)
        return _Ranked(2, name, sid, _NOTHING, last, _NONE)
    seen = rep.last_seen
    contact = last if seen is None else (seen if last is None else max(seen, last))
    alerts = _alerts(revoked_at is not None, bool(enrolled), enrolled_at, contact, rep, now)
    return _Ranked(_RANK[_light(alerts)], name, sid, rep, last, alerts)


def _rank_sql(now: float) -> Any:
    """``_rank_row``'s light as SQL (0 red, 1 amber, 2 green), over ``_columns(True)``: the
    database orders the whole fleet and hands over one page."""
    s, k, h = db.stations.c, station_counts.c, kit_health.c
    last = func.nullif(k.last_received_at, 0)
    seen = h.reported_at
    contact = case((seen.is_(None), last), (last.is_(None), seen), (seen > last, seen), else_=last)
    silent = func.coalesce(contact, s.enrolled_at, now) < now - SILENT_AFTER_S
    behind = h.oldest_unsent_s > BEHIND_AFTER_S
    clock = func.abs(h.clock_offset_s) > CLOCK_OFF_S
    return case(
        (s.revoked_at.is_not(None), 0),
        (s.public_key.is_(None), 1),
        (silent, 0),
        (or_(behind, clock), 1),
        else_=2,
    )


@functools.lru_cache(maxsize=16384)
def kecamatan_name(code: str) -> str:
    region = regions.get(code)
    return region.name if region else code


def kit_rows(
    core: ServerCore,
    health: HealthSource = reported,
    now: float | None = None,
    only: Station | None = None,
) -> list[KitRow]:
    """Every kit (or ``only`` this one), worst light first; ``today_received`` is filled by
    ``fill_today`` (here for ``only``)."""
    now = time.time() if now is None else now
    ranked = _ranked(core, health, now, only.id if only is not None else None)
    rows = _rows(core, ranked, health, only)
    if only is not None:
        fill_today(core.engine, rows)
    return rows


def _rows(
    core: ServerCore, ranked: list[_Ranked], health: HealthSource, only: Station | None = None
) -> list[KitRow]:
    if only is not None:
        stations = {only.id: only}
    else:
        stations = {st.id: st for st in _stations(core, [r.id for r in ranked])}
    # The whole reports of these rows (``_ranked`` read only what the alerts need).
    full = health(core.engine, [r.id for r in ranked]) if health is reported else {}
    return [
        KitRow(stations[r.id], full.get(r.id, r.health), r.last_upload, 0, r.alerts)
        for r in ranked
        if r.id in stations
    ]


def _stations(core: ServerCore, ids: list[str]) -> list[Station]:
    """These stations, as ``ServerCore.list_stations`` gives them, read as plain tuples (the
    row mapping per row was most of the Kit list's time with thousands of kits)."""
    if not ids:
        return []
    with core.engine.connect() as conn:
        result = conn.execute(select(db.stations).where(one_of(conn, db.stations.c.id, ids)))
        keys = list(result.keys())
        return [Station.from_row(cast(Any, dict(zip(keys, r, strict=True)))) for r in result]


def fill_today(engine: Engine, rows: list[KitRow], all_kits: bool = False) -> None:
    """Today's packets (WIB) of these kits (``all_kits``: the rows are every kit)."""
    d = daily_counts.c
    day = select(d.station_id, func.sum(d.received)).where(d.day == today_wib().isoformat())
    with engine.connect() as conn:
        if not all_kits:
            day = day.where(one_of(conn, d.station_id, [r.station.id for r in rows]))
        today = dict(conn.execute(day.group_by(d.station_id)).all()) if rows else {}
    for row in rows:
        row.today_received = int(today.get(row.station.id) or 0)


PAGE_SIZE = 100


@dataclass(frozen=True)
class KitPage:
    """One page of the Kit list (alerts first) and the counts of the whole list."""

    rows: list[KitRow]
    counts: dict[str, int]
    page: int
    pages: int


def kit_page(core: ServerCore, page: int = 1, health: HealthSource = reported) -> KitPage:
    """One page of the Kit list. With the kits' own reports (the default) the database ranks
    the fleet and returns the page's rows only; another health source ranks in Python."""
    if health is not reported:
        return _page_of(_ranked(core, health, time.time()), core, page, health)
    now = time.time()
    columns, source = _columns(True)
    rank = _rank_sql(now).label("rank")
    s = db.stations.c
    lights = ("red", "amber", "green")
    with core.engine.connect() as conn:
        ranks = select(rank).select_from(source).subquery()
        grouped = select(ranks.c.rank, func.count()).group_by(ranks.c.rank)
        by_light: dict[int, int] = {int(r): int(n) for r, n in conn.execute(grouped)}
        counts = {light: by_light.get(i, 0) for i, light in enumerate(lights)}
        counts["all"] = sum(counts.values())
        pages = max(1, -(-counts["all"] // PAGE_SIZE))
        page = min(max(page, 1), pages)
        stmt = (
            select(*columns).select_from(source)
            .order_by(rank, func.lower(s.name), s.id)
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )  # fmt: skip
        rows = conn.execute(stmt).all()
    shown = _rows(core, [_rank_row(r, True, {}, now) for r in rows], health)
    fill_today(core.engine, shown)
    return KitPage(shown, counts, page, pages)


def _page_of(ranked: list[_Ranked], core: ServerCore, page: int, health: HealthSource) -> KitPage:
    pages = max(1, -(-len(ranked) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = _rows(core, ranked[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], health)
    fill_today(core.engine, shown)
    counts = {"all": len(ranked), "green": 0, "amber": 0, "red": 0}
    lights = ("red", "amber", "green")
    for r in ranked:
        counts[lights[r.rank]] += 1
    return KitPage(shown, counts, page, pages)


def station_names(core: ServerCore, ids: set[str]) -> dict[str, str]:
    """The names of these kits (a page names the kits it lists, not every kit)."""
    if not ids:
        return {}
    s = db.stations.c
    with core.engine.connect() as conn:
        return dict(conn.execute(select(s.id, s.name).where(one_of(conn, s.id, sorted(ids)))).all())


# An office action and the change it made are written within one request: an audit event this
# close to an assignment's start, naming its kecamatan, is the one that made it.
_SAME_ACTION_S = 60.0


def assignment_history(
    core: ServerCore, station_id: str, events: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every kecamatan the kit has been assigned, oldest first, each with the one before it
    (``from``) and who made the change (``by``) when the office page did (its audit events,
    ``events``: kit_add for the first, kit_assign for a move). A move made on the kit itself
    names who moved it and the supervisor who approved (``approved_by``), as the kit reported
    it (server/moves.py: the assignment starts at the move's time). A move made with
    ``ektp-server station assign`` names nobody."""
    a, m = db.station_assignments.c, kit_moves.c
    with core.engine.connect() as conn:
        rows = conn.execute(
            select(a.kecamatan, a.since).where(a.station_id == station_id).order_by(a.since)
        ).all()
        on_kit = {
            (to, at): (by, approver)
            for to, at, by, approver in conn.execute(
                select(m.to_kecamatan, m.moved_at, m.moved_by, m.approved_by).where(
                    m.station_id == station_id
                )
            )
        }
    out: list[dict[str, Any]] = []
    for kecamatan, since in rows:
        moved = on_kit.get((kecamatan, since))
        if moved is not None and out:
            before = out[-1]["kecamatan"]
            out.append({
                "kecamatan": kecamatan, "nama": kecamatan_name(kecamatan), "since": since,
                "from": before, "from_nama": kecamatan_name(before), "by": moved[0],
                "approved_by": moved[1],
            })  # fmt: skip
            continue
        action = "kit_assign" if out else "kit_add"
        near = [
            e for e in events or ()
            if e["action"] == action and abs(e["at"] - since) < _SAME_ACTION_S
            and (action == "kit_add" or (e["detail"] or "").endswith(f"-> {kecamatan}"))
        ]  # fmt: skip
        by = min(near, key=lambda e: abs(e["at"] - since))["actor"] if near else None
        before = out[-1]["kecamatan"] if out else None
        out.append({
            "kecamatan": kecamatan, "nama": kecamatan_name(kecamatan), "since": since,
            "from": before, "from_nama": kecamatan_name(before) if before else None, "by": by,
            "approved_by": None,
        })  # fmt: skip
    return out


def kit_totals(engine: Engine, station_id: str) -> dict[str, int]:
    """The kit's packets processed since the beginning, by fate (``station_counts``)."""
    k = station_counts.c
    with engine.connect() as conn:
        row = conn.execute(
            select(*(k[f] for f in PERIOD_FIGURES)).where(k.station_id == station_id)
        ).first()
    return {f: int(row[i]) if row else 0 for i, f in enumerate(PERIOD_FIGURES)}


@dataclass(frozen=True)
class KitAuditEvent:
    """One event of the kit's own audit log (hash-chained on the station, synced)."""

    at: float
    actor: str
    action: str
    detail: str | None = None
    approved_by: str | None = None


# The kit's own audit events (its sign-ins, corrections, offline moves and who approved them),
# as ``HealthSource`` for health. The page's default is ``uploaded_kit_audit``
# (server/web/kit_audit.py: what the kit uploaded to the centre). None: the server holds
# none for the kit (the page says so, invents none).
KitAuditSource = Callable[[Engine, str], list[KitAuditEvent] | None]


def no_kit_audit(_engine: Engine, _station_id: str) -> list[KitAuditEvent] | None:
    """No kit audit at all (a page that shows only what the office did)."""
    return None


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
            select(
                r.uuid,
                r.kode_wilayah,
                r.received_at,
                r.processed_at,
                r.fate,
                r.reason,
                r.duplicate_of,
                r.rerecord_of,
                r.superseded_by,
            )  # fmt: skip
            .where(r.station_id == station_id)
            .order_by(r.processed_at.desc())
            .limit(limit)
        ).mappings()
        return [dict(x) for x in rows]


CSV_COLUMNS = (
    "station_id", "nama", "kecamatan", "status", "peringatan", "terakhir_unggah",
    "diterima_hari_ini", "terakhir_terlihat", "versi", "tertunda", "tertua_belum_terkirim_s",
    "selisih_jam_s", "disk_kosong_bytes", "perangkat",
)  # fmt: skip


PERIOD_COLUMNS = ("dari", "sampai", "diterima_periode", "terekam_periode", "ganda_periode",
                  "rekam_ulang_periode", "ditolak_periode")  # fmt: skip


def per_kit(engine: Engine, period: Period) -> dict[str, dict[str, int]]:
    """Each kit's packets received in the period (WIB days) by fate, from ``daily_counts``."""
    d = daily_counts.c
    where = []
    if period.start:
        where.append(d.day >= period.start)
    if period.end:
        where.append(d.day <= period.end)
    stmt = select(d.station_id, *(func.sum(d[f]) for f in PERIOD_FIGURES)).where(*where)
    with engine.connect() as conn:
        rows = conn.execute(stmt.group_by(d.station_id)).all()
    return {str(r[0]): {f: int(r[1 + i] or 0) for i, f in enumerate(PERIOD_FIGURES)} for r in rows}


def kits_csv(
    rows: list[KitRow],
    period: Period | None = None,
    in_period: dict[str, dict[str, int]] | None = None,
) -> Iterator[str]:
    """The Kit list as CSV (times ISO 8601 UTC; a health figure not reported is empty); with
    a ``period``, each kit's packets of that period by fate (``in_period``) after them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (PERIOD_COLUMNS if period else ()))
    for r in rows:
        st, h = r.station, r.health
        state = "revoked" if st.revoked else ("enrolled" if st.public_key else "awaiting")
        values: tuple[Any, ...] = (
            st.id, st.name, st.kecamatan, state, ";".join(r.alerts), iso(r.last_upload),
            r.today_received, iso(h.last_seen), h.version, h.pending, h.oldest_unsent_s,
            h.clock_offset_s, h.disk_free_bytes, h.devices,
        )  # fmt: skip
        if period is not None:
            got = (in_period or {}).get(st.id, {})
            values += (period.start, period.end, *(got.get(f, 0) for f in PERIOD_FIGURES))
        writer.writerow(["" if v is None else v for v in values])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
