"""The limits the office sets for its kits: for every kit, a kecamatan's kits or one kit.

``set_value`` checks the key and range (app/policy.py) and stores it; ``effective`` is what
one station receives with its assignment (``GET /api/v1/station``, signed): for each key,
the value of the narrowest scope that sets it (station, then kecamatan, then all). A key set
nowhere is not sent: the kit keeps its own setting or default.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from app import policy as keys
from server import db
from server.core import InputError, Station, check_kecamatan, iso
from server.kit_tables import kit_policy

SCOPES = ("station", "kecamatan", "all")  # narrowest first


def _scope(engine: Engine, station: str | None, kecamatan: str | None) -> tuple[str, str]:
    if station and kecamatan:
        raise InputError("--station, --kecamatan: give one of them, or neither (every kit)")
    if station:
        with engine.connect() as conn:
            found = conn.execute(
                select(db.stations.c.id).where(db.stations.c.id == station)
            ).scalar()
        if found is None:
            raise InputError(f"--station: no station {station!r}")
        return "station", station
    if kecamatan:
        return "kecamatan", check_kecamatan(kecamatan)
    return "all", ""


def set_value(
    engine: Engine,
    key: str,
    value: str,
    *,
    station: str | None = None,
    kecamatan: str | None = None,
    by: str,
) -> dict[str, Any]:
    """Set one key for a scope (replacing its value there); InputError names a bad field."""
    try:
        canonical = keys.check_value(key, value)
    except keys.PolicyValueError as exc:
        field = "KEY" if key not in keys.KEYS else "VALUE"
        raise InputError(f"{field}: {exc}") from exc
    scope, target = _scope(engine, station, kecamatan)
    with engine.begin() as conn:
        return put(conn, scope, target, key, canonical, by)


def put(
    conn: Connection, scope: str, target: str, key: str, canonical: str, by: str
) -> dict[str, Any]:
    """Store a checked value (``keys.check_value``) for a checked scope, in the caller's
    transaction (the office page writes its audit event in the same one)."""
    c = kit_policy.c
    now = time.time()
    conn.execute(delete(kit_policy).where(c.scope == scope, c.target == target, c.key == key))
    conn.execute(
        kit_policy.insert().values(
            scope=scope, target=target, key=key, value=canonical, set_at=now, set_by=by
        )
    )
    return {"scope": scope, "target": target, "key": key, "value": canonical, "set_at": iso(now)}


def unset_value(
    engine: Engine, key: str, *, station: str | None = None, kecamatan: str | None = None
) -> bool:
    """Remove a key from a scope (the next wider scope, or the kit's own value, applies)."""
    if key not in keys.KEYS:
        raise InputError(f"KEY: {key!r} is not a policy key (one of {', '.join(keys.KEYS)})")
    scope, target = _scope(engine, station, kecamatan)
    with engine.begin() as conn:
        return remove(conn, scope, target, key)


def remove(conn: Connection, scope: str, target: str, key: str) -> bool:
    """Remove a key from a checked scope, in the caller's transaction; whether it was set."""
    c = kit_policy.c
    gone = conn.execute(
        delete(kit_policy).where(c.scope == scope, c.target == target, c.key == key)
    ).rowcount
    return bool(gone)


def listed(engine: Engine) -> list[dict[str, Any]]:
    """Every value set, widest scope first."""
    order = {s: i for i, s in enumerate(reversed(SCOPES))}
    with engine.connect() as conn:
        rows = conn.execute(select(kit_policy)).mappings().all()
    out = [
        {
            "scope": r["scope"],
            "target": r["target"] or None,
            "key": r["key"],
            "value": r["value"],
            "set_at": iso(r["set_at"]),
            "set_by": r["set_by"],
        }
        for r in rows
    ]
    out.sort(key=lambda d: (order[d["scope"]], d["target"] or "", d["key"]))
    return out


def effective(conn: Connection, station: Station) -> dict[str, str]:
    """The policy ``station`` receives: key -> value from the narrowest scope setting it."""
    return {k: v for k, (_, v) in in_force(conn, station).items()}


def in_force(conn: Connection, station: Station) -> dict[str, tuple[str, str]]:
    """key -> (scope, value) of the narrowest scope setting it for ``station`` (the kit's
    page shows where each value comes from)."""
    c = kit_policy.c
    rows = conn.execute(
        select(c.scope, c.key, c.value).where(
            (c.scope == "all")
            | ((c.scope == "kecamatan") & (c.target == station.kecamatan))
            | ((c.scope == "station") & (c.target == station.id))
        )
    ).all()
    rank = {s: i for i, s in enumerate(SCOPES)}
    best: dict[str, tuple[int, str]] = {}
    for scope, key, value in rows:
        if key not in keys.KEYS:
            continue  # a key of a newer release in a shared database
        if key not in best or rank[scope] < best[key][0]:
            best[key] = (rank[scope], value)
    return {k: (SCOPES[r], v) for k, (r, v) in sorted(best.items())}


def effective_for(engine: Engine, station: Station) -> dict[str, str]:
    with engine.connect() as conn:
        return effective(conn, station)
