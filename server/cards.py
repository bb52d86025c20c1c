"""Card checks at the kelurahan (issue 19): whose record is this e-KTP, and what became of it.

A station set up for card checks (``station add --verifier``, ``card_verifiers``) sends the
card's UID; the centre finds the record the card was linked to at recording (``card_links``,
written by the processor from the sealed ``card.json``), opens that record's packet for the
name and the photo, and answers only what the clerk needs to compare with the person at the
desk: the fate, the kecamatan and day of recording, the receipt number, the name, the photo,
and whether the office marked the card lost or replaced. Never the NIK, the address or the
rest of the biodata.

Every lookup is written to the office's audit (``office_audit``, action ``card_check``, the
station as target: the kit's page on the office site shows it) in the lookup's transaction;
the same rows rate-limit each station (``CHECKS_PER_MINUTE``), so every server process of a
cluster counts alike.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from app.cards import CARD_STATES, MARKS, NOT_PROCESSED
from app.domain import regions
from app.protocol import Reason
from app.store.fates import receipt_number
from app.store.operators import OperatorError, normalize_card_uid
from server import db
from server.card_tables import card_links, card_marks, card_verifiers
from server.core import InputError, ServerCore, ServiceError, Station, iso
from server.processing.checks import CARD_NAME, PHOTO_NAME, card_uid
from server.processing.tables import queue, records
from server.web.accounts import record as audit
from server.web.tables import audit as office_audit

CHECKS_PER_MINUTE = 30
ACTION = "card_check"
# Fates in the order a card's records are preferred: the record that holds the resident.
_RANK = {"processed": 0, "duplicate": 1, "rerecord": 2, "rejected": 3}


def check_uid(text: str, field: str = "uid") -> str:
    try:
        return normalize_card_uid(text)
    except OperatorError as exc:
        raise InputError(f"{field}: {exc.message}") from exc


# --- the office ---------------------------------------------------------------------------


def make_verifier(engine: Engine, station_id: str) -> None:
    """Mark a station (just added) as a card-check station."""
    with engine.begin() as conn:
        db.insert_ignore(conn, card_verifiers, {"station_id": station_id, "since": time.time()})


def is_verifier(conn: Connection, station_id: str) -> bool:
    c = card_verifiers.c
    return conn.execute(select(c.station_id).where(c.station_id == station_id)).first() is not None


def verifier_flag(engine: Engine, station_id: str) -> bool:
    """For the signed ``GET /station`` answer: the station learns it is a card-check station
    (app/sync/station.py), so it offers no recording."""
    with engine.connect() as conn:
        return is_verifier(conn, station_id)


def refuse_verifier(conn: Connection, origin: Station) -> None:
    """A card-check station's packets are refused (403 ``not_a_recorder``): it records nothing."""
    if is_verifier(conn, origin.id):
        raise ServiceError(
            403,
            f"station {origin.id} is a card-check station: it records nothing",
            Reason.NOT_A_RECORDER,
        )


def mark(engine: Engine, uid: str, status: str, by: str) -> dict[str, Any]:
    """``card mark UID lost|replaced`` (``clear`` removes the mark); audited."""
    uid = check_uid(uid, "UID")
    if status not in (*MARKS, "clear"):
        raise InputError(f"STATUS: one of {', '.join((*MARKS, 'clear'))}, got {status!r}")
    now = time.time()
    with engine.begin() as conn:
        conn.execute(card_marks.delete().where(card_marks.c.uid == uid))
        if status != "clear":
            conn.execute(
                card_marks.insert().values(uid=uid, status=status, marked_at=now, marked_by=by)
            )
        audit(conn, by, "card_mark", f"card:{uid}", status)
    return {"uid": uid, "card_status": "active" if status == "clear" else status, "at": iso(now)}


