"""Policy, health, audit events and offline moves through a kecamatan relay (issue 12).

A kit behind a relay talks to the relay only: its health, audit events and moves land in the
relay's tables (the same requests as at the centre), and it takes its policy from the relay.
So the relay passes them on, in its pull of the central station state (server/relay.py,
``RelayPuller``):

- up, before the pull (``forward_up``): the moves its kits reported (first: the pull applies
  the central assignment, which must know the move), their latest health reports, and their
  audit events after the last one the centre acknowledged, each for a kit the centre knows as
  this relay's (``POST /api/v1/relay/kit/{moves|health|audit}``, signed by the relay; the
  centre checks the kit is one the relay vouched for and applies the same checks as to the kit
  itself);
- down, with the pull (``take_policies``): ``GET /relay/stations`` lists each kit's policy
  (``add_policies`` at the centre) and the relay makes it the kit's own (scope ``station``)
  policy here, which its kit receives with its assignment.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, select

from app import protocol
from app.protocol import Reason
from app.sync.engine import SyncEngine, SyncError
from server import db, policy
from server.core import ServerCore, ServiceError, Station, iso
from server.kit_tables import kit_audit, kit_health, kit_moves, kit_policy

log = logging.getLogger(__name__)

RELAY_KIT_PATH = protocol.API_PREFIX + "/relay/kit"
MOVES_UP_AT = "kit_moves_up_at"  # server_meta: reported_at of the last move passed on
HEALTH_UP_AT = "kit_health_up_at"  # ... of the last health report passed on
AUDIT_UP = "kit_audit_up:"  # + "station:key": the last audit event the centre acknowledged
AUDIT_PAGE_EVENTS = 200
AUDIT_PAGE_BYTES = 48 * 1024


# --- at the centre ----------------------------------------------------------------------------


def vouched_station(core: ServerCore, relay: Station, doc: Mapping[str, Any]) -> Station:
    """The kit a relay's report is about: one it vouched for, not revoked; else 403."""
    if not relay.is_relay:
        raise ServiceError(403, f"station {relay.id} is not a relay", Reason.NOT_A_RELAY)
    sid = doc.get("station_id")
    if not isinstance(sid, str) or not sid:
        raise ServiceError(400, "station_id: expected a string")
    st = core.find_station(sid)
    if st is None or st.vouched_by != relay.id:
        raise ServiceError(
            403,
            f"station {sid} is not registered here by relay {relay.id}",
            Reason.NOT_YOUR_STATION,
        )
    if st.revoked:
        raise ServiceError(403, f"station {sid} has been revoked", Reason.STATION_REVOKED)
    return st


def number(doc: Mapping[str, Any], name: str) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ServiceError(400, f"{name}: expected a number", Reason.BAD_REQUEST)
    return float(value)


def add_policies(core: ServerCore, doc: dict[str, Any]) -> dict[str, Any]:
    """The relay's station list with each kit's policy (what the kit would get here)."""
    with core.engine.connect() as conn:
        for entry in doc.get("stations", []):
            st = core.find_station(entry["station_id"], conn)
            if st is not None:
                entry["policy"] = policy.effective(conn, st)
    return doc


# --- at the relay -----------------------------------------------------------------------------


def take_policies(engine: Engine, entries: list[Any]) -> None:
    """Make each listed kit's central policy its own (station scope) policy here. An entry
    without ``policy`` (an upstream of an earlier release) changes nothing."""
    c = kit_policy.c
    now = time.time()
    with engine.begin() as conn:
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("policy"), dict):
                continue
            sid = entry.get("station_id")
            if not isinstance(sid, str):
                continue
            conn.execute(delete(kit_policy).where(c.scope == "station", c.target == sid))
            for key, value in entry["policy"].items():
                try:
                    canonical = policy.keys.check_value(key, value)
                except policy.keys.PolicyValueError as exc:
                    log.warning("upstream policy for station %s not taken: %s", sid, exc)
                    continue
                conn.execute(
                    kit_policy.insert().values(
                        scope="station",
                        target=sid,
                        key=key,
                        value=canonical,
                        set_at=now,
                        set_by="upstream",
                    )
                )


