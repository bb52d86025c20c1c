"""Targets and figures: wajib-KTP targets import, coverage per wilayah, the day's recap and the
list of fates. Every figure is read from the processor's counters (``desa_counts``,
``daily_counts``) and the targets, never by counting records.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.engine import Connection

from app.domain import regions
from server.processing.checks import FATES
from server.processing.tables import daily_counts, desa_counts, records, target_imports, targets

# Parent column of desa_counts for a wilayah of each level (1 provinsi .. 3 kecamatan).
_LEVEL_COLUMN = {1: "provinsi", 2: "kabupaten", 3: "kecamatan", 4: "desa"}
_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")


class CoverageInputError(ValueError):
    """Bad input (a targets file, a wilayah code, a date): the message names the field."""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def wilayah(code: str, field: str = "--wilayah") -> regions.Region:
    region = regions.get(code)
    if region is None:
        shaped = regions.normalize_code(code) is not None
        why = "is not a known wilayah" if shaped else "is not a wilayah code like 36.03.32"
        raise CoverageInputError(f"{field}: {code!r} {why}")
    return region


# --- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    kode: str
    level: int
    wajib_ktp: int
    target: int | None


def _count(value: str | None, row: int, name: str, required: bool) -> int | None:
    text = (value or "").strip().replace("_", "")
    if not text:
        if required:
            raise CoverageInputError(f"row {row}: {name}: missing")
        return None
    if not text.isdigit() or len(text) > 9:
        raise CoverageInputError(f"row {row}: {name}: {value!r} is not a whole number of people")
    return int(text)


def parse_targets(raw: bytes) -> list[TargetRow]:
    """Every row checked before anything is written; the first bad one raises."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CoverageInputError("FILE: not a UTF-8 text file (a CSV is expected)") from exc
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "kode_wilayah" not in header or "wajib_ktp" not in header:
        raise CoverageInputError(
            "FILE: row 1: the header must name kode_wilayah and wajib_ktp (and optionally target)"
        )
    unknown = [h for h in header if h not in ("kode_wilayah", "wajib_ktp", "target")]
    if unknown:
        raise CoverageInputError(f"row 1: unknown column {unknown[0]!r}")
    reader.fieldnames = header
    out: dict[str, TargetRow] = {}
    for n, line in enumerate(reader, start=2):
        if None in line:
            raise CoverageInputError(f"row {n}: more fields than the header has")
        code = (line.get("kode_wilayah") or "").strip()
        region = regions.get(code) if code else None
        if region is None:
            if not code:
                raise CoverageInputError(f"row {n}: kode_wilayah: missing")
            raise CoverageInputError(f"row {n}: kode_wilayah: {code!r} is not a known wilayah")
        if region.code in out:
            raise CoverageInputError(f"row {n}: kode_wilayah: {region.code} is given twice")
        wajib = _count(line.get("wajib_ktp"), n, "wajib_ktp", True)
        assert wajib is not None
        target = _count(line.get("target"), n, "target", False)
        out[region.code] = TargetRow(region.code, region.level, wajib, target)
    if not out:
        raise CoverageInputError("FILE: no rows after the header")
    return list(out.values())