def lookups(
    engine: Engine, station_id: str | None = None, uid: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The audited card checks, newest first (who, which station, which card, what was found)."""
    a = office_audit.c
    stmt = select(office_audit).where(a.action == ACTION).order_by(a.id.desc()).limit(limit)
    if station_id is not None:
        stmt = stmt.where(a.target == station_id)
    if uid is not None:
        stmt = stmt.where(a.detail.like(f"card {check_uid(uid, '--uid')}:%"))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        {
            "at": iso(r["at"]),
            "operator": r["actor"],
            "station_id": r["target"],
            "detail": r["detail"],
        }
        for r in rows
    ]


# --- the check ----------------------------------------------------------------------------


def _linked(conn: Connection, uid: str) -> dict[str, Any] | None:
    """The record the card is linked to: the one holding the resident first, else the newest."""
    lc, rc = card_links.c, records.c
    rows = conn.execute(
        select(
            rc.station_id,
            rc.uuid,
            rc.kecamatan,
            rc.sealed_at,
            rc.fate,
            rc.reason,
            rc.superseded_by,
        )
        .join(records, (rc.station_id == lc.station_id) & (rc.uuid == lc.uuid))
        .where(lc.uid == uid)
    ).mappings()
    found = sorted(
        (dict(r) for r in rows),
        key=lambda r: (_RANK.get(r["fate"], 9), r["superseded_by"] is not None, r["sealed_at"]),
    )
    if not found:
        return None
    best = found[0]
    # Newest first within the best fate.
    same = [r for r in found if _RANK.get(r["fate"]) == _RANK.get(best["fate"])]
    return max(same, key=lambda r: (r["superseded_by"] is None, r["sealed_at"]))


def _pending(conn: Connection, station_id: str, uuid: str) -> bool:
    """Is this (superseding) record at the centre but not yet processed?"""
    qc = queue.c
    row = conn.execute(select(qc.uuid).where(qc.station_id == station_id, qc.uuid == uuid)).first()
    return row is not None


def check(core: ServerCore, station: Station, doc: dict[str, Any]) -> dict[str, Any]:
    """The answer to one card check by ``station`` (ServiceError 400/403/429 when refused)."""
    uid_text, operator = doc.get("uid"), doc.get("operator")
    if not isinstance(uid_text, str):
        raise ServiceError(400, "uid: expected the card's UID as hex", Reason.INVALID)
    if not isinstance(operator, str) or not operator.strip() or len(operator) > 64:
        raise ServiceError(400, "operator: expected who checks the card (1-64 characters)")
    try:
        uid = normalize_card_uid(uid_text)
    except OperatorError as exc:
        raise ServiceError(400, f"uid: {exc.message}", Reason.INVALID) from exc
    now = time.time()
    with core.engine.begin() as conn:
        if not is_verifier(conn, station.id):
            raise ServiceError(
                403,
                f"station {station.id} is a recording kit, not set up for card checks "
                "(ektp-server station add --verifier)",
                Reason.NOT_A_VERIFIER,
            )
        a = office_audit.c
        recent = conn.execute(
            select(func.count())
            .select_from(office_audit)
            .where(a.action == ACTION, a.target == station.id, a.at > now - 60)
        ).scalar_one()
        if recent >= CHECKS_PER_MINUTE:
            raise ServiceError(
                429,
                f"at most {CHECKS_PER_MINUTE} card checks a minute per station; wait a minute",
                Reason.RATE_LIMITED,
            )
        link = _linked(conn, uid)
        marked = conn.execute(
            select(card_marks.c.status, card_marks.c.marked_at).where(card_marks.c.uid == uid)
        ).first()
        pending = (
            link is not None
            and link["superseded_by"] is not None
            and _pending(conn, link["station_id"], link["superseded_by"])
        )
        answer: dict[str, Any] = {
            "uid": uid,
            "found": link is not None,
            "card_status": marked[0] if marked else "active",
            "card_marked_at": iso(marked[1]) if marked else None,
            "checked_at": iso(now),
        }
        assert answer["card_status"] in CARD_STATES
        if link is not None:
            kec = link["kecamatan"]
            answer.update(
                fate=NOT_PROCESSED if pending else link["fate"],
                reason=None if pending else link["reason"],
                record_number=receipt_number(link["uuid"]),
                kecamatan=kec,
                kecamatan_nama=region.name if (region := regions.get(kec)) else None,
                recorded_at=link["sealed_at"],
            )
        outcome = (
            f"{answer['fate']} {answer['record_number']}" if link is not None else "not linked"
        )
        if marked:
            outcome += f"; card marked {marked[0]}"
        audit(conn, operator.strip(), ACTION, station.id, f"card {uid}: {outcome}")
    if link is not None:
        answer.update(_person(core, link["station_id"], link["uuid"]))
    return answer


def _person(core: ServerCore, station_id: str, uuid: str) -> dict[str, Any]:
    """The name and the photo, from the sealed packet (opened in memory, never written)."""
    opened = core.open_packet(uuid, station_id)
    bio = opened.manifest.get("biodata") if isinstance(opened.manifest, dict) else None
    nama = bio.get("nama") if isinstance(bio, dict) else None
    photo = opened.attachments.get(PHOTO_NAME)
    return {
        "nama": nama if isinstance(nama, str) else None,
        "photo_jpeg_b64": base64.b64encode(photo.data).decode() if photo else None,
    }


# --- records processed before the card links ----------------------------------------------

BACKFILL_BATCH = 500


def backfill(core: ServerCore) -> dict[str, Any]:
    """Link the records processed before ``card_links`` existed (revision 0019) to their
    card: each processed record without a link has its packet opened (in memory, with the
    sealing key: why it is a command and not the migration) for the sealed ``card.json``.
    Idempotent: a record linked already is not opened again; one without a card is opened
    again by every run. A packet the centre no longer holds or cannot open is counted and
    named (first 20), never a reason to stop."""
    lc, rc = card_links.c, records.c
    unlinked = (
        select(rc.station_id, rc.uuid, rc.processed_at)
        .where(~select(lc.uid).where(lc.station_id == rc.station_id, lc.uuid == rc.uuid).exists())
        .order_by(rc.station_id, rc.uuid)
        .limit(BACKFILL_BATCH)
    )
    scanned = linked = no_card = 0
    unreadable: list[str] = []
    after: tuple[str, str] = ("", "")
    while True:
        with core.engine.connect() as conn:
            rows = conn.execute(
                unlinked.where(
                    (rc.station_id > after[0])
                    | ((rc.station_id == after[0]) & (rc.uuid > after[1]))
                )
            ).all()
        if not rows:
            break
        after = (rows[-1].station_id, rows[-1].uuid)
        found = []
        for row in rows:
            scanned += 1
            try:
                opened = core.open_packet(row.uuid, row.station_id)
            except Exception as exc:  # gone, damaged, a key retired and removed
                unreadable.append(f"{row.station_id}/{row.uuid}: {exc}")
                continue
            uid = card_uid(opened.attachments.get(CARD_NAME))
            if uid is None:
                no_card += 1
                continue
            found.append(
                {
                    "uid": uid,
                    "station_id": row.station_id,
                    "uuid": row.uuid,
                    "processed_at": row.processed_at,
                }
            )
        with core.engine.begin() as conn:
            for values in found:
                linked += db.insert_ignore(conn, card_links, values)
    return {
        "scanned": scanned,
        "linked": linked,
        "without_card": no_card,
        "unreadable": len(unreadable),
        "unreadable_first": unreadable[:20],
    }