def _registered(core: ServerCore) -> set[str]:
    c = db.stations.c
    with core.engine.connect() as conn:
        return set(
            conn.execute(
                select(c.id).where(c.upstream_registered_at.is_not(None), c.revoked_at.is_(None))
            ).scalars()
        )


def _post(engine: SyncEngine, kind: str, doc: dict[str, Any]) -> Any:
    return engine.signed_json("POST", f"{RELAY_KIT_PATH}/{kind}", doc)


def forward_moves(core: ServerCore, engine: SyncEngine) -> int:
    """Pass on the moves reported here since the last pass; a network or server failure
    raises (the pull must not apply the central assignment over a move the centre lacks)."""
    since = float(core.meta_get(MOVES_UP_AT) or 0)
    k = kit_moves.c
    with core.engine.connect() as conn:
        rows = (
            conn.execute(select(kit_moves).where(k.reported_at > since).order_by(k.reported_at))
            .mappings()
            .all()
        )
    registered = _registered(core)
    by_station: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_station[r["station_id"]].append(r)
    sent = 0
    last = since
    for sid, moves in by_station.items():
        if sid in registered:
            body = {
                "station_id": sid,
                "moves": [
                    {
                        "moved_at": iso(m["moved_at"]),
                        "from": m["from_kecamatan"],
                        "to": m["to_kecamatan"],
                        "moved_by": m["moved_by"],
                        "approved_by": m["approved_by"],
                        "reason": m["reason"],
                    }
                    for m in moves
                ],
            }
            try:
                _post(engine, "moves", body)
                sent += len(moves)
            except SyncError as err:
                if err.kind in ("network", "server"):
                    raise
                log.warning("moves of station %s refused upstream: %s", sid, err.message)
        last = max([last, *(m["reported_at"] for m in moves)])
    if last > since:
        core.meta_set({MOVES_UP_AT: repr(last)})
    return sent


def forward_health(core: ServerCore, engine: SyncEngine) -> int:
    since = float(core.meta_get(HEALTH_UP_AT) or 0)
    h = kit_health.c
    with core.engine.connect() as conn:
        rows = (
            conn.execute(select(kit_health).where(h.reported_at > since).order_by(h.reported_at))
            .mappings()
            .all()
        )
    registered = _registered(core)
    sent = 0
    for r in rows:
        if r["station_id"] in registered:
            _post(
                engine,
                "health",
                {
                    "station_id": r["station_id"],
                    "report": json.loads(r["report"]),
                    "reported_at": r["reported_at"],
                    "clock_offset_s": r["clock_offset_s"],
                },
            )
            sent += 1
        core.meta_set({HEALTH_UP_AT: repr(r["reported_at"])})
    return sent


def forward_audit(core: ServerCore, engine: SyncEngine) -> int:
    a = kit_audit.c
    sent = 0
    for sid in sorted(_registered(core)):
        chain = core.get_station(sid).key_id or ""
        mark = f"{AUDIT_UP}{sid}:{chain}"
        while True:
            after = int(core.meta_get(mark) or 0)
            with core.engine.connect() as conn:
                rows = (
                    conn.execute(
                        select(kit_audit)
                        .where(a.station_id == sid, a.key_id == chain, a.seq > after)
                        .order_by(a.seq)
                        .limit(AUDIT_PAGE_EVENTS)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                break
            events: list[dict[str, Any]] = []
            size = 0
            for r in rows:
                ev = {
                    k: r[k] for k in ("seq", "at", "actor", "kind", "detail", "prev_hash", "hash")
                }
                size += len(json.dumps(ev).encode())
                if events and size > AUDIT_PAGE_BYTES:
                    break
                events.append(ev)
            answer = _post(engine, "audit", {"station_id": sid, "events": events})
            acked = int(answer.get("acked_seq") or 0)
            if acked <= after:
                break
            core.meta_set({mark: str(acked)})
            sent += len(events)
    return sent


def forward_up(core: ServerCore, engine: SyncEngine) -> None:
    """Everything the relay's kits reported, before the pull: moves (a failure stops the
    pull), then health and audit events (a failure is logged; the next pull tries again)."""
    forward_moves(core, engine)
    for step in (forward_health, forward_audit):
        try:
            step(core, engine)
        except SyncError as err:
            log.warning("relay: %s upstream: %s", step.__name__, err.message)
