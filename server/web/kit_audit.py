"""The kit detail page's "Audit kit": the kit's own audit events as it uploaded them to the
centre (issue 12: ``kit_audit``, server/audit_log.py), newest first.

This is the page's default ``KitAuditSource`` (server/web/kits.py). It reads the chain of
the kit's current key (a kit set up again starts a chain of its own; ``ektp-server audit
--station ID`` lists the earlier ones). A kit that has uploaded nothing gives None: the page
says so and invents nothing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from server import db
from server.kit_tables import kit_audit
from server.web.kits import KitAuditEvent

SHOWN = 200  # the newest events a page shows

# A move made on the kit with a supervisor's approval is audited with the actor
# "MOVER (approved by SUPERVISOR)" (app/store/station.py, ``move_kit``).
_APPROVED = re.compile(r"^(?P<actor>.+) \(approved by (?P<approver>.+)\)$")


def _time(at: str, received_at: float) -> float:
    """The kit's own time of the event (ISO 8601); the server's arrival time if unreadable."""
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return received_at
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _detail(text: str) -> str | None:
    """The event's detail as "key: value; ..." (the kit writes no personal data there)."""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict):
        parts = [f"{k}: {'–' if v is None else v}" for k, v in doc.items()]
        return "; ".join(parts) or None
    return None if doc is None else str(doc)


def uploaded_kit_audit(engine: Engine, station_id: str) -> list[KitAuditEvent] | None:
    """The newest ``SHOWN`` events of the kit's current chain held at the centre, newest
    first; None when the centre holds none for the kit."""
    a = kit_audit.c
    with engine.connect() as conn:
        key = conn.execute(
            select(db.stations.c.key_id).where(db.stations.c.id == station_id)
        ).scalar()
        rows = conn.execute(
            select(a.at, a.actor, a.kind, a.detail, a.received_at)
            .where(a.station_id == station_id, a.key_id == (key or ""))
            .order_by(a.seq.desc())
            .limit(SHOWN)
        ).all()
    if not rows:
        return None
    out = []
    for at, actor, kind, detail, received_at in rows:
        approved = _APPROVED.match(actor)
        out.append(
            KitAuditEvent(
                at=_time(at, received_at),
                actor=approved["actor"] if approved else actor,
                action=kind,
                detail=_detail(detail),
                approved_by=approved["approver"] if approved else None,
            )
        )
    return out
