"""Card check at the kelurahan desk (issue 19): ``ektp-station card check`` and the
``Cek KTP-el`` screen run this.

A signed-in person checks a resident's e-KTP: the card's UID (given, or read from the reader)
goes to the centre in a signed request (``POST /api/v1/card/check``, app/cards.py); the
centre's signed answer says whether a record is linked to the card, its fate, where and when it
was recorded, its receipt number, the name and the photo. The answer lives in memory only, for
that check: nothing of it is written to the station's disk (no store row, no audit event, no
file); the centre audits the lookup.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from app.cards import CARD_CHECK_PATH, CARD_STATES, FATES
from app.errors import BadInput, Code, MachineFault, Refusal
from app.protocol import Reason
from app.store.db import Store
from app.store.operators import (
    MAX_PASSWORD_LEN,
    OperatorError,
    OperatorInfo,
    normalize_card_uid,
    verify_password,
)
from app.sync.engine import SyncEngine, SyncError, server_error

TIMEOUT = (3.05, 10.0)  # connect, read: a clerk waits at the desk
MAX_PHOTO = 2 * 1024 * 1024


@dataclass(frozen=True)
class CardCheck:
    """The centre's answer, checked. ``photo_jpeg`` is in memory only."""

    uid: str
    found: bool
    card_status: str  # active | lost | replaced
    card_marked_at: str | None
    checked_at: str
    fate: str | None = None  # processed | duplicate | rerecord | rejected | not_processed
    reason: str | None = None
    record_number: str | None = None
    kecamatan: str | None = None
    kecamatan_nama: str | None = None
    recorded_at: str | None = None
    nama: str | None = None
    photo_jpeg: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """``card check --json``: the answer without the photo's bytes (its size instead)."""
        return {
            "uid": self.uid,
            "found": self.found,
            "card_status": self.card_status,
            "card_marked_at": self.card_marked_at,
            "checked_at": self.checked_at,
            "fate": self.fate,
            "reason": self.reason,
            "record_number": self.record_number,
            "kecamatan": self.kecamatan,
            "kecamatan_nama": self.kecamatan_nama,
            "recorded_at": self.recorded_at,
            "nama": self.nama,
            "photo_bytes": len(self.photo_jpeg) if self.photo_jpeg is not None else None,
        }


def check_uid(text: str) -> str:
    """A UID as typed -> upper-case hex, or BadInput("uid")."""
    try:
        return normalize_card_uid(text)
    except OperatorError as exc:
        raise BadInput("uid", exc.message) from exc


def sign_in(store: Store, operator: str, password: str) -> OperatorInfo:
    """The person making the check, by password (a failure counts towards the lock, as at
    sign-in); BadInput for an empty name or password, the funnel's refusals otherwise."""
    if not operator.strip():
        raise BadInput("operator", "name the person checking the card", Code.USERNAME_EMPTY)
    if not password:
        raise BadInput("password", f"no password for {operator!r} on stdin", Code.PASSWORD_EMPTY)
    if len(password) > MAX_PASSWORD_LEN:
        raise BadInput("password", f"at most {MAX_PASSWORD_LEN} characters")
    return verify_password(store, operator, password)


def wait_for_card(timeout_s: float, cancel: threading.Event | None = None) -> str:
    """The UID of the card put on (or already on) a reader, within ``timeout_s``.

    Reads through the station's own PC/SC watcher (app.capture.card_watcher). MachineFault
    ``no-reader`` when there is no PC/SC service or reader, ``no-card-on-reader`` when no
    readable card came in time."""
    from app.capture.card_watcher import CardWatcher, EventKind, ReaderEvent
    from app.capture.reader import ReaderStatus

    found: list[str] = []
    trouble: list[str] = []
    done = threading.Event()

    def on_event(event: ReaderEvent) -> None:
        if event.kind == EventKind.INSERTED and event.card is not None:
            if event.card.uid_hex:
                found.append(event.card.uid_hex)
                done.set()
            else:
                trouble.append(event.card.message)
        elif event.kind == EventKind.STATUS and event.status != ReaderStatus.OK:
            trouble.append(event.message)

    watcher = CardWatcher(on_event, read_cards=True)
    watcher.start()
    try:
        step = 0.1
        waited = 0.0
        while not done.wait(step) and waited < timeout_s:
            waited += step
            if cancel is not None and cancel.is_set():
                break
    finally:
        watcher.stop()
    if found:
        return check_uid(found[0])
    last = trouble[-1].strip() if trouble else ""
    if watcher.status != ReaderStatus.OK:
        raise MachineFault(Code.NO_READER, last or "no card reader", subject="reader")
    raise MachineFault(
        Code.NO_KTP_ON_READER,
        f"no readable card on the reader within {timeout_s:g} s" + (f" ({last})" if last else ""),
        subject="card",
    )