def import_targets(engine: Engine, path: Path, by: str | None = None) -> dict[str, Any]:
    """Replace every target with the file's (one transaction), and record who did it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CoverageInputError(f"FILE: cannot read {path}: {exc.strerror}") from exc
    rows = parse_targets(raw)
    who = by or _login()
    now = time.time()
    with engine.begin() as conn:
        replaced = int(conn.execute(select(func.count()).select_from(targets)).scalar() or 0)
        conn.execute(delete(targets))
        conn.execute(
            targets.insert(),
            [
                {"kode": r.kode, "level": r.level, "wajib_ktp": r.wajib_ktp, "target": r.target}
                for r in rows
            ],
        )
        conn.execute(
            target_imports.insert().values(
                imported_at=now,
                imported_by=who[:200],
                file=str(path.resolve()),
                sha256=hashlib.sha256(raw).hexdigest(),
                rows=len(rows),
                replaced_rows=replaced,
            )
        )
    return {"rows": len(rows), "replaced": replaced, "by": who, "at": _iso(now)}


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container): say so rather than guess
        return "unknown"


def target_history(engine: Engine) -> list[dict[str, Any]]:
    t = target_imports.c
    with engine.connect() as conn:
        rows = conn.execute(select(target_imports).order_by(t.id)).mappings().all()
    return [{**dict(r), "imported_at": _iso(r["imported_at"])} for r in rows]


# --- coverage ------------------------------------------------------------------------------


class _Given(dict[str, tuple[int, int | None]]):
    """The target rows by code, with the codes sorted once: the rows below a wilayah are a
    slice (a scan of every row for every wilayah made the whole country take minutes)."""

    def below(self, prefix: str) -> list[str]:
        keys = self.__dict__.get("_keys")
        if keys is None:
            keys = self.__dict__["_keys"] = sorted(self)
        return keys[bisect_left(keys, prefix) : bisect_left(keys, prefix + "\uffff")]


def _wajib(code: str, given: dict[str, tuple[int, int | None]]) -> tuple[int | None, int | None]:
    """(wajib_ktp, target) of a wilayah: its own row, else the sum of the nearest given levels
    below it (a kecamatan without a row sums its desa rows; a kabupaten sums its kecamatan,
    each of them given or summed in turn)."""
    if code in given:
        return given[code]
    prefix = code + "." if code else ""
    if not isinstance(given, _Given):
        given = _Given(given)
    below = given.below(prefix)
    if not below:
        return None, None
    depth = code.count(".") + 1 if code else 0
    children: set[str] = {".".join(k.split(".")[: depth + 1]) for k in below}
    wajib = 0
    target_sum = 0
    any_target = False
    for child in children:
        w, t = _wajib(child, given)
        wajib += w or 0
        if t is not None:
            target_sum += t
            any_target = True
    return wajib, (target_sum if any_target else None)


def _figure(
    code: str, name: str, terekam: int, given: dict[str, tuple[int, int | None]]
) -> dict[str, Any]:
    wajib, target = _wajib(code, given)
    return {
        "kode": code,
        "nama": name,
        "wajib_ktp": wajib,
        "target": target,
        "terekam": terekam,
        "sisa": max(wajib - terekam, 0) if wajib is not None else None,
        "persen": round(100.0 * terekam / wajib, 2) if wajib else None,
    }


def _terekam_under(conn: Connection, code: str, group_level: int) -> dict[str, int]:
    """Residents recorded per area of ``group_level`` under ``code`` ('' = the country)."""
    c = desa_counts.c
    level = code.count(".") + 1 if code else 0
    group = c[_LEVEL_COLUMN[group_level]]
    stmt = select(group, func.sum(c.terekam)).group_by(group)
    if level:
        stmt = stmt.where(c[_LEVEL_COLUMN[level]] == code)
    return {str(k): int(v or 0) for k, v in conn.execute(stmt).all()}


def coverage(engine: Engine, code: str | None = None, depth: int = 1) -> dict[str, Any]:
    """``{"wilayah": {...}, "areas": [...], "as_of": ...}`` for a wilayah (default: the
    country) and its child areas (``depth`` 2: each child with its own ``areas``)."""
    region = wilayah(code) if code else None
    top = region.code if region else ""
    level = region.level if region else 0
    if depth not in (1, 2):
        raise CoverageInputError(f"--depth: must be 1 or 2, got {depth}")
    as_of = time.time()
    prefix = top + "." if top else ""
    with engine.connect() as conn:
        t = targets.c
        stmt = select(t.kode, t.wajib_ktp, t.target)
        if top:
            stmt = stmt.where((t.kode == top) | t.kode.like(prefix + "%"))
        given = _Given(
            {k: (int(w), int(g) if g is not None else None) for k, w, g in conn.execute(stmt)}
        )
        own = sum(_terekam_under(conn, top, max(level, 1)).values())
        levels = [lv for lv in (level + 1, level + 2)[:depth] if lv <= 4]
        per_level = {lv: _terekam_under(conn, top, lv) for lv in levels}

    def areas(parent: str, lv: int) -> list[dict[str, Any]]:
        if lv not in per_level:
            return []
        out = []
        for child in regions.children(parent or None):
            fig = _figure(child.code, child.name, per_level[lv].get(child.code, 0), given)
            if lv + 1 in per_level:
                fig["areas"] = areas(child.code, lv + 1)
            out.append(fig)
        return out

    return {
        "wilayah": _figure(top, region.name if region else "Indonesia", own, given),
        "areas": areas(top, level + 1),
        "as_of": _iso(as_of),
    }


# --- recap and records ------------------------------------------------------------------------


def parse_day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise CoverageInputError(f"--date: expected YYYY-MM-DD, got {value!r}") from exc


def recap(engine: Engine, day: str, kecamatan: str | None = None) -> dict[str, Any]:
    """The day's figures (packets received that day, WIB) per kecamatan, kit, operator, desa."""
    d = daily_counts.c
    sums = [func.sum(d[f]).label(f) for f in _FIGURES]
    where = [d.day == day]
    if kecamatan:
        where.append(d.kecamatan == kecamatan)
    doc: dict[str, Any] = {"date": day, "kecamatan_filter": kecamatan}
    with engine.connect() as conn:
        for key, column in (
            ("kecamatan", d.kecamatan),
            ("stations", d.station_id),
            ("operators", d.operator),
            ("desa", d.desa),
        ):
            rows = conn.execute(
                select(column, *sums).where(*where).group_by(column).order_by(column)
            ).all()
            doc[key] = [
                {"kode": r[0], **{f: int(r[i + 1] or 0) for i, f in enumerate(_FIGURES)}}
                for r in rows
            ]
        total = conn.execute(select(*sums).where(*where)).one()
    doc["total"] = {f: int(total[i] or 0) for i, f in enumerate(_FIGURES)}
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
