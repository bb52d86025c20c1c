"""Kit moves made offline (issue 12): a kit moved to another kecamatan by a technician with
a supervisor's approval while it had no network reports the move when it reconnects
(``POST /api/v1/station/moves``, signed, before it asks for its assignment).

The move goes into the station's assignment history (server/labels.py: its packets sealed
after the move carry the new kecamatan and are accepted) and into ``kit_moves`` with who
moved it and who approved. It becomes the station's assignment unless the office assigned
the station after the move: then the office's assignment wins (``superseded``) and the kit,
told so in the answer, takes the office's. Idempotent: a move reported again gets the
outcome recorded the first time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from app.protocol import Reason
from server import db, labels
from server.core import InputError, ServiceError, Station, iso
from server.kit_tables import kit_moves

MAX_MOVES = 50


def _time(value: Any, i: int) -> float:
    if not isinstance(value, str) or len(value) > 40:
        raise ServiceError(400, f"moves[{i}].moved_at: expected an ISO 8601 time", Reason.BAD_MOVE)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(
            400, f"moves[{i}].moved_at: expected an ISO 8601 time", Reason.BAD_MOVE
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _name(doc: Mapping[str, Any], name: str, i: int) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ServiceError(
            400, f"moves[{i}].{name}: expected a name (1-100 characters)", Reason.BAD_MOVE
        )
    return value


def parse_moves(doc: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    moves = doc.get("moves")
    if not isinstance(moves, list) or len(moves) > MAX_MOVES:
        raise ServiceError(400, f"moves: expected a list of at most {MAX_MOVES}", Reason.BAD_MOVE)
    out: list[dict[str, Any]] = []
    for i, m in enumerate(moves):
        if not isinstance(m, dict):
            raise ServiceError(400, f"moves[{i}]: expected an object", Reason.BAD_MOVE)
        to = m.get("to")
        if not isinstance(to, str) or not labels.is_kecamatan(to):
            raise ServiceError(
                400, f"moves[{i}].to: not a kecamatan of the region list", Reason.BAD_MOVE
            )
        frm = m.get("from")
        if frm is not None and (not isinstance(frm, str) or len(frm) > 32):
            raise ServiceError(400, f"moves[{i}].from: expected a kecamatan code", Reason.BAD_MOVE)
        moved_at = _time(m.get("moved_at"), i)
        if moved_at > now + labels.SKEW_S:
            raise ServiceError(
                400, f"moves[{i}].moved_at: in the future of the server's clock", Reason.BAD_MOVE
            )
        reason = m.get("reason")
        out.append(
            {
                "moved_at": moved_at,
                "to_kecamatan": to,
                "from_kecamatan": frm,
                "moved_by": _name(m, "moved_by", i),
                "approved_by": _name(m, "approved_by", i),
                "reason": str(reason)[:500] if reason is not None else None,
            }
        )
    out.sort(key=lambda m: m["moved_at"])
    return out


def report(engine: Engine, station: Station, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Record the kit's offline moves; the answer says, per move, whether it stands."""
    now = time.time()
    moves = parse_moves(doc, now)
    s, k = db.stations.c, kit_moves.c
    answered = []
    with engine.begin() as conn:
        row = conn.execute(
            select(s.kecamatan, s.assigned_at).where(s.id == station.id).with_for_update()
        ).one()
        kecamatan, assigned_at = row
        for m in moves:
            key = (
                k.station_id == station.id,
                k.moved_at == m["moved_at"],
                k.to_kecamatan == m["to_kecamatan"],
            )
            held = conn.execute(select(k.outcome).where(*key)).scalar()
            if held is None:
                outcome = "superseded" if assigned_at > m["moved_at"] else "applied"
                conn.execute(
                    kit_moves.insert().values(
                        station_id=station.id, reported_at=now, outcome=outcome, **m
                    )
                )
                labels.record_assignment(conn, station.id, m["to_kecamatan"], m["moved_at"])
                if outcome == "applied":
                    kecamatan, assigned_at = m["to_kecamatan"], m["moved_at"]
                    conn.execute(
                        db.stations.update()
                        .where(s.id == station.id)
                        .values(kecamatan=kecamatan, assigned_at=assigned_at)
                    )
            else:
                outcome = held
            answered.append(
                {"moved_at": iso(m["moved_at"]), "to": m["to_kecamatan"], "outcome": outcome}
            )
    return {
        "station_id": station.id,
        "moves": answered,
        "kecamatan": kecamatan,
        "assigned_at": iso(assigned_at),
    }


def history(engine: Engine, station_id: str) -> list[dict[str, Any]]:
    """The moves a kit reported, oldest first."""
    k = kit_moves.c
    with engine.connect() as conn:
        if (
            conn.execute(select(db.stations.c.id).where(db.stations.c.id == station_id)).scalar()
            is None
        ):
            raise InputError(f"--station: no station {station_id!r}")
        rows = conn.execute(
            select(kit_moves).where(k.station_id == station_id).order_by(k.moved_at)
        ).mappings()
        return [
            {
                "moved_at": iso(r["moved_at"]),
                "from": r["from_kecamatan"],
                "to": r["to_kecamatan"],
                "moved_by": r["moved_by"],
                "approved_by": r["approved_by"],
                "reason": r["reason"],
                "reported_at": iso(r["reported_at"]),
                "outcome": r["outcome"],
            }
            for r in rows
        ]
