"""Kit health: what each kit reports of itself with every pull, and the office's read of it.

A kit sends ``POST /api/v1/station/health`` (signed) after each sync and on its maintenance
interval: program version, records pending, oldest unsent age, disk free, camera / reader /
mirror state, last seal time (app/sync/health.py). The server keeps the latest report per
station; its time is the kit's last seen. The clock offset is the server's own measure: the
signed request's timestamp (the kit's clock) minus the time the server received it.

``health_source`` is the office page's ``HealthSource`` (server/web/kits.py) and
``station_health`` feeds ``station list --json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, select

from app import protocol
from app.protocol import Reason
from server.core import ServiceError, Station, iso
from server.kit_tables import kit_health

DEVICE_STATES = ("ok", "missing", "error", "off", "unknown")
_STRINGS = {"version": 64, "last_seal_at": 40}
_DEVICES = ("camera", "reader", "mirror")


def _number(doc: Mapping[str, Any], name: str, kind: type, low: float = 0) -> Any:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ServiceError(400, f"health {name}: expected a number", Reason.BAD_HEALTH)
    if kind is int and not isinstance(value, int):
        raise ServiceError(400, f"health {name}: expected a whole number", Reason.BAD_HEALTH)
    if value != value or value < low or value > 1e18:  # NaN, negative, absurd
        raise ServiceError(400, f"health {name}: out of range", Reason.BAD_HEALTH)
    return kind(value)


def check_report(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a report, or ServiceError 400 naming the field (nothing stored)."""
    out: dict[str, Any] = {
        "pending": _number(doc, "pending", int),
        "oldest_unsent_s": _number(doc, "oldest_unsent_s", float),
        "disk_free_bytes": _number(doc, "disk_free_bytes", int),
    }
    for name, limit in _STRINGS.items():
        value = doc.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ServiceError(
                400,
                f"health {name}: expected text of at most {limit} characters",
                Reason.BAD_HEALTH,
            )
        out[name] = value
    for name in _DEVICES:
        value = doc.get(name)
        if value is not None and value not in DEVICE_STATES:
            raise ServiceError(
                400, f"health {name}: expected one of {', '.join(DEVICE_STATES)}", Reason.BAD_HEALTH
            )
        out[name] = value
    return out


def clock_offset(headers: Mapping[str, str], now: float) -> float | None:
    """The kit's clock minus ours, from its signed request's timestamp (whole seconds)."""
    stamp = headers.get(protocol.H_TIMESTAMP) or headers.get(protocol.H_TIMESTAMP.lower())
    if stamp is None or not str(stamp).lstrip("-").isdigit():
        return None
    return round(float(int(stamp)) - now, 3)


def record_report(
    engine: Engine,
    station: Station,
    doc: Mapping[str, Any],
    *,
    clock_offset_s: float | None,
    reported_at: float | None = None,
) -> dict[str, Any]:
    """Keep ``doc`` as ``station``'s latest health; returns what the kit is answered.

    ``reported_at``: when a relay received it (the kit's last seen there); an older report
    than the one held is not kept."""
    columns = check_report(doc)
    now = time.time()
    when = now if reported_at is None else min(reported_at, now)
    report = json.dumps({k: doc.get(k) for k in sorted(doc)}, ensure_ascii=False)
    if len(report) > 8192:
        raise ServiceError(400, "health: the report is larger than 8 KiB", Reason.BAD_HEALTH)
    h = kit_health.c
    with engine.begin() as conn:
        held = conn.execute(select(h.reported_at).where(h.station_id == station.id)).scalar()
        if held is None or held <= when:
            conn.execute(delete(kit_health).where(h.station_id == station.id))
            conn.execute(
                kit_health.insert().values(
                    station_id=station.id,
                    reported_at=when,
                    clock_offset_s=clock_offset_s,
                    report=report,
                    **columns,
                )
            )
    return {"station_id": station.id, "received_at": iso(when), "server_time": now}


def _as_json(row: Any) -> dict[str, Any]:
    return {
        "last_seen": iso(row["reported_at"]),
        "version": row["version"],
        "pending": row["pending"],
        "oldest_unsent_s": row["oldest_unsent_s"],
        "disk_free_bytes": row["disk_free_bytes"],
        "camera": row["camera"],
        "reader": row["reader"],
        "mirror": row["mirror"],
        "clock_offset_s": row["clock_offset_s"],
        "last_seal_at": row["last_seal_at"],
    }


def station_health(engine: Engine, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """station id -> its latest report as JSON (``last_seen`` is the report's time)."""
    q = select(kit_health)
    if ids is not None:
        q = q.where(kit_health.c.station_id.in_(ids))
    with engine.connect() as conn:
        return {r["station_id"]: _as_json(r) for r in conn.execute(q).mappings()}


def health_source(engine: Engine, ids: list[str]) -> dict[str, Any]:
    """The office page's ``HealthSource`` (server/web/kits.py): station id -> ``KitHealth``."""
    from server.coverage import one_of
    from server.web.kits import KitHealth

    out = {}
    with engine.connect() as conn:
        # Every kit for the Kit list: one array parameter on PostgreSQL, not thousands.
        q = select(kit_health).where(one_of(conn, kit_health.c.station_id, ids))
        for r in conn.execute(q).mappings():
            devices = ", ".join(f"{d} {r[d]}" for d in _DEVICES if r[d] is not None)
            out[r["station_id"]] = KitHealth(
                last_seen=r["reported_at"],
                version=r["version"],
                pending=r["pending"],
                oldest_unsent_s=r["oldest_unsent_s"],
                clock_offset_s=r["clock_offset_s"],
                disk_free_bytes=r["disk_free_bytes"],
                devices=devices or None,
            )
    return out
