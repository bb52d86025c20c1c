"""Wajib-KTP targets: the import of a targets file (checked whole before anything is
written, audited) and the targets resolved per wilayah (``area_targets``) that coverage reads."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    delete,
    func,
    select,
)
from sqlalchemy.engine import Connection

from app.domain import regions
from server.errors import CoverageInputError
from server.processing.tables import (
    area_targets,
    target_imports,
    targets,
)
from server.timeutil import iso_seconds as _iso


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
        write_area_targets(conn, {r.kode: (r.wajib_ktp, r.target) for r in rows})
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


Figures = dict[str, tuple[int | None, int | None]]


def resolve_targets(given: dict[str, tuple[int, int | None]]) -> Figures:
    """(wajib_ktp, target) of every wilayah the given rows say something about: its own row,
    else the sum of the nearest given levels below it (a kecamatan without a row sums its
    desa; a kabupaten sums its kecamatan, each given or summed in turn)."""
    children: dict[str, set[str]] = {}
    for code in given:
        parts = code.split(".")
        for depth in range(len(parts)):
            parent = ".".join(parts[:depth])
            children.setdefault(parent, set()).add(".".join(parts[: depth + 1]))
    out: Figures = {}

    def value(code: str) -> tuple[int | None, int | None]:
        if code in out:
            return out[code]
        if code in given:
            out[code] = given[code]
            return out[code]
        wajib, target, any_target = 0, 0, False
        for child in children.get(code, ()):
            w, t = value(child)
            wajib += w or 0
            if t is not None:
                target += t
                any_target = True
        out[code] = (wajib, target if any_target else None)
        return out[code]

    for code in [*children, *given]:
        value(code)
    return out


def write_area_targets(conn: Connection, given: dict[str, tuple[int, int | None]]) -> None:
    """Replace the resolved targets (``area_targets``) with those of ``given`` (an import's
    rows), in the caller's transaction."""
    conn.execute(delete(area_targets))
    rows = [
        {"kode": k, "wajib_ktp": w, "target": t} for k, (w, t) in resolve_targets(given).items()
    ]
    for i in range(0, len(rows), 5000):
        conn.execute(area_targets.insert(), rows[i : i + 5000])
