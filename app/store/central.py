"""What the centre tells the kit and what the kit keeps of it (issue 12), in the store.

- The policy: the limits the central office set for this kit, received with its assignment
  (app/sync/policy.py). Kept in the ``setting`` table as ``central.<key>`` rows, so every
  reader of the settings (the seal path's raw cursor too) sees them: a central value
  overrides the local one (app/store/settings.py), and ``settings set`` refuses a key the
  centre sets. A key the centre does not set keeps the local value or the default.
- The audit acknowledgement: the last event of this kit's chain the centre holds
  (app/sync/audit_upload.py); ``doctor`` checks the local chain still has it.
- Moves made offline with a supervisor's approval, until reported upstream
  (app/sync/moves.py).
- The station's role: a card-check station (``ektp-server station add --verifier``, issue
  19) is told so in the signed assignment answer (``"verifier": true``) and keeps it as the
  ``centre.verifier`` row of the ``setting`` table (not a setting: ``settings set`` does not
  know it). Such a station records nothing: ``enroll`` refuses before sealing, the app hides
  Perekaman baru.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import policy as keys
from app.store.audit import record_event
from app.store.db import Store
from app.store.errors import NotInitialized
from app.store.models import Assignment, AuditEvent, Setting, Station
from app.store.timeutil import utcnow

PREFIX = "central."


def central_policy(store: Store) -> dict[str, str]:
    """key -> value the centre set for this kit (only the keys it set)."""
    with store.read() as session:
        rows = session.execute(
            select(Setting.key, Setting.value).where(Setting.key.like(PREFIX + "%"))
        ).all()
    return {k[len(PREFIX) :]: v for k, v in rows}


def store_policy(store: Store, received: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Make ``received`` (the answer's ``policy``) the central policy: keys it no longer
    holds go back to the local value. A value this station cannot take (an unknown key, out
    of its range) is left out and named in the second result. Audited when it changes.
    Returns (the policy now in force, the problems)."""
    accepted: dict[str, str] = {}
    problems: list[str] = []
    for key, value in sorted(received.items()):
        try:
            accepted[key] = keys.check_value(key, value)
        except keys.PolicyValueError as exc:
            problems.append(str(exc))
    with store.write() as session:
        held = dict(
            session.execute(
                select(Setting.key, Setting.value).where(Setting.key.like(PREFIX + "%"))
            ).all()
        )
        wanted = {PREFIX + k: v for k, v in accepted.items()}
        if held != wanted:
            session.execute(delete(Setting).where(Setting.key.like(PREFIX + "%")))
            for k, v in wanted.items():
                session.add(Setting(key=k, value=v))
            record_event(
                session,
                "server",
                "policy.applied",
                {"policy": accepted, "refused": problems},
            )
    return accepted, problems


def policy_view(store: Store) -> dict[str, dict[str, Any]]:
    """For ``status``: each policy key's value in force and where it comes from (central,
    local or default)."""
    from app.store.settings import Settings, load_settings

    with store.read() as session:
        rows = dict(session.execute(select(Setting.key, Setting.value)).all())
    effective = load_settings(store)
    default = Settings()
    out = {}
    for key in keys.KEYS:
        source = "central" if PREFIX + key in rows else "local" if key in rows else "default"
        value = getattr(effective, key, getattr(default, key, None))
        out[key] = {"value": value, "source": source}
    return out


# --- the station's role ------------------------------------------------------------------------

VERIFIER_KEY = "centre.verifier"


def is_card_check_station(target: Store | Session) -> bool:
    """The centre said this station is a card-check station (it records nothing)."""
    if isinstance(target, Store):
        with target.read() as session:
            return is_card_check_station(session)
    row = target.get(Setting, VERIFIER_KEY)
    return row is not None and row.value == "yes"


def store_verifier(store: Store, verifier: bool) -> bool:
    """Keep what the centre said of this station's role; audited when it changes. Returns
    whether it changed."""
    with store.write() as session:
        row = session.get(Setting, VERIFIER_KEY)
        held = row is not None and row.value == "yes"
        if held == verifier:
            return False
        if verifier:
            if row is None:
                session.add(Setting(key=VERIFIER_KEY, value="yes"))
            else:
                row.value = "yes"
        elif row is not None:
            session.delete(row)
        record_event(session, "server", "station.role", {"verifier": verifier})
    return True


# --- audit acknowledgement --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditAck:
    event_id: int
    hash: str
    at: datetime | None


