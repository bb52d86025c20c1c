"""What the centre made of each record (issue 12): applied from the centre's fate sequence.

The centre (directly or through a relay) answers the station's fates in one sequence, 1, 2,
3, ... (app/fates.py). ``apply_page`` applies a checked page in ONE write transaction,
or nothing: a page that does not continue the sequence applied here, or that names a record
this station does not hold, is refused whole (``FateRefused``) and the refusal is kept for
``status`` (``record_refusal``).

Transitions are one way: no fate -> ``received`` -> one terminal fate (processed, duplicate,
rerecord, rejected). A fate that would go back (``received`` after ``processed``) or sideways
(a second terminal fate) changes nothing: applying a page twice is harmless.

The centre's ``received`` is what ends a payload's wait for its purge (``Outbox.purge``): a
relay's receipt marks a record uploaded, but until the centre holds it the relay may hold the
only copy. Nothing here is personal data: uuids, fate words, reason codes, times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.fates import FATES, NEEDS_ACTION, RECEIVED, TERMINAL, FateEntry, entry_of
from app.store.db import Store
from app.store.errors import StoreError
from app.store.models import FateCursor, Record, RecordFate
from app.store.timeutil import utcnow

MAX_ERROR_LEN = 500
_FATE = cast(Table, RecordFate.__table__)
# One statement for a page (executemany): a record's fate row is made or replaced.
_SET_FATE = (
    sqlite_insert(_FATE)
    .values(
        uuid=bindparam("b_uuid"),
        fate=bindparam("b_fate"),
        fate_reason=bindparam("b_reason"),
        fate_at=bindparam("b_at"),
        duplicate_of=bindparam("b_dup"),
    )
    .on_conflict_do_update(
        index_elements=[_FATE.c.uuid],
        set_={
            "fate": bindparam("b_fate"),
            "fate_reason": bindparam("b_reason"),
            "fate_at": bindparam("b_at"),
            "duplicate_of": bindparam("b_dup"),
        },
    )
)


class FateRefused(StoreError):
    """A page of fates that cannot be applied whole; nothing was applied."""


class FateCursorMoved(FateRefused):
    """Another pull (the GUI's worker and a technician's ``sync --once`` at once) applied
    fates meanwhile: the page is stale, not wrong; ask again from the new place."""


class FateActionError(StoreError):
    """A supervisor's action on a record's fate that does not apply (unknown, not asked)."""


@dataclass(frozen=True)
class Applied:
    applied: int  # fates that changed a record
    unchanged: int  # repeats and fates that would go back
    last_seq: int


@dataclass(frozen=True)
class FateEntryView:
    """One record whose fate asks something (``fates --json``, the re-record list)."""

    uuid: str
    number: str  # the receipt's number (the resident holds it)
    fate: str
    reason: str | None
    sealed_at: datetime
    fate_at: datetime | None
    duplicate_of: str | None
    contacted_at: datetime | None
    contacted_by: str | None
    rerecorded_by: str | None  # a later record of this station sealed as its re-recording


def receipt_number(uuid: str) -> str:
    """The short number printed on the receipt for people to read out (its last 12 hex
    digits in three groups); the full uuid is printed beside it."""
    tail = uuid.replace("-", "").upper()[-12:]
    return f"{tail[0:4]}-{tail[4:8]}-{tail[8:12]}"


def _rank(fate: str | None) -> int:
    if fate is None:
        return 0
    return 1 if fate == RECEIVED else 2


def _promoted(held: str | None, fate: str) -> bool:
    """The one terminal fate that follows another: a duplicate that became the resident's
    record at the centre (the record it duplicated was withdrawn: server/processing/
    withdraw.py)."""
    return held == "duplicate" and fate == "processed"


def _cursor(s: Any) -> FateCursor:
    cur = s.get(FateCursor, 1)
    if cur is None:
        cur = FateCursor(id=1, last_seq=0)
        s.add(cur)
        s.flush()
    return cur


def last_seq(store: Store) -> int:
    with store.read() as s:
        cur = s.get(FateCursor, 1)
        return 0 if cur is None else int(cur.last_seq)


def apply_page(store: Store, after: int, entries: Sequence[Any]) -> Applied:
    """Apply a page of fates continuing ``after`` (checked again here: the sequence, each
    entry, every record known); all or nothing."""
    from app.store.audit import record_event

    parsed: list[FateEntry] = []
    for n, e in enumerate(entries):
        try:
            parsed.append(entry_of(e, after + 1 + n))
        except ValueError as exc:
            raise FateRefused(str(exc)) from exc
    with store.write() as s:
        cur = _cursor(s)
        if cur.last_seq != after:
            raise FateCursorMoved(
                f"the page continues fate {after}, this station has applied up to {cur.last_seq}"
            )
        if not parsed:
            cur.pulled_at = utcnow()
            return Applied(0, 0, after)
        uuids = sorted({f.uuid for f in parsed})
        held = set(s.execute(select(Record.uuid).where(Record.uuid.in_(uuids))).scalars())
        unknown = [f for f in parsed if f.uuid not in held]
        if unknown:
            first = unknown[0]
            raise FateRefused(
                f"fate {first.seq} names record {first.uuid}, which this station does not hold"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            )
        current: dict[str, str | None] = dict.fromkeys(uuids)
        current.update(
            s.execute(
                select(RecordFate.uuid, RecordFate.fate).where(RecordFate.uuid.in_(uuids))
            ).all()
        )
        applied = unchanged = 0
        changed: dict[str, FateEntry] = {}
        for f in parsed:
            if _rank(f.fate) > _rank(current[f.uuid]) or _promoted(current[f.uuid], f.fate):
                current[f.uuid] = f.fate
                changed[f.uuid] = f
                applied += 1
            else:
                unchanged += 1
        if changed:
            # One statement executed for the page (executemany), not one per fate.
            s.execute(
                _SET_FATE,
                [
                    {
                        "b_uuid": f.uuid,
                        "b_fate": f.fate,
                        "b_reason": f.reason,
                        "b_at": f.at,
                        "b_dup": f.duplicate_of,
                    }
                    for f in changed.values()
                ],
            )
        cur.last_seq = after + len(parsed)
        cur.pulled_at = utcnow()
        cur.error = None
        cur.error_at = None
        terminal = {f.uuid: f.fate for f in changed.values() if f.fate in TERMINAL}
        if terminal:
            by_fate: dict[str, int] = {}
            for fate in terminal.values():
                by_fate[fate] = by_fate.get(fate, 0) + 1
            record_event(
                s,
                "sync",
                "fates.applied",
                {"from_seq": after + 1, "to_seq": cur.last_seq, "fates": by_fate},
            )
        return Applied(applied, unchanged, int(cur.last_seq))


def record_refusal(store: Store, message: str) -> None:
    """Keep why the last page was refused (``status``); the cursor does not move."""
    with store.write() as s:
        cur = _cursor(s)
        cur.error = message[:MAX_ERROR_LEN]
        cur.error_at = utcnow()


def counts(store: Store) -> dict[str, int]:
    """Records by fate (``status --json`` "fates"); records with no fate yet are left out."""
    with store.read() as s:
        rows = s.execute(select(RecordFate.fate, func.count()).group_by(RecordFate.fate)).all()
    out = dict.fromkeys(FATES, 0)
    out.update({str(f): int(n) for f, n in rows if f in out})
    return out


def summary(store: Store) -> dict[str, Any]:
    """``status --json`` "fates": counts by fate, what needs action, the sequence's state."""
    from app.store.timeutil import iso

    doc: dict[str, Any] = dict(counts(store))
    with store.read() as s:
        cur = s.get(FateCursor, 1)
    doc["needs_action"] = len(needs_action(store, open_only=True))
    doc["last_seq"] = 0 if cur is None else int(cur.last_seq)
    doc["pulled_at"] = None if cur is None or cur.pulled_at is None else iso(cur.pulled_at)
    doc["error"] = None if cur is None else cur.error
    return doc