def _engine(store: Store) -> SyncEngine:
    from app.sync.station import NotProvisioned, StationSync

    try:
        sync = StationSync(store, timeout=TIMEOUT)
        sync.ensure_server_key()
    except NotProvisioned as exc:
        raise BadInput("station", str(exc), Code.NOT_PROVISIONED) from exc
    except SyncError as exc:
        raise MachineFault(Code.CENTRE_OFFLINE, exc.message, subject="server") from exc
    return sync.engine


def ask_centre(store: Store, uid: str, operator: str) -> CardCheck:
    """One signed check of ``uid`` by ``operator`` (already signed in); the centre's answer.

    Refusals: ``not-a-verifier`` (a recording kit), ``station-revoked``, ``check-rate-limited``;
    MachineFault ``centre-offline`` when no signed answer came (offline, a proxy)."""
    uid = check_uid(uid)
    engine = _engine(store)
    body = json.dumps({"uid": uid, "operator": operator}).encode()
    try:
        resp = engine.request("POST", CARD_CHECK_PATH, body, "application/json", timeout=TIMEOUT)
        content = resp.content
    except requests.RequestException as exc:
        raise MachineFault(
            Code.CENTRE_OFFLINE,
            f"the centre did not answer ({exc.__class__.__name__})",
            subject="server",
        ) from exc
    status = resp.status_code
    shaped = server_error(resp)
    if status == 429 and shaped is not None:
        # Not signed (a man in the middle could provoke it): it only delays, it shows nothing.
        raise Refusal(Code.CHECK_RATE_LIMITED, shaped[0], shaped[1], field="server")
    if status >= 500 or (status >= 400 and shaped is None):
        detail = shaped[1] if shaped else f"HTTP {status} from something that is not the centre"
        raise MachineFault(Code.CENTRE_OFFLINE, detail, subject="server")
    try:
        engine.check_answer(CARD_CHECK_PATH, resp, content)
    except SyncError as exc:
        raise MachineFault(Code.CENTRE_OFFLINE, exc.message, subject="server") from exc
    if status >= 400:
        assert shaped is not None
        reason, detail = shaped
        if reason == Reason.NOT_A_VERIFIER:
            raise Refusal(Code.NOT_A_VERIFIER, reason, detail, field="station")
        if reason == Reason.REVOKED:
            raise Refusal(Code.STATION_REVOKED, reason, detail, field="station")
        if status == 400:
            raise BadInput("uid", detail)
        raise Refusal(Code.NOT_ALLOWED, reason, detail, field="server")
    try:
        doc = json.loads(content)
    except ValueError as exc:
        raise MachineFault(
            Code.CENTRE_OFFLINE, "the centre's answer is not JSON", subject="server"
        ) from exc
    return parse_answer(doc, uid)


def _text(doc: dict[str, Any], key: str, limit: int = 200) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(key)
    return value


def parse_answer(doc: Any, uid: str) -> CardCheck:
    """The answer, checked whole: for this card, fields of the expected kinds."""
    try:
        if not isinstance(doc, dict) or doc.get("uid") != uid:
            raise ValueError("uid")
        found = doc.get("found")
        if not isinstance(found, bool):
            raise ValueError("found")
        status = doc.get("card_status")
        if status not in CARD_STATES:
            raise ValueError("card_status")
        fate = _text(doc, "fate", 32)
        if found and fate not in FATES:
            raise ValueError("fate")
        photo_b64 = _text(doc, "photo_jpeg_b64", MAX_PHOTO * 4 // 3 + 4)
        photo = base64.b64decode(photo_b64, validate=True) if photo_b64 else None
        return CardCheck(
            uid=uid,
            found=found,
            card_status=str(status),
            card_marked_at=_text(doc, "card_marked_at", 40),
            checked_at=_text(doc, "checked_at", 40) or "",
            fate=fate if found else None,
            reason=_text(doc, "reason", 64),
            record_number=_text(doc, "record_number", 20),
            kecamatan=_text(doc, "kecamatan", 16),
            kecamatan_nama=_text(doc, "kecamatan_nama"),
            recorded_at=_text(doc, "recorded_at", 40),
            nama=_text(doc, "nama"),
            photo_jpeg=photo,
        )
    except (ValueError, binascii.Error) as exc:
        raise MachineFault(
            Code.CENTRE_OFFLINE,
            f"the centre's answer cannot be read ({exc})",
            subject="server",
        ) from exc


def check_card(
    store: Store,
    operator: str,
    password: str,
    *,
    uid: str | None = None,
    read_uid: Callable[[], str] | None = None,
) -> CardCheck:
    """The whole check as the command line runs it: sign the person in, take the UID (given,
    else ``read_uid()``: the reader), ask the centre. Nothing is written but the sign-in's
    own bookkeeping (failed attempts, as at the sign-in screen)."""
    given = check_uid(uid) if uid is not None else None
    person = sign_in(store, operator, password)
    if given is None:
        if read_uid is None:
            raise BadInput("uid", "give --uid or put the card on the reader")
        given = read_uid()
    return ask_centre(store, given, person.username)