def audit_ack(store: Store) -> AuditAck | None:
    with store.read() as session:
        st = session.get(Station, 1)
        if st is None or st.audit_acked_id is None or st.audit_acked_hash is None:
            return None
        return AuditAck(st.audit_acked_id, st.audit_acked_hash, st.audit_acked_at)


def set_audit_ack(store: Store, event_id: int, digest: str) -> None:
    """The centre holds the chain up to ``event_id`` (whose hash is ``digest``)."""
    now = utcnow()
    with store.write() as session:
        st = session.get(Station, 1)
        if st is None:
            raise NotInitialized()
        st.audit_acked_id = event_id
        st.audit_acked_hash = digest
        st.audit_acked_at = now
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id <= event_id, AuditEvent.synced_at.is_(None))
            .values(synced_at=now)
        )


def events_after(store: Store, event_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` audit events after ``event_id``, as uploaded (``at`` as hashed)."""
    from app.store.timeutil import iso

    with store.read() as session:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id).limit(limit)
        ).scalars()
        return [
            {
                "seq": ev.id,
                "at": iso(ev.at),
                "actor": ev.actor,
                "kind": ev.kind,
                "detail": ev.detail,
                "prev_hash": ev.prev_hash,
                "hash": ev.hash,
            }
            for ev in rows
        ]


def check_ack(store: Store) -> tuple[bool, str]:
    """Does the local chain still hold the event the centre acknowledged, unchanged?
    (ok, message). A chain edited and re-hashed on the kit verifies on its own; this is
    what tells it apart."""
    ack = audit_ack(store)
    if ack is None:
        return True, "no audit event acknowledged by the centre yet"
    with store.read() as session:
        held = session.execute(
            select(AuditEvent.hash).where(AuditEvent.id == ack.event_id)
        ).scalar()
    if held is None:
        return False, (
            f"audit event {ack.event_id}, which the centre acknowledged, is missing from the "
            "local chain"
        )
    if held != ack.hash:
        return False, (
            f"audit event {ack.event_id} differs from the one the centre acknowledged: the "
            "local chain was changed and re-hashed"
        )
    return True, f"the centre holds the chain up to event {ack.event_id}"


# --- moves made offline -----------------------------------------------------------------------


def unreported_moves(store: Store) -> list[Assignment]:
    """Moves made offline (approved by a supervisor) not yet reported upstream, oldest first."""
    with store.read() as session:
        rows = session.execute(
            select(Assignment)
            .where(Assignment.approved_by.is_not(None), Assignment.reported_at.is_(None))
            .order_by(Assignment.id)
        ).scalars()
        return list(rows)


def previous_kecamatan(store: Store, assignment_id: int) -> str | None:
    with store.read() as session:
        return session.execute(
            select(Assignment.kecamatan)
            .where(Assignment.id < assignment_id)
            .order_by(Assignment.id.desc())
            .limit(1)
        ).scalar()


def mark_move_reported(store: Store, assignment_id: int, outcome: str) -> None:
    with store.write() as session:
        row = session.get(Assignment, assignment_id)
        if row is None:
            return
        row.reported_at = utcnow()
        row.central_outcome = outcome
        record_event(
            session,
            "sync",
            "station.move_reported",
            {"kecamatan": row.kecamatan, "outcome": outcome},
        )


def current_assignment(store: Store) -> dict[str, Any] | None:
    """The assignment in force, for ``status``: where it came from and, for a move made
    offline, who approved it and whether the centre has it."""
    from app.store.timeutil import iso

    with store.read() as session:
        row = session.execute(
            select(Assignment)
            .where(Assignment.to_at.is_(None))
            .order_by(Assignment.id.desc())
            .limit(1)
        ).scalar()
        if row is None:
            return None
        return {
            "kecamatan": row.kecamatan,
            "since": iso(row.from_at),
            "set_by": row.set_by,
            "reason": row.reason,
            "approved_by": row.approved_by,
            "source": "offline_move"
            if row.approved_by
            else ("central" if row.set_by == "server" else "local"),
            "reported_at": None if row.reported_at is None else iso(row.reported_at),
            "central_outcome": row.central_outcome,
        }


def centre_status(store: Store) -> dict[str, Any]:
    """The ``status`` keys of issue 12: ``policy``, ``assignment`` and ``audit``; and of
    issue 19: ``card_check_station`` (the centre set this station up for card checks)."""
    from app.store.timeutil import iso

    ack = audit_ack(store)
    return {
        "policy": policy_view(store),
        "assignment": current_assignment(store),
        "audit": {
            "acked_event": None if ack is None else ack.event_id,
            "acked_at": None if ack is None or ack.at is None else iso(ack.at),
        },
        "card_check_station": is_card_check_station(store),
    }
