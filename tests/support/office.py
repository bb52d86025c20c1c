"""Back-office test helpers: records sealed as a station seals them (a portrait JPEG that
meets the photo rules, a signature PNG, the station's manifest fields), made-up residents with
distinct NIKs, and the processor's tables read back."""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from uuid6 import uuid7

from app import packet as pkt
from app.domain.nik import LAKI_LAKI, encode_nik
from server import db
from server.processing.tables import daily_counts, desa_counts, queue, records
from tests.support.cli import run_server
from tests.support.residents import BUDI_LAKI, resident
from tests.support.server_fixtures import TestStation
from tests.support.station import face_jpeg, signature_png


@functools.cache
def portrait_jpeg() -> bytes:
    """The astronaut's portrait as the station's photo step makes it (3:4, >= 180 px wide)."""
    from app.capture.photo import accept_photo

    return accept_photo(face_jpeg()).jpeg


def person(serial: int, **changes: Any) -> dict[str, Any]:
    """A made-up man of Gunung Kaler (desa 36.03.32.2001) whose NIK ends in ``serial``."""
    nik = encode_nik("36.03.32", date(1990, 8, 12), LAKI_LAKI, serial)
    return resident(BUDI_LAKI, nik=nik, **changes)


def seal_record(
    station: TestStation,
    biodata: dict[str, Any],
    *,
    photo: bytes | None = None,
    signature: bytes | None = None,
    with_signature: bool = True,
    operator: str = "siti",
    uuid: str | None = None,
    card_uid: str | None = None,
    **manifest: Any,
) -> pkt.SealedPacket:
    uuid = uuid or str(uuid7())
    attachments = [pkt.Attachment("face.jpg", "image/jpeg", photo or portrait_jpeg())]
    if card_uid is not None:  # the resident's card read at recording (app.enrollment)
        card = json.dumps({"uid": card_uid}).encode()
        attachments.append(pkt.Attachment("card.json", "application/json", card))
    if with_signature:
        attachments.append(
            pkt.Attachment("signature.png", "image/png", signature or signature_png())
        )
    full = {
        "version": 1,
        "uuid": uuid,
        "station_id": station.station_id,
        "operator": operator,
        "kecamatan": station.kecamatan,
        "biodata": biodata,
        **manifest,
    }
    return pkt.seal(
        full,
        attachments,
        uuid=uuid,
        station_id=station.station_id,
        kecamatan=station.kecamatan,
        server_public_key=station.server_key,
        station_key=station.key,
    )


def server_args(home: Path, db_url: str | None) -> list[str]:
    return ["--home", str(home), *(["--db", db_url] if db_url else [])]


def office(home: Path, db_url: str | None, *args: str, timeout: float = 120) -> Any:
    return run_server(*server_args(home, db_url), *args, timeout=timeout)


def office_json(home: Path, db_url: str | None, *args: str) -> Any:
    res = office(home, db_url, *args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


class Tables:
    """Read the processor's tables of a server database directly (for invariants)."""

    def __init__(self, home: Path, db_url: str | None) -> None:
        self.engine = db.make_engine(db_url or f"sqlite:///{home / 'server.db'}")

    def close(self) -> None:
        self.engine.dispose()

    def scalar(self, stmt: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def fates(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {str(u): str(f) for u, f in conn.execute(select(records.c.uuid, records.c.fate))}

    def queued(self) -> int:
        return self.scalar(select(func.count()).select_from(queue))

    def leased(self) -> int:
        return self.scalar(
            select(func.count()).select_from(queue).where(queue.c.lease_owner.is_not(None))
        )

    def received_counted(self) -> int:
        return self.scalar(select(func.sum(daily_counts.c.received)))

    def processed_counted(self) -> int:
        return self.scalar(select(func.sum(daily_counts.c.processed)))

    def terekam(self) -> int:
        return self.scalar(select(func.sum(desa_counts.c.terekam)))

    def rollup_mismatches(self) -> list[str]:
        """Where the counters rolled up the wilayah tree (area_counts, area_days) and per kit
        (station_counts) differ from the fates in the index, counted here from the records
        themselves: every packet counts once in its desa, kecamatan, kabupaten and province
        (by the resident's desa) and once for its kit. Empty when they all agree."""
        from server.processing.tables import area_counts, area_days, station_counts

        figures = ("received", "processed", "duplicate", "rerecord", "rejected")
        areas: dict[Any, dict[str, Any]] = {}
        days: dict[Any, dict[str, Any]] = {}
        kits: dict[Any, dict[str, Any]] = {}
        r = records.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(r.station_id, r.kode_wilayah, r.day, r.fate, r.received_at))
            for station_id, desa, day, fate, received_at in rows:
                for code in [desa[:w] for w in (2, 5, 8, 13) if len(desa or "") >= w]:
                    for key, into in ((code, areas), ((code, day), days)):
                        f = into.setdefault(key, dict.fromkeys(figures, 0))
                        f["received"] += 1
                        f[fate] += 1
                kit = kits.setdefault(station_id, {**dict.fromkeys(figures, 0), "last": 0.0})
                kit["received"] += 1
                kit[fate] += 1
                kit["last"] = max(kit["last"], received_at)
            a, d, k = area_counts.c, area_days.c, station_counts.c
            got_areas: dict[Any, Any] = {
                row[0]: dict(zip(figures, row[1:], strict=True))
                for row in conn.execute(select(a.kode, *(a[f] for f in figures)))
            }
            got_days: dict[Any, Any] = {
                (row[0], row[1]): dict(zip(figures, row[2:], strict=True))
                for row in conn.execute(select(d.kode, d.day, *(d[f] for f in figures)))
            }
            got_kits: dict[Any, Any] = {
                row[0]: {**dict(zip(figures, row[1:6], strict=True)), "last": row[6]}
                for row in conn.execute(
                    select(k.station_id, *(k[f] for f in figures), k.last_received_at)
                )
            }
        out = []
        for name, want, got in (
            ("area_counts", areas, got_areas),
            ("area_days", days, got_days),
            ("station_counts", kits, got_kits),
        ):
            # A counter taken back to nothing (a withdrawn packet) is no count at all.
            got = {k: v for k, v in got.items() if any(v[f] for f in figures)}
            for key in sorted(set(want) | set(got), key=str):
                if want.get(key) != got.get(key):
                    out.append(f"{name} {key}: counted {got.get(key)}, records say {want.get(key)}")
        return out

    def processors(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(records.c.processor).distinct())}