def needs_action(
    store: Store, *, open_only: bool = False, fates: Sequence[str] = NEEDS_ACTION
) -> list[FateEntryView]:
    """Records whose fate asks something of the office (rerecord, rejected), oldest first.

    ``open_only``: leave out those already re-recorded (a later record names it in
    ``rerecord_of``) or whose resident was contacted."""
    with store.read() as s:
        rows = s.execute(
            select(
                Record.uuid,
                RecordFate.fate,
                RecordFate.fate_reason,
                Record.sealed_at,
                RecordFate.fate_at,
                RecordFate.duplicate_of,
                RecordFate.contacted_at,
                RecordFate.contacted_by,
            )
            .join(RecordFate, RecordFate.uuid == Record.uuid)
            .where(RecordFate.fate.in_(list(fates)))
            .order_by(Record.seq)
        ).all()
        by = dict(
            s.execute(
                select(Record.rerecord_of, Record.uuid).where(
                    Record.rerecord_of.in_([r.uuid for r in rows])
                )
            ).all()
        )
    out = [
        FateEntryView(
            r.uuid,
            receipt_number(r.uuid),
            r.fate,
            r.fate_reason,
            r.sealed_at,
            r.fate_at,
            r.duplicate_of,
            r.contacted_at,
            r.contacted_by,
            by.get(r.uuid),
        )
        for r in rows
    ]
    if open_only:
        out = [e for e in out if e.rerecorded_by is None and e.contacted_at is None]
    return out


def mark_contacted(store: Store, uuid: str, actor: str) -> datetime:
    """A supervisor marks "warga sudah dihubungi" for a record the centre asks to be
    recorded again (audited). Returns when; FateActionError when it does not apply."""
    from app.store.audit import record_event

    with store.write() as s:
        rec = s.get(RecordFate, uuid)
        if rec is None:
            known = s.execute(select(Record.uuid).where(Record.uuid == uuid)).first()
            if known is None:
                raise FateActionError(f"no record {uuid}")
            raise FateActionError(f"record {uuid} is not yet judged: nothing to do")
        if rec.fate not in NEEDS_ACTION:
            raise FateActionError(f"record {uuid} is {rec.fate}: nothing to do")
        if rec.contacted_at is not None:
            return rec.contacted_at
        now = utcnow()
        rec.contacted_at = now
        rec.contacted_by = actor[:64]
        record_event(s, actor, "record.resident_contacted", {"uuid": uuid, "fate": rec.fate})
        return now


def check_rerecord_of(store: Store, uuid: str) -> None:
    """A new record may re-record ``uuid`` only when the centre asked for it (rerecord or
    duplicate); FateActionError otherwise."""
    with store.read() as s:
        known = s.execute(select(Record.uuid).where(Record.uuid == uuid)).first()
        fate = s.execute(select(RecordFate.fate).where(RecordFate.uuid == uuid)).scalar()
    if known is None:
        raise FateActionError(f"rerecord_of: no record {uuid} on this station")
    if fate not in ("rerecord", "duplicate"):
        raise FateActionError(
            f"rerecord_of: record {uuid} is {fate or 'not yet judged'}, not to be recorded again"
        )
